import { parse as parseToml, TomlError } from 'smol-toml';
import * as z from 'zod';
import { ExtensionNameSchema } from '../artifact/schema.js';
import { Hop3Error } from '../errors.js';
import { WORKER_NAME } from './procfile.js';

/**
 * hop3.toml as written: every section and key Hop3 apps use, typed, nothing else (a typo is an error
 * naming the key). What hop3 makes of it — defaults, precedence, what it does not act on — is in app-settings.ts.
 */

/** A command may be a string or a list of strings (a string is a one-item list), as in Hop3. */
const Commands = z.union([z.string(), z.array(z.string())]).transform((value) => (typeof value === 'string' ? [value] : value));
const StringList = z.array(z.string());
const Scalar = z.union([z.string(), z.number(), z.boolean()]);
const Port = z.number().int().min(1).max(65535);
const Policy = z.enum(['keep-existing', 'override']);
/**
 * A system package: a Debian name (`libpq-dev`, `jq=1.6*`, `gcc:amd64`) or a nixpkgs attribute path
 * (`python3Packages.flask`). Nothing a shell would read otherwise: the names go into apt-get lines.
 */
const PackageName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9+._:=~*-]*$/, 'a package name such as "libpq-dev" (letters, digits and + . _ : = ~ * -)');
const Packages = z.array(PackageName);

const MetadataSection = z
  .object({
    id: z.string(),
    version: z.string(),
    upstream_version: z.string(),
    title: z.string(),
    description: z.string(),
    author: z.string(),
    license: z.string(),
    name: z.string(),
    homepage: z.string(),
    website: z.string(),
    repository: z.string(),
    categories: StringList,
    tags: StringList,
  })
  .partial()
  .strict();

/** `[app]`: Hop3's older spelling of the app's name and builder. */
const AppSection = z
  .object({ name: z.string().min(1), builder: ExtensionNameSchema.describe('auto, or a builder of this hop3') })
  .partial()
  .strict();

const BuildSection = z
  .object({
    builder: ExtensionNameSchema.describe('auto, or a builder of this hop3 (checked by the builder registry)'),
    toolchain: z.string(),
    'static-dir': z.string(),
    'before-build': Commands,
    'after-build': Commands,
    build: Commands,
    test: Commands,
    /** System packages the build needs (docker: apt in the build stage; nix: from pkgs; local: checked). */
    packages: Packages,
    'node-version': z.string(),
    'pip-install': StringList,
    ignore: StringList,
    /** Build secret ids, each read from the environment variable of the same name. */
    secrets: StringList,
    /** A PEM file of extra CAs for the build's registry and proxy connections (relative to the app dir). */
    'ca-bundle': z.string().min(1),
    /** The build's HTTP(S) proxy URL. */
    proxy: z.string().min(1),
  })
  .partial()
  .strict();

const RunSection = z
  .object({
    start: Commands,
    'before-run': Commands,
    workers: z.record(z.string().regex(WORKER_NAME), z.string().min(1), {
      error: (issue) => (issue.code === 'invalid_key' ? 'worker names are letters, digits, "_" and "-" (they name log files and go into commands)' : undefined),
    }),
    /** Seconds the app may take to start answering HTTP (then the health check has its own timeout). */
    'start-timeout': z.number().positive(),
    /** System packages the app needs to run (docker: apt in the final stage; nix: in $out/bin; local: checked). */
    packages: Packages,
    static: z.record(z.string(), z.string()),
    healthcheck: z.string(),
    'healthcheck-timeout': z.number().int().positive(),
    /** Releases kept for rollback (the live one included). */
    'keep-releases': z.number().int().min(1),
    /** Crashes of a worker within restart-window seconds before it is marked failed. */
    'max-restarts': z.number().int().nonnegative(),
    'restart-window': z.number().positive(),
    /** Seconds the old release keeps serving after the router switched to the new one. */
    drain: z.number().nonnegative(),
    /** Tasks per worker on a target that runs replicas (swarm). */
    replicas: z.number().int().min(1).max(1000),
    /** The user the process deployer runs workers and before-run as (hop3 must run as root to switch). */
    user: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/, 'a user name such as "nobody" or a numeric uid'),
  })
  .partial()
  .strict();

/** Secret generators Hop3 offers for `[env]` values, generated once on the first deploy. */
export const ENV_GENERATORS = ['hex', 'base64', 'urlsafe', 'password', 'uuid'] as const;
const EnvGenerate = z
  .object({ generate: z.enum(ENV_GENERATORS), length: z.number().int().positive().max(4096).optional(), prefix: z.string().optional(), display: z.boolean().optional() })
  .strict();
export type EnvGenerate = z.infer<typeof EnvGenerate>;

const EnvValue = z.union([Scalar, EnvGenerate], {
  error: `a string, number or boolean, or { generate = "${ENV_GENERATORS.join('" | "')}", length = N }`,
});

/** `[env]`: names are checked in app-settings.ts (which knows every rule about them). */
const EnvSection = z
  .object({
    _policy: Policy.optional(),
    computed: z.record(z.string(), Scalar).optional(),
  })
  .catchall(EnvValue);

const PortEntry = z.union([Port, z.object({ container: Port, public: z.boolean().optional(), https: z.boolean().optional() }).strict()]);

const HealthcheckSection = z
  .object({ path: z.string(), contains: z.string(), interval: z.number().int().positive(), timeout: z.number().int().positive(), retries: z.number().int().nonnegative() })
  .partial()
  .strict();

/** Container memory limit, e.g. "512m" or "1g" (bytes after parsing). */
const MemorySize = z
  .string()
  .regex(/^\d+(\.\d+)?\s*[kmg]?b?$/i, 'a size such as "512m" or "1g"')
  .transform(toBytes);

const DockerSection = z
  .object({
    port: Port,
    runtime: z.string(),
    'build-args': z.record(z.string(), Scalar.transform(String)),
    'base-image': z.string().min(1),
    dockerfile: z.string().min(1),
    target: z.string().min(1),
    'build-image': z.string().min(1),
    memory: MemorySize,
    /** Container CPU limit in cores, e.g. 0.5. */
    cpus: z.number().positive(),
  })
  .partial()
  .strict();

function toBytes(size: string): number {
  const [, amount, unit = ''] = /^(\d+(?:\.\d+)?)\s*([kmg]?)/i.exec(size)!;
  return Math.round(Number(amount) * 1024 ** ' kmg'.indexOf(unit.toLowerCase() || ' '));
}

/** `[nix]` is free-form in Hop3 (its templates have keys of their own); these are the keys hop3's nix builder reads. */
const NixSection = z
  .object({
    /** Flake output or attribute of hop3.nix/default.nix to build. */
    attr: z.string().min(1),
    /** Hop3's template name for generated expressions (python, node, static, generic); defaults to the detected toolchain. */
    template: z.string().min(1),
    /** Replaces the substituters from nix.conf; `[]` builds offline. */
    substituters: StringList,
    /** Flake input name -> flake reference (`--override-input`), e.g. a local nixpkgs checkout. */
    'override-inputs': z.record(z.string(), z.string().min(1)),
  })
  .partial()
  .catchall(z.unknown());

/** `[source]`: where Hop3 fetches the upstream code; `[source.<language>]` tables pin a language version. */
const SourceSection = z
  .object({ type: z.enum(['tarball', 'pypi', 'git']), url: z.string(), package: z.string(), version: z.string(), tag: z.string() })
  .partial()
  .catchall(
    z
      .object(
        { version: z.string() },
        {
          error: (issue) =>
            issue.code === 'invalid_type'
              ? 'unknown key (keys are type, url, package, version, tag, or a [source.<language>] table)'
              : issue.code === 'unrecognized_keys'
                ? 'a [source.<language>] table has only a version'
                : undefined,
        },
      )
      .strict(),
  );

/** `[[addons]]` / `[[provider]]`: a service Hop3 provisions; each kind takes options of its own. */
const Addon = z
  .object({ type: z.string().min(1), name: z.string().min(1), plan: z.string() })
  .partial()
  .catchall(z.unknown())
  .refine((addon) => addon.type !== undefined || addon.name !== undefined, 'an addon needs a type (e.g. type = "postgres")');

const BackupSection = z
  .object({ enabled: z.boolean(), schedule: z.string(), retention: z.union([z.number().int().nonnegative(), z.string()]), paths: StringList, exclude: StringList })
  .partial()
  .strict();

export const Hop3TomlSchema = z
  .object({
    metadata: MetadataSection,
    app: AppSection,
    build: BuildSection,
    run: RunSection,
    env: EnvSection,
    port: z.record(z.string(), PortEntry),
    web: z.object({ port: Port }).partial().strict(),
    healthcheck: HealthcheckSection,
    docker: DockerSection,
    static: z.record(z.string(), z.string()),
    nix: NixSection,
    /** Where the artifact runs by default (a deployer target: process, container...); checked when it runs. */
    deploy: z.object({ target: ExtensionNameSchema }).partial().strict(),
    source: SourceSection,
    addons: z.array(Addon),
    provider: z.array(Addon),
    domains: z.object({ list: StringList, _policy: Policy }).partial().strict(),
    resources: z.object({ memory: z.string() }).partial().strict(),
    storage: z.object({ local: z.boolean() }).partial().strict(),
    integration: z.record(z.string(), z.unknown()),
    backup: BackupSection,
  })
  .partial()
  .strict();

export type Hop3Toml = z.infer<typeof Hop3TomlSchema>;

/** The file's TOML, untyped yet; a syntax error names the line and column. */
export function readToml(text: string, file: string): unknown {
  try {
    return parseToml(text);
  } catch (error) {
    const where = error instanceof TomlError ? `:${error.line}:${error.column}` : '';
    throw new Hop3Error('CONFIG_TOML_SYNTAX', `${file}${where}: ${(error as Error).message.split('\n')[0]}`, {
      file,
      cause: error,
      hint: 'Fix the TOML syntax (https://toml.io); strings need quotes, tables are [section].',
    });
  }
}
