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
