import * as z from 'zod';
import { Hop3Error } from '../errors.js';
import { formatIssues } from '../validation.js';
import { expandReferences } from './env-references.js';
import { Hop3TomlSchema, readToml, type EnvGenerate, type Hop3Toml } from './hop3-toml.js';

/**
 * hop3.toml normalised once, by area: every builder, toolchain and the manifest merge read these,
 * never the file's raw keys. Defaults and precedence between keys live here and nowhere else.
 */
export interface AppSettings {
  /** The hop3.toml they come from, relative to the app dir; undefined when the app has none (all defaults). */
  file: string | undefined;
  build: BuildSettings;
  run: RunSettings;
  health: HealthSettings;
  /** URL prefix -> folder: `[static]` when non-empty, else `[run] static`; undefined when neither says. */
  static: { mounts: Record<string, string>; key: '[static]' | '[run] static' } | undefined;
  /**
   * `[env]` as strings: plain values stringified, then `[env.computed]` with references to `[env]` values
   * substituted (env-references.ts; the others are expanded at run time, against the worker's variables).
   */
  env: Record<string, string>;
  /** `[env] NAME = { generate = ... }`: made once per app when it first runs, kept in its state, never in the artifact. */
  generatedEnv: Record<string, EnvGenerate>;
  /** `[source]` hop3 fetches before building (a tarball or directory: file://, a path, http(s)); undefined otherwise. */
  source: SourceSettings | undefined;
  docker: DockerSettings;
  nix: NixSettings;
  /** `[deploy] target`: where the artifact runs by default; checked when it runs. */
  deploy: { target: string | undefined };
  /** Hop3's sections that describe the app or the platform around it; hop3 reads them but does not act on them. */
  about: AboutSettings;
  /** Keys declared that hop3 understands but does not act on yet, as `[healthcheck] retries`; see NOT_ACTED_ON. */
  notActedOn: string[];
}

export interface BuildSettings {
  /** `[build] builder`, else `[app] builder` (Hop3's older spelling); undefined for auto (the local builder). */
  builder: { name: string; key: '[build] builder' | '[app] builder' } | undefined;
  toolchain: string | undefined;
  staticDir: string | undefined;
  /** Undefined when not declared: the Procfile's prebuild hook applies then. */
  beforeBuild: string[] | undefined;
  build: string[];
  /** Undefined when not declared: the Procfile's postbuild hook applies then. */
  afterBuild: string[] | undefined;
  /** Dockerignore patterns left out of the source. */
  ignore: string[];
  /** `[build] secrets`: build secret ids, each read from the environment variable of the same name. */
  secrets: string[];
  /** `[build] packages`: system packages the build needs. */
  packages: string[];
  /** `[build] ca-bundle`: extra CAs for the build's connections (network-profile.ts resolves it against the app dir). */
  caBundle: string | undefined;
  /** `[build] proxy`: the build's HTTP(S) proxy. */
  proxy: string | undefined;
}

export interface SourceSettings {
  /** As written, `${upstream_version}` substituted: `file:///...`, a path (relative to the app dir), or `http(s)://...`. */
  url: string;
}

export interface RunSettings {
  /** `start` (a list joined with ` && `) as the `web` worker, then `[run.workers]`, applied last as in Hop3. */
  workers: Record<string, string>;
  /** Undefined when not declared: the Procfile's prerun hook applies then. */
  beforeRun: string[] | undefined;
  /** How releases run: recorded in the artifact (metadata.release_policy) for the run side. */
  policy: { keep_releases?: number; max_restarts?: number; restart_window?: number; drain?: number; replicas?: number };
  /** `[run] user`: who the process deployer runs the app as; undefined: hop3's own user. */
  user: string | undefined;
  /** `[run] packages`: system packages the app needs to run. */
  packages: string[];
  /** `[run] start-timeout`: seconds the app may take to start answering HTTP; undefined: the health check timeout covers it. */
  startTimeout: number | undefined;
  /**
   * The port the web worker listens on inside a container (`[port] web`, else `[web] port`, else `[docker] port`):
   * the container target maps the app's port to it and passes it as PORT; processes keep hop3's PORT.
   */
  webPort: { port: number; key: '[port] web' | '[web] port' | '[docker] port' } | undefined;
}

export interface HealthSettings {
  /** `[healthcheck] path`, else `[run] healthcheck`. */
  path: string | undefined;
  /** Seconds: `[run] healthcheck-timeout`, else `[healthcheck] timeout`. */
  timeout: number | undefined;
  /** `[healthcheck] contains/interval/retries`, recorded in the artifact (metadata.healthcheck) for readiness. */
  probe: { contains?: string; interval?: number; retries?: number };
}

export interface DockerSettings {
  baseImage: string | undefined;
  buildImage: string | undefined;
  /** The app's own Dockerfile, relative to the app dir. */
  dockerfile: string | undefined;
  target: string | undefined;
  buildArgs: Record<string, string>;
  /** Container limits, for the container deployer. */
  memoryBytes: number | undefined;
  cpus: number | undefined;
}

export interface NixSettings {
  attr: string | undefined;
  template: string | undefined;
  /** Replaces nix.conf's substituters when set; `[]` builds offline. */
  substituters: string[] | undefined;
  overrideInputs: Record<string, string>;
  /** Other `[nix]` keys (Hop3's templates have their own); the nix builder refuses them. */
  otherKeys: string[];
}

export interface AboutSettings {
  metadata: NonNullable<Hop3Toml['metadata']>;
  /** `[app] name`. */
  name: string | undefined;
  source: Hop3Toml['source'];
  /** `[[addons]]` then `[[provider]]` (Hop3's older name for them). */
  addons: NonNullable<Hop3Toml['addons']>;
  /** `[port]` entries, with `[web] port` as `web` when `[port]` has none. */
  ports: NonNullable<Hop3Toml['port']>;
  domains: string[];
  resources: Hop3Toml['resources'];
  storage: Hop3Toml['storage'];
  integration: Hop3Toml['integration'];
  backup: Hop3Toml['backup'];
}

/** A key hop3 reads but does not act on yet, and what Hop3 does with it (for the build warning, and plans later). */
export interface UnactedKey {
  /** As written in hop3.toml, e.g. `[healthcheck] retries`. */
  key: string;
  /** What Hop3 does with it. */
  hop3: string;
  /** How it shows in this file: one label per declaration (one per addon, say), none when absent. */
  declared(toml: Hop3Toml): string[];
}

const unactedKey = <S extends keyof Hop3Toml>(section: S, name: string, hop3: string): UnactedKey => ({
  key: `[${section}] ${name}`,
  hop3,
  declared: (toml) => ((toml[section] as Record<string, unknown> | undefined)?.[name] !== undefined ? [`[${section}] ${name}`] : []),
});
const unactedSection = (section: keyof Hop3Toml, hop3: string): UnactedKey => ({
  key: `[${section}]`,
  hop3,
  declared: (toml) => (toml[section] !== undefined ? [`[${section}]`] : []),
});
const unactedEntries = (key: string, hop3: string, labels: (toml: Hop3Toml) => string[]): UnactedKey => ({ key, hop3, declared: labels });

/** Variables hop3 sets itself for every worker: refused in `[env]` rather than silently overridden. */
export const SET_BY_HOP3: Readonly<Record<string, string>> = {
  PATH: 'hop3 builds PATH for each worker: the toolchain\'s bin folders (path_prepend, e.g. .venv/bin) before the host\'s PATH; call other tools by absolute path or extend PATH in a start script.',
  PORT: 'hop3 gives the web worker its PORT (--port, else the app\'s stable port): have the app read $PORT.',
  APP: 'hop3 sets APP to the app\'s name for every worker.',
  PROC_TYPE: 'hop3 sets PROC_TYPE to the worker\'s name.',
};
/** Variables the process deployer points at the app's writable data dir (containers keep the app's value). */
const SET_BY_PROCESS_DEPLOYER = ['HOME', 'TMPDIR', 'HOP3_DATA_DIR'];
/** Every variable a worker gets from hop3 whatever the app says: `[env]` values may refer to them ($PORT). */
export const WORKER_VARIABLES: readonly string[] = [...Object.keys(SET_BY_HOP3), 'BIND_ADDRESS', ...SET_BY_PROCESS_DEPLOYER];

/** Everything hop3 understands in hop3.toml but does not act on yet. `[metadata]` is not here: it only describes the app. */
export const NOT_ACTED_ON: readonly UnactedKey[] = [
  unactedKey('app', 'name', 'names the app (hop3 takes --name, else the directory name)'),
  unactedKey('build', 'test', 'runs these commands as a smoke test after the build'),
  unactedKey('build', 'node-version', 'installs this Node.js version for the app'),
  unactedKey('build', 'pip-install', 'pip-installs these extra packages'),
  unactedKey('docker', 'runtime', 'runs the app with docker or docker-compose'),
  unactedEntries('[port] <name>', 'maps these other ports (hop3 acts on [port] web only)', (toml) =>
    Object.keys(toml.port ?? {})
      .filter((name) => name !== 'web')
      .map((name) => `[port] ${name}`),
  ),
  unactedEntries('[source] type = "pypi" | "git"', 'fetches the upstream code from PyPI or git (hop3 fetches tarballs and directories only)', (toml) =>
    toml.source?.type === 'pypi' || toml.source?.type === 'git' ? [`[source] type = "${toml.source.type}"`] : [],
  ),
  unactedEntries('[source.<language>]', 'pins the language version the app is built with', (toml) => {
    const { type: _type, url: _url, package: _pkg, version: _version, tag: _tag, ...languages } = toml.source ?? {};
    return Object.keys(languages).map((language) => `[source.${language}]`);
  }),
  unactedEntries('[[addons]] <type>', 'provisions these services (databases, caches) and injects their credentials', (toml) => [
    ...(toml.addons ?? []).map((addon) => `[[addons]] ${addon.type ?? addon.name}`),
    ...(toml.provider ?? []).map((addon) => `[[provider]] ${addon.type ?? addon.name}`),
  ]),
  unactedSection('domains', 'binds these hostnames (HOST_NAME)'),
  unactedKey('resources', 'memory', 'limits the app\'s memory (hop3: [docker] memory, for containers)'),
  unactedKey('storage', 'local', 'gives the app local persistent storage (hop3: HOP3_DATA_DIR, always)'),
  unactedSection('integration', 'wires the app to platform services (LDAP, SSO, mail)'),
  unactedSection('backup', 'backs the app\'s data up on a schedule'),
  unactedKey('env', '_policy', 'chooses whether [env] overrides values already set (hop3: [env] always wins over toolchain defaults)'),
  unactedEntries('[env] HOME, TMPDIR, HOP3_DATA_DIR', 'the process deployer sets these to the app\'s data dir (containers keep the app\'s value)', (toml) =>
    SET_BY_PROCESS_DEPLOYER.filter((name) => toml.env?.[name] !== undefined).map((name) => `[env] ${name} (process deployer)`),
  ),
];

function isGenerate(value: unknown): value is EnvGenerate {
  return typeof value === 'object' && value !== null && 'generate' in value;
}

/** Names a shell can export: the only ones every worker (and `sh -c` hook) passes on reliably. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Bytes of one `NAME=value`: the kernel refuses to start a process with a longer one (MAX_ARG_STRLEN). */
export const MAX_ENV_ENTRY_BYTES = 128 * 1024;
/** Bytes of the whole `[env]`: the host's environment and arguments share the kernel's limit with it. */
export const MAX_ENV_TOTAL_BYTES = 1024 * 1024;
const ENV_NAME_HINT = 'Variable names are letters, digits and "_", not starting with a digit (e.g. DATABASE_URL); values have no NUL byte and stay under 128 KiB.';

type Ctx = z.core.$RefinementCtx<Hop3Toml>;

function issue(ctx: Ctx, path: (string | number)[], message: string, hint = ENV_NAME_HINT): void {
  ctx.addIssue({ code: 'custom', path, message, params: { hint } });
}

/** The name as it can be shown: bad names may hold control characters. */
const shown = (name: string) => (ENV_NAME.test(name) ? name : JSON.stringify(name));

function checkEnvName(ctx: Ctx, path: string[], name: string): boolean {
  const where = [...path, shown(name)];
  if (name === '') issue(ctx, where, 'an empty variable name');
  else if (name.includes('=') || name.includes('\0')) issue(ctx, where, 'a variable name cannot contain "=" or a NUL byte');
  else if (!ENV_NAME.test(name)) issue(ctx, where, 'not a variable name (letters, digits and "_", not starting with a digit)');
  else if (SET_BY_HOP3[name]) issue(ctx, where, `${name} is set by hop3 itself and cannot be set in [env]`, SET_BY_HOP3[name]);
  else return true;
  return false;
}

function checkEnvValue(ctx: Ctx, path: string[], name: string, value: string): boolean {
  const where = [...path, shown(name)];
  const bytes = Buffer.byteLength(`${name}=${value}`) + 1;
  if (value.includes('\0')) issue(ctx, where, 'the value contains a NUL byte, which no environment variable can hold');
  else if (bytes > MAX_ENV_ENTRY_BYTES) issue(ctx, where, `the value is ${kib(bytes)}; a variable is at most 128 KiB (the kernel's limit)`, 'Keep large data in a file the app reads (its path in [env]).');
  else return true;
  return false;
}

const kib = (bytes: number) => `${Math.ceil(bytes / 1024)} KiB`;

/** `[env]` names and values are refused here, naming the key, rather than failing when a worker starts. */
function checkEnv(toml: Hop3Toml, ctx: Ctx): void {
  const { _policy: _unused, computed = {}, ...plain } = toml.env ?? {};
  let valid = true;
  for (const [name, value] of Object.entries(plain)) {
    if (!checkEnvName(ctx, ['env'], name)) valid = false;
    else if (!isGenerate(value) && !checkEnvValue(ctx, ['env'], name, String(value))) valid = false;
  }
  for (const [name, value] of Object.entries(computed)) {
    if (!checkEnvName(ctx, ['env', 'computed'], name) || !checkEnvValue(ctx, ['env', 'computed'], name, String(value))) valid = false;
  }
  if (!valid) return;
  const env = envVars(toml);
  for (const [name, value] of Object.entries(computed)) if (!checkEnvValue(ctx, ['env', 'computed'], name, env[name] ?? String(value))) return;
  const sizes = Object.entries(env).map(([name, value]) => [name, Buffer.byteLength(`${name}=${value}`) + 1] as const);
  const total = sizes.reduce((sum, [, bytes]) => sum + bytes, 0);
  if (total > MAX_ENV_TOTAL_BYTES) {
    const largest = [...sizes].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([name, bytes]) => `${name} ${kib(bytes)}`);
    issue(ctx, ['env'], `the variables total ${kib(total)} (largest: ${largest.join(', ')}); hop3 takes at most 1 MiB`, 'Keep large data in files the app reads (their paths in [env]).');
  }
}

/** Plain values, then `[env.computed]` expanded against them (what only the run knows, as $PORT, is left for it). */
function envVars(toml: Hop3Toml): Record<string, string> {
  const { _policy: _unused, computed = {}, ...plain } = toml.env ?? {};
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(plain)) if (!isGenerate(value)) env[name] = String(value);
  for (const [name, template] of Object.entries(computed)) env[name] = expandReferences(String(template), (ref) => env[ref]);
  return env;
}

function generatedEnv(toml: Hop3Toml): Record<string, EnvGenerate> {
  const { _policy: _unused, computed: _computed, ...plain } = toml.env ?? {};
  return Object.fromEntries(Object.entries(plain).filter((entry): entry is [string, EnvGenerate] => isGenerate(entry[1])));
}

/** `[port] web` (a number or `{ container }`), else `[web] port`, else `[docker] port`. */
function webPort(toml: Hop3Toml): RunSettings['webPort'] {
  const entry = toml.port?.web;
  if (entry !== undefined) return { port: typeof entry === 'number' ? entry : entry.container, key: '[port] web' };
  if (toml.web?.port !== undefined) return { port: toml.web.port, key: '[web] port' };
  if (toml.docker?.port !== undefined) return { port: toml.docker.port, key: '[docker] port' };
  return undefined;
}

/** `${upstream_version}` in `[source] url`, from `[metadata] upstream_version` (Hop3's one substitution there). */
const UPSTREAM_VERSION = /\$\{upstream_version\}/g;

/** A tarball or directory `[source]` (type tarball, or no type), its url substituted; git and PyPI sources are declared only. */
function sourceSettings(toml: Hop3Toml): SourceSettings | undefined {
  const source = toml.source;
  if (source?.url === undefined || (source.type !== undefined && source.type !== 'tarball')) return undefined;
  const version = toml.metadata?.upstream_version;
  return { url: version === undefined ? source.url : source.url.replace(UPSTREAM_VERSION, () => version) };
}

/** A tarball `[source]` needs a url, and every `${...}` in it must be one hop3 substitutes. */
function checkSource(toml: Hop3Toml, ctx: Ctx): void {
  const source = toml.source;
  if (source === undefined || (source.type !== undefined && source.type !== 'tarball')) return;
  const hint = 'Point [source] url at a tarball or directory: file:///path/app-1.0.tar.gz, a path relative to the app, or an http(s) URL; ${upstream_version} takes [metadata] upstream_version.';
  if (source.url === undefined) {
    if (source.type === 'tarball') issue(ctx, ['source', 'url'], 'a tarball source needs a url', hint);
    return;
  }
  for (const [match, name] of source.url.matchAll(/\$\{([^}]*)\}/g)) {
    if (name !== 'upstream_version') issue(ctx, ['source', 'url'], `${match} is not substituted (only \${upstream_version} is)`, hint);
    else if (toml.metadata?.upstream_version === undefined) issue(ctx, ['source', 'url'], `${match} needs [metadata] upstream_version, which is not set`, hint);
  }
}

const definedOnly = <T extends object>(values: T): T => Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as T;

const nonEmpty = <T extends object>(table: T | undefined): T | undefined => (table && Object.keys(table).length > 0 ? table : undefined);

function toSettings(toml: Hop3Toml): Omit<AppSettings, 'file'> {
  const { build = {}, run = {}, healthcheck = {}, docker = {}, nix = {}, app = {} } = toml;
  const builder = build.builder ?? app.builder;
  const workers: Record<string, string> = {};
  if (run.start) workers.web = run.start.join(' && ');
  Object.assign(workers, run.workers ?? {}); // Hop3 applies [run.workers] last: a `web` key there beats `start`
  const staticMounts = nonEmpty(toml.static) ?? nonEmpty(run.static);
  const { attr, template, substituters, 'override-inputs': overrideInputs, ...otherNix } = nix;
  return {
    build: {
      builder: builder === undefined || builder === 'auto' ? undefined : { name: builder, key: build.builder !== undefined ? '[build] builder' : '[app] builder' },
      toolchain: build.toolchain,
      staticDir: build['static-dir'],
      beforeBuild: build['before-build'],
      build: build.build ?? [],
      afterBuild: build['after-build'],
      ignore: build.ignore ?? [],
      secrets: build.secrets ?? [],
      packages: build.packages ?? [],
      caBundle: build['ca-bundle'],
      proxy: build.proxy,
    },
    run: {
      workers,
      beforeRun: run['before-run'],
      user: run.user,
      packages: run.packages ?? [],
      startTimeout: run['start-timeout'],
      webPort: webPort(toml),
      policy: definedOnly({ keep_releases: run['keep-releases'], max_restarts: run['max-restarts'], restart_window: run['restart-window'], drain: run.drain, replicas: run.replicas }),
    },
    health: {
      path: healthcheck.path ?? run.healthcheck,
      timeout: run['healthcheck-timeout'] ?? healthcheck.timeout,
      probe: definedOnly({ contains: healthcheck.contains, interval: healthcheck.interval, retries: healthcheck.retries }),
    },
    static: staticMounts && { mounts: staticMounts, key: nonEmpty(toml.static) ? '[static]' : '[run] static' },
    env: envVars(toml),
    generatedEnv: generatedEnv(toml),
    source: sourceSettings(toml),
    docker: {
      baseImage: docker['base-image'],
      buildImage: docker['build-image'],
      dockerfile: docker.dockerfile,
      target: docker.target,
      buildArgs: docker['build-args'] ?? {},
      memoryBytes: docker.memory,
      cpus: docker.cpus,
    },
    nix: { attr, template, substituters, overrideInputs: overrideInputs ?? {}, otherKeys: Object.keys(otherNix) },
    deploy: { target: toml.deploy?.target },
    about: {
      metadata: toml.metadata ?? {},
      name: app.name,
      source: toml.source,
      addons: [...(toml.addons ?? []), ...(toml.provider ?? [])],
      ports: { ...(toml.web?.port !== undefined ? { web: toml.web.port } : {}), ...toml.port },
      domains: toml.domains?.list ?? [],
      resources: toml.resources,
      storage: toml.storage,
      integration: toml.integration,
      backup: toml.backup,
    },
    notActedOn: NOT_ACTED_ON.flatMap((entry) => entry.declared(toml)),
  };
}

/** hop3.toml's schema, then the settings derived from it. */
export const AppSettingsSchema = Hop3TomlSchema.superRefine(checkEnv).superRefine(checkSource).transform(toSettings);

/** Settings from hop3.toml's text; a syntax error, a wrong or unknown key is a CONFIG_TOML_* error naming it. */
export function parseAppSettings(text: string, file = 'hop3.toml'): AppSettings {
  const result = AppSettingsSchema.safeParse(readToml(text, file));
  if (!result.success) {
    const custom = result.error.issues.find((i) => i.code === 'custom' && typeof i.params?.hint === 'string');
    throw new Hop3Error('CONFIG_TOML_INVALID', `${file}: ${formatIssues(result.error.issues)}`, {
      file,
      hint: (custom?.code === 'custom' && (custom.params?.hint as string)) || 'Keys are dashed (before-run, not before_run); see the hop3.toml reference in README.md for sections, keys and types.',
    });
  }
  return { file, ...result.data };
}

/** The settings of an app without hop3.toml: every default. */
export function defaultSettings(): AppSettings {
  return { file: undefined, ...AppSettingsSchema.parse({}) };
}

/** The one build warning about keys hop3 does not act on, or undefined when there are none. */
export function notActedOnWarning(settings: AppSettings): string | undefined {
  if (settings.notActedOn.length === 0) return undefined;
  return `${settings.file}: declared, not acted on by hop3: ${settings.notActedOn.join(', ')}`;
}
