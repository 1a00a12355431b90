import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isHop3Error } from '../../src/errors.js';
import { silentLogger } from '../../src/log/logger.js';
import { generateValue, loadGeneratedEnv } from '../../src/state/generated-env.js';
import { appPaths } from '../../src/state/hop3-home.js';

const root = await mkdtemp(path.join(os.tmpdir(), 'hop3-generated-'));
afterAll(() => rm(root, { recursive: true, force: true }));
let homes = 0;
const paths = () => appPaths('demo', { HOP3_HOME: path.join(root, `home-${++homes}`) });

describe('generated [env] values', () => {
  it.each([
    [{ generate: 'hex' }, /^[0-9a-f]{64}$/],
    [{ generate: 'hex', length: 8 }, /^[0-9a-f]{16}$/],
    [{ generate: 'urlsafe' }, /^[A-Za-z0-9_-]{43}$/],
    [{ generate: 'base64', length: 3 }, /^[A-Za-z0-9+/]{4}$/],
    [{ generate: 'password', length: 20 }, /^[A-Za-z0-9]{20}$/],
    [{ generate: 'uuid' }, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/],
    [{ generate: 'hex', length: 4, prefix: 'base64:' }, /^base64:[0-9a-f]{8}$/],
  ] as const)('makes %j as Python\'s secrets would (length in random bytes; password and uuid aside)', (spec, shape) => {
    const [a, b] = [generateValue(spec), generateValue(spec)];
    expect(a).toMatch(shape);
    expect(a).not.toBe(b);
  });

  it('makes each value once, keeps it 0600 in the app\'s state, and adds only what is new', async () => {
    const app = paths();
    const first = await loadGeneratedEnv(app, { SECRET_KEY: { generate: 'urlsafe' } }, silentLogger);
    expect((await stat(app.generatedEnv)).mode & 0o777).toBe(0o600);
    const again = await loadGeneratedEnv(app, { SECRET_KEY: { generate: 'urlsafe' }, TOKEN: { generate: 'hex', length: 4 } }, silentLogger);
    expect(again.SECRET_KEY).toBe(first.SECRET_KEY);
    expect(again.TOKEN).toMatch(/^[0-9a-f]{8}$/);
    expect(JSON.parse(await readFile(app.generatedEnv, 'utf8'))).toEqual(again);
    // Another HOP3_HOME is another host's app: another value.
    expect((await loadGeneratedEnv(paths(), { SECRET_KEY: { generate: 'urlsafe' } }, silentLogger)).SECRET_KEY).not.toBe(first.SECRET_KEY);
    expect(await loadGeneratedEnv(paths(), {}, silentLogger)).toEqual({});
  });

  it('refuses a damaged file (STATE_CORRUPT) rather than silently making new secrets', async () => {
    const app = paths();
    await loadGeneratedEnv(app, { A: { generate: 'hex' } }, silentLogger);
    await writeFile(app.generatedEnv, '{"A": 1}');
    const error = await loadGeneratedEnv(app, { A: { generate: 'hex' } }, silentLogger).catch((e: unknown) => e);
    expect(isHop3Error(error, 'STATE_CORRUPT'), String(error)).toBe(true);
    expect((error as Error).message).toContain(app.generatedEnv);
  });
});
