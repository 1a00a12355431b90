import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadArtifact, parseArtifact, saveArtifact, serializeArtifact } from '../../src/artifact/artifact-file.js';
import { BUILDER_NAMES } from '../../builders/registry.js';
import { artifactJsonSchema, JSON_SCHEMA_FILE } from '../../src/artifact/json-schema.js';
import { ARTIFACT_SCHEMA_VERSION } from '../../src/artifact/schema.js';
import { envNameProblem, envProblems, envTotalProblem, envValueProblem, MAX_ENV_ENTRY_BYTES, MAX_ENV_TOTAL_BYTES } from '../../src/artifact/env-rules.js';
import { isHop3Error, type ErrorCode } from '../../src/errors.js';
import { ROOT } from '../helpers/sandbox.js';

const valid = {
  schema_version: ARTIFACT_SCHEMA_VERSION,
  kind: 'python',
  location: '/srv/apps/demo/builds/1',
  runtime: {
    env_vars: { B: '2', A: '1' },
    path_prepend: ['/srv/apps/demo/builds/1/app/.venv/bin'],
    working_dir: '/srv/apps/demo/builds/1/app',
    workers: { web: 'python app.py' },
    before_run: [],
    static_paths: {},
    healthcheck_path: '/health',
    healthcheck_timeout: 30,
  },
  builder: 'local',
  app_name: 'demo',
  built_at: '2026-11-26T04:00:00.000Z',
  build_id: '20261126T040000Z-abcdef12',
  metadata: {},
};

async function expectCode(promise: Promise<unknown>, code: ErrorCode, ...fragments: string[]) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isHop3Error(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
  for (const fragment of fragments) expect((error as Error).message).toContain(fragment);
}

describe('artifact model', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-artifact-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('is deeply frozen once parsed', () => {
    const artifact = parseArtifact(structuredClone(valid));
    expect(Object.isFrozen(artifact)).toBe(true);
    expect(Object.isFrozen(artifact.runtime.workers)).toBe(true);
    expect(() => {
      (artifact.runtime.workers as Record<string, string>).web = 'evil';
    }).toThrow(TypeError);
  });

  it('saves with sorted keys and a trailing newline, and loads back equal', async () => {
    const file = path.join(dir, 'BUILD_ARTIFACT.json');
    await saveArtifact(file, parseArtifact(structuredClone(valid)));
    const text = await readFile(file, 'utf8');
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.indexOf('"A"')).toBeLessThan(text.indexOf('"B"'));
    expect(text.indexOf('"app_name"')).toBeLessThan(text.indexOf('"schema_version"'));
    expect(await loadArtifact(file)).toEqual(valid);
    expect(serializeArtifact(await loadArtifact(file))).toBe(text);
  });

  it('rejects an invalid artifact before writing, keeping the previous file', async () => {
    const file = path.join(dir, 'BUILD_ARTIFACT.json');
    await saveArtifact(file, parseArtifact(structuredClone(valid)));
    const before = await readFile(file, 'utf8');
    await expectCode(saveArtifact(file, { ...valid, kind: '' } as never), 'ARTIFACT_INVALID', 'kind');
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('names the file and the field path of a schema violation', async () => {
    const file = path.join(dir, 'bad.json');
    const { runtime, ...rest } = structuredClone(valid);
    await writeFile(file, JSON.stringify({ ...rest, runtime: { ...runtime, workers: { web: 42 } } }));
    await expectCode(loadArtifact(file), 'ARTIFACT_INVALID', file, 'runtime.workers.web');
  });

  it('names a missing field', async () => {
    const file = path.join(dir, 'missing.json');
    const { location: _omitted, ...rest } = structuredClone(valid);
    await writeFile(file, JSON.stringify(rest));
    await expectCode(loadArtifact(file), 'ARTIFACT_INVALID', file, 'location');
  });

  it('reports truncated JSON as such', async () => {
    const file = path.join(dir, 'truncated.json');
    await writeFile(file, JSON.stringify(valid).slice(0, 100));
    await expectCode(loadArtifact(file), 'ARTIFACT_INVALID_JSON', file);
  });

  it('reads version 1 artifacts (no release phase, no scheduled jobs) and writes the current version', async () => {
    expect(ARTIFACT_SCHEMA_VERSION).toBe(2);
    const old = parseArtifact({ ...structuredClone(valid), schema_version: 1 });
    expect(old.schema_version).toBe(1);
    expect(old.runtime.release).toBeUndefined();
    expect(old.runtime.scheduled).toBeUndefined();
    const current = parseArtifact({ ...structuredClone(valid), runtime: { ...valid.runtime, release: ['./migrate'], scheduled: { cron: { schedule: '*/5 * * * *', command: 'python3 job.py' } } } });
    expect(current.runtime.scheduled).toEqual({ cron: { schedule: '*/5 * * * *', command: 'python3 job.py' } });
    const file = path.join(dir, 'v1.json');
    await writeFile(file, JSON.stringify({ ...valid, schema_version: 1 }));
    expect((await loadArtifact(file)).runtime.workers).toEqual(valid.runtime.workers);
  });

  it('rejects unknown schema versions with an upgrade hint', async () => {
    const file = path.join(dir, 'future.json');
    await writeFile(file, JSON.stringify({ ...valid, schema_version: 99 }));
    await expectCode(loadArtifact(file), 'ARTIFACT_VERSION_UNSUPPORTED', '99');
  });

  it('reports a missing file with what to do', async () => {
    await expectCode(loadArtifact(path.join(dir, 'nope.json')), 'ARTIFACT_NOT_FOUND', 'nope.json');
  });

  it('rejects app names that could escape the state dir', () => {
    expect(() => parseArtifact({ ...valid, app_name: '../etc' })).toThrow(/app_name/);
  });
});

type Mutable = Omit<typeof valid, 'runtime'> & { runtime: Record<string, unknown> };

/** The message of the error parseArtifact throws for `value` (the test fails if it does not throw ARTIFACT_INVALID). */
function refusal(value: unknown): string {
  try {
    parseArtifact(value, 'art.json');
  } catch (error) {
    expect(isHop3Error(error, 'ARTIFACT_INVALID'), String(error)).toBe(true);
    expect((error as { file?: string }).file).toBe('art.json');
    return (error as Error).message;
  }
  throw new Error('expected ARTIFACT_INVALID, but the artifact was accepted');
}

function mutated(change: (artifact: Mutable) => void): Mutable {
  const artifact = structuredClone(valid) as Mutable;
  change(artifact);
  return artifact;
}

const image = (change: (artifact: Mutable) => void = () => {}) =>
  mutated((a) => {
    a.location = 'hop3/demo:20261126T040000Z-abcdef12';
    a.runtime.working_dir = '/app';
    a.runtime.path_prepend = ['/app/.venv/bin'];
    change(a);
  });
const store = (change: (artifact: Mutable) => void = () => {}) =>
  mutated((a) => {
    a.location = '/nix/store/0c2hkvwmnfq7sz7cf1yyk6h2fzfgb8pn-demo-1';
    a.runtime.working_dir = '/nix/store/0c2hkvwmnfq7sz7cf1yyk6h2fzfgb8pn-demo-1/app';
    a.runtime.path_prepend = [];
    change(a);
  });

/** Values that can never run are refused when the artifact is read, naming the file and the field. */
describe('artifact refusals', () => {
  it('accepts the usual host, store and image artifacts', () => {
    for (const artifact of [valid, store(), image(), image((a) => (a.runtime.working_dir = '/')), mutated((a) => (a.runtime.working_dir = ''))]) {
      expect(() => parseArtifact(structuredClone(artifact))).not.toThrow();
    }
  });

  it.each([
    ['the root directory', '/', 'root directory'],
    ['a top-level directory', '/srv', 'system directory'],
    ['a system directory', '/usr/local', 'system directory'],
    ['a directory under /etc', '/etc/hop3/builds/1', 'system directory'],
    ['a path with ".." segments', '/srv/apps/../../etc/x', 'normalised'],
    ['a path with a trailing "/"', '/srv/apps/demo/builds/1/', 'normalised'],
    ['a relative path', './builds/1', 'neither an absolute directory nor a Docker image reference'],
    ['a parent-relative path', '../builds/1', 'neither an absolute directory nor a Docker image reference'],
    ['the store itself', '/nix/store', 'system directory'],
    ['the store with a trailing "/"', '/nix/store/', 'normalised'],
    ['a store path without a hash', '/nix/store/demo', 'Nix store path'],
    ['a NUL character', '/srv/apps/demo\0/x', 'NUL'],
    ['a newline', '/srv/apps/demo\n/x', 'control character'],
  ])('location: %s', (_title, location, fragment) => {
    const message = refusal(mutated((a) => (a.location = location)));
    expect(message).toContain('art.json');
    expect(message).toContain(`location: `);
    expect(message).toContain(fragment);
  });

  it.each([
    ['working_dir outside the location', mutated((a) => (a.runtime.working_dir = '/srv/apps/demo/builds/2')), 'runtime.working_dir', 'outside the artifact\'s location'],
    ['working_dir escaping with ".."', mutated((a) => (a.runtime.working_dir = '/srv/apps/demo/builds/1/../../../../etc')), 'runtime.working_dir', 'outside'],
    ['working_dir relative', mutated((a) => (a.runtime.working_dir = 'app')), 'runtime.working_dir', 'not an absolute path'],
    ['working_dir a sibling with the same prefix', mutated((a) => (a.runtime.working_dir = '/srv/apps/demo/builds/10')), 'runtime.working_dir', 'outside'],
    ['working_dir outside a store path', store((a) => (a.runtime.working_dir = '/nix/store')), 'runtime.working_dir', 'outside'],
    ['working_dir in an image with ".."', image((a) => (a.runtime.working_dir = '/app/../etc')), 'runtime.working_dir', '".." segments'],
    ['working_dir in an image, relative', image((a) => (a.runtime.working_dir = 'app')), 'runtime.working_dir', 'not an absolute path'],
    ['a static dir outside the location', mutated((a) => (a.runtime.static_paths = { '/': '/srv/apps/demo/builds/1/../../../..' })), 'runtime.static_paths./', 'outside'],
    ['a static prefix without "/"', mutated((a) => (a.runtime.static_paths = { assets: '/srv/apps/demo/builds/1/app' })), 'runtime.static_paths', 'URL prefix'],
    ['a static prefix with "="', mutated((a) => (a.runtime.static_paths = { '/a=b': '/srv/apps/demo/builds/1/app' })), 'runtime.static_paths', 'URL prefix'],
    ['a worker name with a shell metacharacter', mutated((a) => (a.runtime.workers = { 'web;rm': 'x' })), 'runtime.workers', 'worker names'],
    ['a worker name too long for a log file', mutated((a) => (a.runtime.workers = { ['w'.repeat(65)]: 'x' })), 'runtime.workers', '1-64'],
    ['an empty command', mutated((a) => (a.runtime.workers = { web: '' })), 'runtime.workers.web', 'empty'],
    ['a blank command', mutated((a) => (a.runtime.workers = { web: ' \t ' })), 'runtime.workers.web', 'whitespace'],
    ['a command with NUL', mutated((a) => (a.runtime.workers = { web: 'python\0app.py' })), 'runtime.workers.web', 'NUL'],
    ['a command over 128 KiB', mutated((a) => (a.runtime.workers = { web: `echo ${'x'.repeat(128 * 1024)}` })), 'runtime.workers.web', 'limit'],
    ['an empty before_run command', mutated((a) => (a.runtime.before_run = ['true', ''])), 'runtime.before_run[1]', 'empty'],
    ['an empty release command', mutated((a) => (a.runtime.release = [''])), 'runtime.release[0]', 'empty'],
    ['a scheduled job with a bad schedule', mutated((a) => (a.runtime.scheduled = { cron: { schedule: '61 * * * *', command: 'x' } })), 'runtime.scheduled.cron.schedule', 'minute: 61'],
    ['a scheduled job with 6 fields', mutated((a) => (a.runtime.scheduled = { cron: { schedule: '0 * * * * *', command: 'x' } })), 'runtime.scheduled.cron.schedule', '5 fields'],
    ['a scheduled job named like a worker', mutated((a) => (a.runtime.scheduled = { web: { schedule: '* * * * *', command: 'x' } })), 'runtime.scheduled.web', 'also a worker'],
    ['a scheduled job with a bad name', mutated((a) => (a.runtime.scheduled = { 'c;x': { schedule: '* * * * *', command: 'x' } })), 'runtime.scheduled', 'worker names'],
    ['release in a version 1 artifact', mutated((a) => ((a.schema_version = 1), (a.runtime.release = ['x']))), 'runtime.release', 'schema_version 1'],
    ['an empty env name', mutated((a) => (a.runtime.env_vars = { '': 'x' })), 'runtime.env_vars', 'cannot be empty'],
    ['an env name with "="', mutated((a) => (a.runtime.env_vars = { 'A=B': 'x' })), 'runtime.env_vars.A=B', '"="'],
    ['an env name with NUL', mutated((a) => (a.runtime.env_vars = { 'A\0': 'x' })), 'runtime.env_vars', 'NUL'],
    ['an env value with NUL', mutated((a) => (a.runtime.env_vars = { SECRET: 'a\0b' })), 'runtime.env_vars.SECRET', 'NUL'],
    ['an env value over 128 KiB', mutated((a) => (a.runtime.env_vars = { BIG: 'x'.repeat(128 * 1024) })), 'runtime.env_vars.BIG', '131072 bytes'],
    ['env over 1 MiB in total', mutated((a) => (a.runtime.env_vars = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`V${i}`, 'x'.repeat(120 * 1024)])))), 'runtime.env_vars', '1 MiB'],
    ['a relative PATH entry', mutated((a) => (a.runtime.path_prepend = ['.venv/bin'])), 'runtime.path_prepend[0]', 'not an absolute path'],
    ['a PATH entry with NUL', mutated((a) => (a.runtime.path_prepend = ['/srv\0/bin'])), 'runtime.path_prepend[0]', 'NUL'],
    ['a PATH entry with ":"', mutated((a) => (a.runtime.path_prepend = ['/srv/a:/b'])), 'runtime.path_prepend[0]', 'PATH separator'],
    ['a healthcheck path without "/"', mutated((a) => (a.runtime.healthcheck_path = 'health')), 'runtime.healthcheck_path', 'starts with "/"'],
    ['a healthcheck path with a space', mutated((a) => (a.runtime.healthcheck_path = '/health check')), 'runtime.healthcheck_path', 'whitespace'],
    ['a healthcheck path with NUL', mutated((a) => (a.runtime.healthcheck_path = '/health\0')), 'runtime.healthcheck_path', 'control'],
  ])('%s', (_title, artifact, field, fragment) => {
    const message = refusal(artifact);
    expect(message).toContain(field);
    expect(message).toContain(fragment);
  });

  it('refuses a "__proto__" key (JSON keeps it, objects would silently drop the worker)', () => {
    const text = JSON.stringify(valid).replace('"workers":{', '"workers":{"__proto__":"evil",');
    expect(refusal(JSON.parse(text))).toContain('runtime.workers: has a "__proto__" key');
  });

  it('refuses nesting deep enough to overflow the stack, without overflowing it', () => {
    const text = JSON.stringify(valid).replace('"metadata":{}', `"metadata":{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    expect(refusal(JSON.parse(text))).toContain('nested more than');
  });
});

describe('environment rules', () => {
  it('say why a name or value cannot reach a process, and accept what can', () => {
    expect(envNameProblem('PATH')).toBeUndefined();
    expect(envNameProblem('weird name-ok.1')).toBeUndefined(); // execve accepts it; only "=" and NUL cannot be expressed
    expect(envNameProblem('')).toContain('empty');
    expect(envNameProblem('A=B')).toContain('"="');
    expect(envValueProblem('A', 'x'.repeat(MAX_ENV_ENTRY_BYTES - 3))).toBeUndefined(); // "A=" + value + NUL is exactly the limit
    expect(envValueProblem('A', 'x'.repeat(MAX_ENV_ENTRY_BYTES - 2))).toContain('at most 131072 bytes');
    expect(envValueProblem('A', 'é'.repeat(MAX_ENV_ENTRY_BYTES / 2))).toContain('bytes'); // counted in bytes, not characters
    expect(envTotalProblem({ A: 'x'.repeat(MAX_ENV_TOTAL_BYTES) })).toContain('1 MiB');
    expect(envProblems({ GOOD: '1', 'BAD=': '2' })).toEqual([{ name: 'BAD=', problem: expect.stringContaining('"="') }]);
  });
});

describe('JSON Schema', () => {
  it('checked-in schema is generated from the zod schema (run `npm run schema` when this fails)', async () => {
    expect(await readFile(path.join(ROOT, JSON_SCHEMA_FILE), 'utf8')).toBe(artifactJsonSchema(BUILDER_NAMES));
  });

  it('validates a saved artifact and rejects a broken one', async () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    const validate = ajv.compile(JSON.parse(await readFile(path.join(ROOT, JSON_SCHEMA_FILE), 'utf8')));
    expect(validate(JSON.parse(serializeArtifact(parseArtifact(structuredClone(valid))))), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...valid, builder: 'podman' })).toBe(false);
    expect(validate({ ...valid, built_at: 'yesterday' })).toBe(false);
  });
});
