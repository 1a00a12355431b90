import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';
import { loadArtifact, parseArtifact, serializeArtifact, type Artifact } from '../../src/artifact/artifact-file.js';
import { envProblems } from '../../src/artifact/env-rules.js';
import { ARTIFACT_SCHEMA_VERSION } from '../../src/artifact/schema.js';
import { loadAppConfig } from '../../src/config/app-config.js';
import { buildHooks } from '../../src/config/build-hooks.js';
import { parseAppSettings, type AppSettings } from '../../src/config/app-settings.js';
import { parseProcfile, type Procfile } from '../../src/config/procfile.js';
import { checkHtpasswd, parseStaticfile } from '../../src/config/staticfile.js';
import { appStatus } from '../../src/deployers/deploy-app.js';
import { targetFor } from '../../src/deployers/registry.js';
import { workerEnv } from '../../src/deployers/worker-env.js';
import { ERROR_CODES } from '../../src/errors.js';
import { silentLogger } from '../../src/log/logger.js';
import { mergeManifest } from '../../src/manifest/merge-manifest.js';
import { emptyDefaults } from '../../src/manifest/runtime-defaults.js';
import { shellQuote } from '../../src/process/shell-quote.js';
import { appNameFromDir, appPaths, validateAppName } from '../../src/state/hop3-home.js';
import { listReleases } from '../../src/state/releases.js';
import { runCliInProcess } from '../helpers/in-process-cli.js';
import { expectHop3Error, FuzzFailure, outcomeOf, type FuzzTarget } from './fuzz-target.js';

// ---------------------------------------------------------------- building blocks

/** Over the per-variable and per-argument limits, shared so cases stay cheap. */
const BIG = 'x'.repeat(130 * 1024);
const STORE = '/nix/store/0c2hkvwmnfq7sz7cf1yyk6h2fzfgb8pn-fuzz-1';
/** Strings that broke parsers before, or could: prototype keys, separators, NULs, shell syntax, odd numbers. */
const TRICKY = [
  '', ' ', '\t', '/', '//', '.', '..', '../', '/..', '/etc', '/usr/local', '/nix/store', '/nix/store/', STORE, '__proto__', 'constructor', 'prototype',
  'toString', 'hasOwnProperty', '\0', 'a\0b', '\n', '\r\n', 'a=b', '=', ':', '${PATH}', "'", '"', '\\', '$(id)', '`id`', ';', '|', '&&', '#', 'é', '🙂',
  '\u2028', '\ud800', '0', '-1', '1e4', '0x10', ' 80', '080', '65536', 'NaN', 'Infinity', '9'.repeat(30), 'web', 'wsgi', 'static', 'cron', 'prerun', BIG,
];
const tricky = fc.constantFrom(...TRICKY);
const text = fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 40 }), tricky, fc.string({ unit: fc.constantFrom(...'/.:=_-a0 \n\'"$'), maxLength: 30 }));
const segment = fc.oneof(fc.constantFrom('', '.', '..', 'app', 'srv', 'apps', 'nix', 'store', 'etc', 'a b', "it's", 'x\0', '0c2hkvwmnfq7sz7cf1yyk6h2fzfgb8pn-fuzz-1'), fc.string({ maxLength: 8 }));
/** Paths that are absolute or not, inside a location or escaping it. */
const pathLike = fc.oneof(
  fc.tuple(fc.boolean(), fc.array(segment, { maxLength: 6 })).map(([absolute, parts]) => `${absolute ? '/' : ''}${parts.join('/')}`),
  fc.tuple(fc.constantFrom('/srv/apps/fuzz/builds/1', STORE, '/app'), fc.array(segment, { maxLength: 4 })).map(([base, parts]) => [base, ...parts].join('/')),
  tricky,
);

function cloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

const HOST_ARTIFACT = {
  schema_version: ARTIFACT_SCHEMA_VERSION,
  kind: 'python',
  location: '/srv/apps/fuzz/builds/1',
  runtime: {
    env_vars: { VIRTUAL_ENV: '/srv/apps/fuzz/builds/1/app/.venv', PYTHONUNBUFFERED: '1' },
    path_prepend: ['/srv/apps/fuzz/builds/1/app/.venv/bin'],
    working_dir: '/srv/apps/fuzz/builds/1/app',
    workers: { web: 'python app.py', clock: 'python clock.py' },
    before_run: ['python migrate.py'],
    static_paths: { '/static': '/srv/apps/fuzz/builds/1/app/static' },
    healthcheck_path: '/health',
    healthcheck_timeout: 30,
  },
  builder: 'local',
  app_name: 'fuzz',
  built_at: '2026-11-26T04:00:00.000Z',
  build_id: '20261126T040000Z-abcdef12',
  metadata: { provenance: { 'workers.web': { source: 'Procfile', file: 'Procfile' } } },
};
const SEEDS = [
  HOST_ARTIFACT,
  { ...HOST_ARTIFACT, builder: 'nix', location: STORE, runtime: { ...HOST_ARTIFACT.runtime, working_dir: `${STORE}/app`, path_prepend: [`${STORE}/bin`], static_paths: {} } },
  { ...HOST_ARTIFACT, builder: 'docker', location: 'hop3/fuzz:20261126T040000Z-abcdef12', runtime: { ...HOST_ARTIFACT.runtime, working_dir: '/app', path_prepend: ['/app/.venv/bin'], static_paths: { '/': '/app/public' } }, metadata: { resources: { memory_bytes: 1 } } },
];

/** Where a mutation lands: the fields hop3 reads, with keys and indexes that may not exist yet. */
const fieldPath = fc.oneof(
  fc.constantFrom(['location'], ['runtime', 'working_dir'], ['runtime', 'healthcheck_path'], ['runtime', 'healthcheck_timeout'], ['app_name'], ['build_id'], ['built_at'], ['builder'], ['kind'], ['schema_version'], ['runtime'], ['metadata'], ['metadata', 'deploy_target'], ['metadata', 'resources']),
  fc.tuple(fc.constantFrom('workers', 'env_vars', 'static_paths'), fc.oneof(text, fc.constantFrom('web', 'wsgi', 'A', '/'))).map(([field, key]) => ['runtime', field, key]),
  fc.tuple(fc.constantFrom('path_prepend', 'before_run'), fc.nat(3)).map(([field, index]) => ['runtime', field, index]),
);
const mutation = fc.record({ at: fieldPath, op: fc.constantFrom('set', 'set', 'set', 'delete'), value: fc.oneof(text, pathLike, fc.jsonValue({ maxDepth: 3 }), fc.integer(), fc.double()) });
const mutatedArtifact = fc.tuple(fc.constantFrom(...SEEDS), fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([seed, mutations]) => {
  const value = cloneJson(seed) as Record<string, unknown>;
  for (const { at, op, value: newValue } of mutations) {
    let parent: Record<string | number, unknown> = value;
    for (const key of at.slice(0, -1)) {
      const child = parent[key as string];
      if (child === null || typeof child !== 'object') parent[key as string] = {};
      parent = parent[key as string] as Record<string | number, unknown>;
    }
    const last = at.at(-1)!;
    // defineProperty: a "__proto__" key is stored as data, as JSON.parse would.
    if (op === 'delete') delete parent[last as string];
    else Object.defineProperty(parent, last, { value: newValue, enumerable: true, writable: true, configurable: true });
  }
  return value;
});

/** An accepted artifact must survive its own round trip and everything run time derives from it. */
function checkAccepted(artifact: Artifact): void {
  const again = parseArtifact(JSON.parse(serializeArtifact(artifact)), 'round trip');
  if (!isDeepStrictEqual(again, artifact)) throw new FuzzFailure('an accepted artifact changed through serializeArtifact + parseArtifact');
  try {
    targetFor(artifact);
  } catch (error) {
    expectHop3Error(error); // no deployer for it (an unknown deploy_target...): a coded error is fine
  }
  let env: NodeJS.ProcessEnv;
  try {
    env = workerEnv(artifact, { base: {}, paths: appPaths('fuzz', { HOP3_HOME: '/tmp/fuzz-home' }), worker: 'web', port: 8080 });
  } catch (error) {
    expectHop3Error(error); // `$A$A` can expand past the kernel's limits: a coded error is fine
    return;
  }
  for (const [key, value] of Object.entries(env)) {
    if (key === '' || key.includes('=') || key.includes('\0') || value?.includes('\0')) throw new FuzzFailure(`accepted artifact gives workers an impossible variable ${JSON.stringify(key)}`);
  }
}

const artifactWhere = (file: string) => () => ({ file, message: new RegExp(`^${escapeRegExp(file)}`) });

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `hop3-fuzz-${prefix}-`));
}

// ---------------------------------------------------------------- hop3.toml

const SECTIONS = ['metadata', 'build', 'run', 'env', 'port', 'healthcheck', 'docker', 'static', 'nix', 'deploy', 'run.workers', 'env.computed', 'bogus', 'run.static', 'port.web'];
const KEYS = [
  'builder', 'toolchain', 'static-dir', 'before-build', 'after-build', 'build', 'test', 'packages', 'start', 'before-run', 'workers', 'start-timeout', 'healthcheck',
  'healthcheck-timeout', 'path', 'timeout', 'memory', 'cpus', 'dockerfile', 'base-image', 'target', '_policy', 'web', 'PORT', 'PATH', '"__proto__"', '"a b"', '"/"', 'x',
  'container', 'public', 'https', 'build-args', 'interval', 'retries', 'ignore',
];
const tomlScalar = fc.oneof(
  text.map((s) => JSON.stringify(s)),
  text.map((s) => `'${s.replace(/['\n\r]/g, '')}'`),
  fc.integer().map(String),
  fc.double().map((n) => (Number.isFinite(n) ? String(n) : n > 0 ? 'inf' : n < 0 ? '-inf' : 'nan')),
  fc.constantFrom('true', 'false', '1979-05-27T07:32:00Z', '07:32:00', '0x10', '1e4', '080', '"""multi\nline"""', '[]', '{}', '[1, "a"]', '{ a = 1 }', '512m', '"512m"', '"1g"', '"0.5"'),
);
const tomlValue = fc.oneof(tomlScalar, fc.array(tomlScalar, { maxLength: 3 }).map((items) => `[${items.join(', ')}]`), fc.array(fc.tuple(fc.constantFrom(...KEYS), tomlScalar), { maxLength: 3 }).map((pairs) => `{ ${pairs.map(([k, v]) => `${k} = ${v}`).join(', ')} }`));
const tomlLine = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...SECTIONS).map((section) => `[${section}]`) },
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...KEYS), tomlValue).map(([key, value]) => `${key} = ${value}`) },
  { weight: 1, arbitrary: text },
  { weight: 1, arbitrary: fc.constantFrom('', '# comment', '[[run]]', '[run', 'key =', '= 1', '[env]\n[env]') },
);
const tomlText = fc.array(tomlLine, { maxLength: 12 }).map((lines) => lines.join('\n'));

const tomlWhere = () => ({ file: 'hop3.toml', message: /^hop3\.toml(:\d+:\d+)?: / });

/** hop3.toml text made of its own sections and keys, values of every TOML type, and junk. */
export const tomlTextTarget: FuzzTarget<string> = {
  name: 'hop3-toml-text',
  description: 'parseAppSettings on TOML-ish text; no [env] or [run.workers] key is lost',
  arbitrary: tomlText,
  async check(input) {
    let settings: AppSettings | undefined;
    const outcome = await outcomeOf(() => {
      settings = parseAppSettings(input, 'hop3.toml');
    }, tomlWhere);
    if (!settings) return outcome;
    const raw = parseToml(input) as { env?: Record<string, unknown> & { computed?: Record<string, unknown> }; run?: { workers?: Record<string, unknown> } };
    const { _policy: _ignored, computed = {}, ...plain } = raw.env ?? {};
    const generated = (value: unknown) => typeof value === 'object' && value !== null && 'generate' in value;
    const lost = [
      ...[...Object.entries(plain).filter(([, value]) => !generated(value)).map(([key]) => key), ...Object.keys(computed)].filter((key) => !Object.hasOwn(settings!.env, key)),
      ...Object.keys(raw.run?.workers ?? {}).filter((key) => !Object.hasOwn(settings!.run.workers, key)),
    ];
    return lostKeys(lost, outcome);
  },
};

/**
 * Keys a parser accepted but dropped. `__proto__` is dropped by zod records and by the Procfile parser's
 * plain objects: a config-side bug (reported; src/config is another engineer's), counted here, not failed.
 */
function lostKeys(lost: string[], outcome: string): string {
  if (lost.length === 0) return outcome;
  if (lost.every((key) => key === '__proto__')) return 'KNOWN config bug: "__proto__" key accepted, then dropped';
  throw new FuzzFailure(`accepted, but lost ${JSON.stringify(lost)}`);
}

/** A TOML value of any type, as smol-toml can write it. */
const tomlData: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', maxDepth: 3 }, text, fc.integer(), fc.double({ noNaN: false }), fc.boolean(), fc.array(tie('value'), { maxLength: 3 }), tie('table')),
  table: fc.dictionary(fc.oneof(fc.constantFrom(...KEYS.map((k) => k.replace(/"/g, ''))), text), tie('value'), { maxKeys: 4 }),
})).value;
const envKey = fc.oneof({ weight: 12, arbitrary: fc.constantFrom('PORT', 'PATH', 'DEBUG', 'SECRET_KEY') }, { weight: 4, arbitrary: fc.constantFrom('A=B', '', '__proto__', 'a b', 'X\0') }, { weight: 1, arbitrary: fc.constantFrom('_policy', 'computed') }, { weight: 4, arbitrary: text });
const envValue = fc.oneof(text, fc.integer(), fc.boolean(), fc.constant(BIG));
/** Mostly the right type, sometimes any TOML value: enough valid files to reach the merge, enough wrong ones to test refusals. */
const mostly = <T>(right: fc.Arbitrary<T>) => fc.oneof({ weight: 30, arbitrary: right as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: tomlData });
const command = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('python app.py', 'node server.js', 'echo ok', './migrate && echo done') }, { weight: 2, arbitrary: text });
const commands = fc.oneof(command, fc.array(command, { maxLength: 3 }));
/** Sections with their real keys (right or wrong types), now and then an unknown section. */
const tomlObject = fc
  .tuple(
    fc.record(
      {
        build: fc.record({ builder: mostly(fc.constantFrom('local', 'nix', 'docker', 'auto')), 'static-dir': mostly(pathLike), build: mostly(commands) }, { requiredKeys: [] }),
        run: fc.record(
          {
            start: mostly(commands),
            'before-run': mostly(commands),
            workers: mostly(fc.dictionary(fc.oneof({ weight: 20, arbitrary: fc.constantFrom('web', 'wsgi', 'worker', 'clock') }, { weight: 1, arbitrary: fc.constantFrom('__proto__', 'a;b', '') }, { weight: 1, arbitrary: text }), command, { maxKeys: 3 })),
            healthcheck: mostly(fc.oneof(fc.constantFrom('/health', 'health', '/'), text)),
            'healthcheck-timeout': mostly(fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 600 }) }, { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double()) })),
            static: mostly(fc.dictionary(fc.oneof(fc.constantFrom('/', '/assets', 'assets'), text), pathLike, { maxKeys: 3 })),
          },
          { requiredKeys: [] },
        ),
        env: fc.dictionary(envKey, mostly(envValue), { maxKeys: 4 }),
        healthcheck: fc.record({ path: mostly(fc.oneof(fc.constantFrom('/health', 'health'), text)), timeout: mostly(fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 600 }) }, { weight: 1, arbitrary: fc.integer() })) }, { requiredKeys: [] }),
        static: mostly(fc.dictionary(fc.oneof(fc.constantFrom('/', '/assets', 'x=y'), text), pathLike, { maxKeys: 3 })),
        docker: fc.record({ memory: mostly(fc.oneof({ weight: 9, arbitrary: fc.constantFrom('512m', '1g', '0', '1.5k', '10 mb') }, { weight: 1, arbitrary: text })), cpus: mostly(fc.oneof({ weight: 9, arbitrary: fc.double({ min: 0.1, max: 64, noNaN: true }) }, { weight: 1, arbitrary: fc.double() })), dockerfile: mostly(pathLike) }, { requiredKeys: [] }),
        deploy: fc.record({ target: mostly(fc.constantFrom('process', 'container', 'podman')) }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    ),
    fc.oneof({ weight: 15, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.tuple(text, tomlData) }),
  )
  .map(([sections, unknown]) => (unknown ? { ...sections, [unknown[0]]: unknown[1] } : sections));

// ---------------------------------------------------------------- Procfile

const procfileName = fc.oneof(fc.constantFrom('web', 'wsgi', 'worker', 'static', 'cron', 'prerun', 'prebuild', 'postbuild', '__proto__', 'constructor', 'a b', '', 'x-y_z'), text);
const procfileCommand = fc.oneof(text, fc.constantFrom('python app.py', '*/5 * * * * echo tick', '* * * echo', 'public', '', '   '));
const procfileLine = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(procfileName, fc.constantFrom(':', ': ', ' : ', '', '::'), procfileCommand).map(([name, sep, command]) => `${name}${sep}${command}`) },
  { weight: 1, arbitrary: fc.constantFrom('', '# comment', '  ', ':', ':x') },
  { weight: 1, arbitrary: text },
);
const plausibleLine = fc.tuple(fc.constantFrom('web', 'wsgi', 'worker', 'clock', 'static', 'prerun', 'prebuild', 'cron'), command.filter((c) => c.trim() !== '' && !/[\r\n]/.test(c))).map(([name, cmd]) => (name === 'cron' ? `cron: */5 * * * * ${cmd}` : `${name}: ${cmd}`));
/** Mostly files a user could write, with junk lines now and then; and wholly hostile ones. */
const procfileText = fc
  .tuple(
    fc.oneof({ weight: 2, arbitrary: fc.array(fc.oneof({ weight: 8, arbitrary: plausibleLine }, { weight: 1, arbitrary: procfileLine }), { maxLength: 6 }) }, { weight: 1, arbitrary: fc.array(procfileLine, { maxLength: 8 }) }),
    fc.constantFrom('\n', '\r\n'),
  )
  .map(([lines, eol]) => lines.join(eol));

/** Procfile text: names real, hooks, reserved and junk; separators right and wrong. */
export const procfileTarget: FuzzTarget<string> = {
  name: 'procfile',
  description: 'parseProcfile on Procfile-ish text',
  arbitrary: procfileText,
  async check(input) {
    let procfile: Procfile | undefined;
    const outcome = await outcomeOf(
      () => {
        procfile = parseProcfile(input, 'Procfile');
      },
      () => ({ file: 'Procfile', message: /^Procfile:\d+: / }),
    );
    if (!procfile) return outcome;
    // Every `name: command` line it accepted is recorded under its name.
    const named = input.split(/\r?\n/).map((line) => line.trim()).filter((line) => line && !line.startsWith('#')).map((line) => line.slice(0, line.indexOf(':')).trim());
    return lostKeys(named.filter((name) => !Object.hasOwn(procfile!.lines, name)), outcome);
  },
};

// ---------------------------------------------------------------- Staticfile and Staticfile.auth

const staticfileLine = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom('root', 'index_fallback', 'pushstate', 'gzip', 'status_codes', '__proto__', 'a b', ''), fc.constantFrom(':', ': ', ' : ', ''), fc.oneof(fc.constantFrom('dist', '"public"', "'./site/'", '../up', '/abs', 'true', 'enabled', 'maybe', '', '  # c'), text)).map(([key, sep, value]) => `${key}${sep}${value}`) },
  { weight: 1, arbitrary: fc.constantFrom('', '# comment', '---', '  404: /404.html', ':', 'root') },
  { weight: 1, arbitrary: text },
);
const htpasswdHash = fc.oneof(
  fc.constantFrom('$apr1$r31uDfRh$NqQgIRXy/NoMIk2gGiOy/0', '{SHA}/HL0E2fe0k86oFqfSf2+njzD3+o=', '$2y$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a', '$6$rounds=1500$salt$', 'abJnggxhB/yWI', 'plain', ''),
  text,
);
const htpasswdLine = fc.oneof({ weight: 4, arbitrary: fc.tuple(fc.oneof(fc.constantFrom('alice', '', 'a:b'), text), htpasswdHash).map(([user, hash]) => `${user}:${hash}`) }, { weight: 1, arbitrary: fc.oneof(fc.constantFrom('', '# c', ':'), text) });

/** A Staticfile and a Staticfile.auth as a user could write them, junk lines now and then. */
export const staticfileTarget: FuzzTarget<{ staticfile: string; auth: string }> = {
  name: 'staticfile',
  description: 'parseStaticfile and checkHtpasswd on Staticfile-ish and htpasswd-ish text',
  arbitrary: fc.record({ staticfile: fc.array(staticfileLine, { maxLength: 6 }).map((lines) => lines.join('\n')), auth: fc.array(htpasswdLine, { maxLength: 4 }).map((lines) => lines.join('\n')) }),
  async check({ staticfile, auth }) {
    const parsed = await outcomeOf(
      () => {
        const result = parseStaticfile(staticfile);
        // A root it accepts is a folder inside the app.
        if (result.root !== undefined && (result.root.startsWith('/') || result.root === '..' || result.root.startsWith('../'))) throw new FuzzFailure(`root outside the app: ${result.root}`);
      },
      () => ({ file: 'Staticfile', message: /^Staticfile:\d+: / }),
    );
    const checked = await outcomeOf(
      () => checkHtpasswd(auth),
      // Lines may hold a password: the message names the line and user, never the rest of it.
      () => ({ file: 'Staticfile.auth', message: /^Staticfile\.auth(:\d+:| has no)/ }),
    );
    return `${parsed}/${checked}`;
  },
};

/** hop3.toml objects written by smol-toml (and a Procfile), read as a build reads them, merged into a runtime. */
export const appConfigTarget: FuzzTarget<{ toml: unknown; procfile: string | undefined; inHop3Dir: boolean }> = {
  name: 'app-config',
  sampleFactor: 0.25,
  description: 'loadAppConfig + mergeManifest + parseArtifact on smol-toml stringify of hop3.toml objects',
  arbitrary: fc.record({ toml: tomlObject, procfile: fc.option(procfileText, { nil: undefined, freq: 3 }), inHop3Dir: fc.boolean() }),
  async setup() {
    const dir = await tempDir('config');
    await mkdir(path.join(dir, 'hop3'));
    return dir;
  },
  teardown: (dir) => rm(dir as string, { recursive: true, force: true }),
  async check(input, state) {
    let tomlText: string;
    try {
      tomlText = stringifyToml(input.toml as Record<string, unknown>);
    } catch {
      return 'not-toml'; // smol-toml cannot write it (e.g. mixed arrays): nothing to read
    }
    // One app dir per run, its files rewritten per case: cheap enough for thousands of cases.
    const dir = state as string;
    const tomlFile = input.inHop3Dir ? path.join('hop3', 'hop3.toml') : 'hop3.toml';
    await rm(path.join(dir, input.inHop3Dir ? 'hop3.toml' : path.join('hop3', 'hop3.toml')), { force: true });
    await writeFile(path.join(dir, tomlFile), tomlText);
    if (input.procfile !== undefined) await writeFile(path.join(dir, 'Procfile'), input.procfile);
    else await rm(path.join(dir, 'Procfile'), { force: true });
    {
      let config: Awaited<ReturnType<typeof loadAppConfig>>;
      const read = await outcomeOf(
        async () => {
          config = await loadAppConfig(dir);
        },
        (error) => ({ file: error.code === 'CONFIG_PROCFILE_INVALID' ? 'Procfile' : tomlFile }),
      );
      if (read !== 'ok') return read;
      buildHooks(config!);
      const workingDir = '/srv/apps/fuzz/builds/1/app';
      const manifest = mergeManifest({ config: config!, defaults: emptyDefaults(), workingDir });
      // Accepted config that the artifact still refuses: counted apart (bad input caught at the end of a build).
      const artifact = { ...cloneJson(HOST_ARTIFACT), runtime: manifest.runtime };
      let field = '';
      const built = await outcomeOf(
        () => parseArtifact(artifact, 'artifact of fuzz'),
        (error) => {
          field = /valid build artifact: (runtime\.[a-z_]+|[a-z_]+)/.exec(error.message)?.[1] ?? '';
          return artifactWhere('artifact of fuzz')();
        },
      );
      return built === 'ok' ? 'ok' : `config ok, artifact ${built} ${field}`;
    }
  },
};

// ---------------------------------------------------------------- BUILD_ARTIFACT.json

/** Arbitrary JSON, and valid host/store/image artifacts with fields replaced, removed or added. */
export const artifactTarget: FuzzTarget<unknown> = {
  name: 'artifact-json',
  description: 'parseArtifact on arbitrary JSON and mutated valid artifacts; accepted ones round-trip',
  arbitrary: fc.oneof({ weight: 1, arbitrary: fc.jsonValue() }, { weight: 4, arbitrary: mutatedArtifact }),
  check: (input) => outcomeOf(() => checkAccepted(parseArtifact(input, 'fuzz.json')), artifactWhere('fuzz.json')),
};

/** Valid artifact files with bytes inserted, removed or replaced: what a damaged disk or a hand edit leaves. */
export const artifactFileTarget: FuzzTarget<{ seed: number; edits: { at: number; remove: number; insert: string }[] }> = {
  name: 'artifact-file',
  sampleFactor: 0.5,
  description: 'loadArtifact on valid BUILD_ARTIFACT.json files with byte-level edits',
  arbitrary: fc.record({
    seed: fc.nat(SEEDS.length - 1),
    edits: fc.array(fc.record({ at: fc.nat(2000), remove: fc.nat(4), insert: fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('"', '{', '}', ',', '..', '/', '\\u0000', '\\ud800', '1e999', ']')) }), { minLength: 1, maxLength: 3 }),
  }),
  setup: () => tempDir('artifact'),
  teardown: (dir) => rm(dir as string, { recursive: true, force: true }),
  async check(input, state) {
    let textValue = serializeArtifact(parseArtifact(cloneJson(SEEDS[input.seed])));
    for (const edit of input.edits) {
      const at = edit.at % (textValue.length + 1);
      textValue = textValue.slice(0, at) + edit.insert + textValue.slice(at + edit.remove);
    }
    const file = path.join(state as string, 'BUILD_ARTIFACT.json');
    await writeFile(file, textValue);
    return outcomeOf(async () => checkAccepted(await loadArtifact(file)), () => ({ file }));
  },
};

// ---------------------------------------------------------------- run state

const runStateSeed = (artifact: unknown) => ({
  app: 'fuzz',
  release: 1,
  status: 'live',
  deployer: 'process',
  artifact,
  port: 8080,
  url: 'http://127.0.0.1:8080/',
  created_at: '2026-11-26T04:00:00.000Z',
  started_at: '2026-11-26T04:00:00.000Z',
  workers: [{ name: 'web', id: '999999999', log: '/tmp/web.log', handle: { start_ticks: 1, marker: 'm' } }],
});
const runStateText = fc.oneof(
  { weight: 1, arbitrary: fc.string({ unit: 'binary' }) },
  { weight: 1, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value)) },
  { weight: 4, arbitrary: fc.tuple(mutatedArtifact, fc.array(fc.record({ key: fc.constantFrom('app', 'release', 'status', 'deployer', 'port', 'public_port', 'url', 'workers', 'started_at', 'ended_at', 'extra'), value: fc.jsonValue({ maxDepth: 2 }) }), { maxLength: 2 })).map(([artifact, changes]) => {
    const state: Record<string, unknown> = runStateSeed(artifact);
    for (const { key, value } of changes) state[key] = value;
    return JSON.stringify(state);
  }) },
  { weight: 1, arbitrary: fc.constant(JSON.stringify(runStateSeed(HOST_ARTIFACT))) },
);

/** Release records (releases/000001.json): junk, JSON, and real ones with a mutated artifact or fields. */
export const runStateTarget: FuzzTarget<{ text: string; status: boolean }> = {
  name: 'release-record',
  sampleFactor: 0.25,
  description: 'listReleases (+ appStatus for process releases) on arbitrary release records',
  arbitrary: fc.record({ text: runStateText, status: fc.nat(9).map((n) => n === 0) }),
  setup: () => tempDir('state'),
  teardown: (dir) => rm(dir as string, { recursive: true, force: true }),
  async check(input, state) {
    const env = { HOP3_HOME: state as string };
    const paths = appPaths('fuzz', env);
    const file = path.join(paths.releases, '000001.json');
    await mkdir(paths.releases, { recursive: true });
    await writeFile(file, input.text);
    return outcomeOf(
      async () => {
        const [release] = await listReleases(paths);
        // Status only reads /proc (it never signals), but scans it: a sample. A container release would need the daemon.
        if (release && input.status && release.deployer !== 'container') await appStatus('fuzz', { env, log: silentLogger });
      },
      (error) => ({ file: error.code === 'STATE_CORRUPT' ? file : error.code === 'STATE_UNKNOWN_DEPLOYER' ? undefined : `${file} (artifact)` }),
    );
  },
};

// ---------------------------------------------------------------- names and environment

/** App names and the directory names they are derived from: accepted ones stay inside HOP3_HOME/apps. */
export const appNameTarget: FuzzTarget<string> = {
  name: 'app-name',
  description: 'validateAppName, appPaths and appNameFromDir on arbitrary strings',
  arbitrary: fc.oneof(text, pathLike, fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,70}$/)),
  check: async (input) => {
    const derived = await outcomeOf(() => {
      const name = appNameFromDir(input);
      validateAppName(name);
    });
    if (derived !== 'ok') throw new FuzzFailure(`appNameFromDir(${JSON.stringify(input)}) refused with ${derived}: a directory name always gives an app name`);
    const outcome = await outcomeOf(() => {
      const name = validateAppName(input);
      const root = appPaths(name, { HOP3_HOME: '/h' }).root;
      if (path.dirname(root) !== '/h/apps' || path.basename(root) !== name) throw new FuzzFailure(`app ${JSON.stringify(name)} lives at ${root}, outside /h/apps`);
    });
    if (outcome !== 'ok' && outcome !== 'CONFIG_INVALID_APP_NAME') throw new FuzzFailure(`validateAppName refused with ${outcome}`);
    return outcome;
  },
};

/** env_vars: accepted exactly when env-rules finds no problem, and an accepted one reaches a real process. */
export const envTarget: FuzzTarget<{ env: Record<string, string>; spawn: boolean }> = {
  name: 'env',
  description: 'env-rules and the artifact schema on arbitrary env names/values; a sample is spawned',
  arbitrary: fc.record({
    env: fc.dictionary(envKey, fc.oneof({ weight: 8, arbitrary: text }, { weight: 1, arbitrary: fc.constant(BIG) }, { weight: 1, arbitrary: fc.constant(BIG.slice(0, 100 * 1024)) }), { maxKeys: 12 }),
    spawn: fc.nat(49).map((n) => n === 0),
  }),
  check: async (input) => {
    const problems = envProblems(input.env);
    const artifact = { ...cloneJson(HOST_ARTIFACT), runtime: { ...cloneJson(HOST_ARTIFACT.runtime), env_vars: input.env } };
    const outcome = await outcomeOf(() => parseArtifact(artifact, 'fuzz.json'), artifactWhere('fuzz.json'));
    const hasProto = Object.hasOwn(input.env, '__proto__');
    if ((outcome === 'ok') !== (problems.length === 0 && !hasProto)) {
      throw new FuzzFailure(`the artifact ${outcome === 'ok' ? 'accepted' : 'refused'} env_vars that env-rules ${problems.length === 0 ? 'accepts' : `refuses (${problems[0]!.problem})`}`);
    }
    if (outcome === 'ok' && input.spawn) {
      const result = spawnSync('/bin/sh', ['-c', 'exit 0'], { env: { PATH: '/usr/bin:/bin', ...input.env } });
      if (result.error || result.status !== 0) throw new FuzzFailure(`accepted env_vars do not reach a process: ${result.error?.message ?? `exit ${result.status}`}`);
    }
    return outcome;
  },
};

/** One `sh -s` for a whole run: each case is a line of it, read back until one NUL per word has come. */
class Shell {
  private child = this.start();
  private output = '';
  private waiting: (() => void) | undefined;
  private broken = false;

  private start() {
    const child = spawn('/bin/sh', ['-s'], { stdio: ['pipe', 'pipe', 'ignore'] });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      this.output += chunk;
      this.waiting?.();
    });
    child.on('exit', () => this.waiting?.());
    return child;
  }

  /** What `printf '%s\0' <words quoted>` prints, split at the NULs. */
  async echo(words: string[]): Promise<string[]> {
    if (this.broken) {
      this.child.kill('SIGKILL');
      this.child = this.start();
    }
    this.broken = true; // until this case comes back whole: a timeout leaves the shell mid-command
    this.output = '';
    this.child.stdin.write(`printf '%s\\0' ${words.map(shellQuote).join(' ')}\n`);
    while (this.output.split('\0').length <= words.length && this.child.exitCode === null) await new Promise<void>((resolve) => (this.waiting = resolve));
    if (this.child.exitCode !== null) throw new FuzzFailure(`sh exited (${this.child.exitCode}) reading the quoted words`);
    this.broken = false;
    return this.output.split('\0').slice(0, -1);
  }

  dispose(): void {
    this.child.kill('SIGKILL');
  }
}

/** Words hop3 puts into `sh -c` commands come out of the shell exactly as they went in. */
export const shellQuoteTarget: FuzzTarget<string[]> = {
  name: 'shell-quote',
  description: 'shellQuote round trip through /bin/sh (printf %s) on arbitrary words',
  arbitrary: fc.array(fc.oneof(text, pathLike).map((word) => word.replace(/\0/g, '').replace(/[\ud800-\udfff]/g, '')), { minLength: 1, maxLength: 20 }).filter((words) => words.join('').length < 100_000),
  sampleFactor: 0.25,
  setup: async () => new Shell(),
  teardown: async (shell) => (shell as Shell).dispose(),
  async check(words, shell) {
    const echoed = await (shell as Shell).echo(words);
    if (!isDeepStrictEqual(echoed, words)) throw new FuzzFailure(`sh gave back ${JSON.stringify(echoed).slice(0, 300)} for ${JSON.stringify(words).slice(0, 300)}`);
    return 'ok';
  },
};

// ---------------------------------------------------------------- the command line

/** Commands that build, run or probe engines and host tools: never generated (the in-process CLI must stay side-effect free). */
const UNSAFE = new Set(['build', 'run', 'deploy', 'doctor', 'plan', 'nix', 'eject', 'attach']);
const cliToken = fc.oneof(
  fc.constantFrom('--json', '--explain', '-f', '--follow', '--worker', '--lines', '--port', '--name', '--help', '-h', '--version', '-V', '--', '-', 'seeded', 'ghost', 'package.json', '.', '/', '--lines=5', '--bogus', 'help'),
  text,
).filter((token) => !UNSAFE.has(token));
/** A command line, and what the seeded app's files hold for it: a fuzzed artifact for `inspect`, a fuzzed run state for `status`. */
interface CliCase {
  args: string[];
  artifact?: unknown;
  state?: string;
}
const ARTIFACT_ARG = '<fuzzed artifact file>';
const flags = fc.subarray(['--json', '--explain']);
/** A fuzzed release record that status may read: never one naming the container deployer (that would ask the daemon). */
const processState = runStateText.map((textValue) => textValue.replace(/"deployer":"container"/g, '"deployer":"process"'));
const cliCase: fc.Arbitrary<CliCase> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom('inspect', 'status', 'logs', 'stop', 'help'), fc.array(cliToken, { maxLength: 5 })).map(([command, rest]) => ({ args: [command, ...rest] })) },
  { weight: 2, arbitrary: fc.oneof(text, fc.constantFrom('1', '80', '65535', '65536', '0')).map((port) => ({ args: ['run', 'fuzz-ghost', '--port', port] })) },
  { weight: 2, arbitrary: fc.oneof(text, fc.constantFrom('0', '50')).map((lines) => ({ args: ['logs', 'ghost', '--lines', lines] })) },
  { weight: 2, arbitrary: fc.tuple(mutatedArtifact, flags).map(([artifact, chosen]) => ({ args: ['inspect', ARTIFACT_ARG, ...chosen], artifact })) },
  { weight: 2, arbitrary: fc.tuple(processState, fc.subarray(['--json']), fc.constantFrom([], ['seeded'])).map(([state, chosen, app]) => ({ args: ['status', ...app, ...chosen], state })) },
  { weight: 1, arbitrary: fc.array(cliToken, { maxLength: 4 }).filter((args) => !args[0]?.startsWith('-')).map((args) => ({ args })) },
);

/** `hop3: <message> [CODE]`: the code ends the message's last line. */
const CODE_IN_STDERR = /^hop3: [^]*? \[([A-Z][A-Z0-9_]+)\]$/m;
/** What must never reach the terminal raw from a file or an argument (newline and tab are fine). */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/** The real main(argv) in-process, with a temp HOP3_HOME holding one built (not running) app. */
export const cliTarget: FuzzTarget<CliCase> = {
  name: 'cli-args',
  sampleFactor: 0.5,
  description: 'main(argv) in-process: inspect (fuzzed artifacts), status (fuzzed run states), logs, stop, help, --port/--lines',
  arbitrary: cliCase,
  async setup() {
    const home = await tempDir('cli');
    const paths = appPaths('seeded', { HOP3_HOME: home });
    await mkdir(paths.root, { recursive: true });
    const location = path.join(home, 'apps', 'seeded', 'builds', '1');
    const artifact = { ...cloneJson(HOST_ARTIFACT), app_name: 'seeded', location, runtime: { ...cloneJson(HOST_ARTIFACT.runtime), working_dir: location, path_prepend: [], static_paths: {} } };
    await writeFile(paths.latestArtifact, serializeArtifact(parseArtifact(artifact)));
    return home;
  },
  teardown: (home) => rm(home as string, { recursive: true, force: true }),
  async check(input, home) {
    const paths = appPaths('seeded', { HOP3_HOME: home as string });
    const artifactFile = path.join(home as string, 'fuzzed.json');
    if (input.artifact !== undefined) await writeFile(artifactFile, JSON.stringify(input.artifact));
    if (input.state !== undefined) await mkdir(paths.releases, { recursive: true }).then(() => writeFile(path.join(paths.releases, '000001.json'), input.state!));
    const args = input.args.map((arg) => (arg === ARTIFACT_ARG ? artifactFile : arg));
    if (args.some((arg) => UNSAFE.has(arg)) && args[0] !== 'run') throw new Error('generator produced an unsafe command');
    if (input.state !== undefined && args[0] !== 'status') throw new Error('a run state is only seeded for status: stop would act on it');
    let result: Awaited<ReturnType<typeof runCliInProcess>>;
    try {
      result = await runCliInProcess(args, { HOP3_HOME: home as string, HOP3_ROUTER: 'off' }); // no nginx: stop would look for it
    } finally {
      await rm(paths.releases, { recursive: true, force: true });
    }
    if (![0, 1, 2].includes(result.exitCode)) throw new FuzzFailure(`exit code ${result.exitCode}`);
    if (result.stderr.includes('[INTERNAL]')) throw new FuzzFailure(`an internal error: ${result.stderr}`);
    if (/^\s+at .*:\d+:\d+\)?$/m.test(result.stderr)) throw new FuzzFailure(`a stack trace: ${result.stderr}`);
    if (RAW_CONTROL.test(result.stderr)) throw new FuzzFailure(`a raw control character on stderr: ${JSON.stringify(result.stderr)}`);
    const code = CODE_IN_STDERR.exec(result.stderr)?.[1];
    if (code !== undefined && !(ERROR_CODES as readonly string[]).includes(code)) throw new FuzzFailure(`unknown code ${code}`);
    // Without a code: commander's own usage errors ("error: ...") or the usage text for a bare `hop3`.
    if (result.exitCode !== 0 && code === undefined && !/^(error: |Usage: )/m.test(result.stderr)) throw new FuzzFailure(`exit ${result.exitCode} without a coded error or a usage message: ${JSON.stringify(result.stderr)}`);
    if (code !== undefined && !/\nhint: /.test(result.stderr)) throw new FuzzFailure(`${code} without a hint`);
    // `run fuzz-ghost --port X` gets past --port exactly when X is 1-65535 in plain digits (then: no build of fuzz-ghost).
    if (args[0] === 'run' && args.length === 4 && !args[3]!.startsWith('-')) {
      const valid = /^[1-9][0-9]{0,4}$/.test(args[3]!) && Number(args[3]) <= 65535;
      if (code !== (valid ? 'ARTIFACT_NOT_FOUND' : 'CLI_INVALID_OPTION')) throw new FuzzFailure(`--port ${JSON.stringify(args[3])} gave ${code ?? `exit ${result.exitCode}`}`);
    }
    return code ?? (result.exitCode === 0 ? 'ok' : 'usage error');
  },
};

/** Every fuzz target, in report order. */
export const TARGETS: readonly FuzzTarget<never>[] = [
  tomlTextTarget,
  appConfigTarget,
  procfileTarget,
  staticfileTarget,
  artifactTarget,
  artifactFileTarget,
  runStateTarget,
  appNameTarget,
  envTarget,
  shellQuoteTarget,
  cliTarget,
] as FuzzTarget<never>[];
