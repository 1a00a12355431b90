import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dockerConfigAuth, parseRegistry, pinnedDigest, registryHostOf } from '../../src/engines/docker-registry.js';
import { publicStoreUri, storeUriProblem } from '../../src/engines/nix-store.js';
import { isHop3Error } from '../../src/errors.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('--registry', () => {
  it.each([
    ['127.0.0.1:5000', { host: '127.0.0.1:5000', namespace: '' }],
    ['registry.example.com/team/web', { host: 'registry.example.com', namespace: 'team/web' }],
    ['https://localhost/ns/', { host: 'localhost', namespace: 'ns' }],
  ])('reads %s', (spec, expected) => expect(parseRegistry(spec)).toEqual(expected));

  it.each([['myteam'], ['myteam/app'], ['registry.example.com/Team'], ['-x:5000'], ['host:5000/a b']])('refuses %s as a usage error', (spec) => {
    let error: unknown;
    try {
      parseRegistry(spec);
    } catch (caught) {
      error = caught;
    }
    expect(isHop3Error(error, 'SHIP_REGISTRY_INVALID') && error.usage).toBe(true);
  });

  it('tells pinned references and their registry', () => {
    expect(pinnedDigest(`127.0.0.1:5000/ns/app@${DIGEST}`)).toBe(DIGEST);
    expect(pinnedDigest('hop3/app:1')).toBeUndefined();
    expect(registryHostOf(`127.0.0.1:5000/ns/app@${DIGEST}`)).toBe('127.0.0.1:5000');
    expect(registryHostOf('hop3/app:1')).toBeUndefined();
  });
});

describe('registry credentials from the Docker config', () => {
  let dir: string | undefined;
  afterEach(async () => dir && rm(dir, { recursive: true, force: true }));

  async function config(value: unknown): Promise<NodeJS.ProcessEnv> {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-dockercfg-'));
    await writeFile(path.join(dir, 'config.json'), typeof value === 'string' ? value : JSON.stringify(value));
    return { DOCKER_CONFIG: dir, PATH: dir };
  }

  it('reads auths entries under any of the keys docker login writes', async () => {
    const env = await config({ auths: { 'https://r.example.com/v1/': { auth: Buffer.from('ci:s3:cret').toString('base64') }, 'other.example.com': { username: 'u', password: 'p' } } });
    expect(await dockerConfigAuth('r.example.com', env)).toEqual({ username: 'ci', password: 's3:cret', serveraddress: 'r.example.com' });
    expect(await dockerConfigAuth('other.example.com', env)).toEqual({ username: 'u', password: 'p', serveraddress: 'other.example.com' });
    expect(await dockerConfigAuth('nowhere.example.com', env)).toBeUndefined();
  });

  it('asks the credential helper the config names', async () => {
    const env = await config({ credHelpers: { 'r.example.com': 'hop3test' } });
    const helper = path.join(dir!, 'docker-credential-hop3test');
    await writeFile(helper, '#!/bin/sh\nread host\n[ "$1" = get ] && [ "$host" = r.example.com ] && echo \'{"Username":"bot","Secret":"tok"}\' && exit 0\necho "credentials not found in native keychain"; exit 1\n');
    await chmod(helper, 0o755);
    expect(await dockerConfigAuth('r.example.com', env)).toEqual({ username: 'bot', password: 'tok', serveraddress: 'r.example.com' });
  });

  it('no config is anonymous; a broken one is a coded error', async () => {
    expect(await dockerConfigAuth('r.example.com', { DOCKER_CONFIG: '/nonexistent-hop3' })).toBeUndefined();
    const env = await config('{ not json');
    await expect(dockerConfigAuth('r.example.com', env)).rejects.toMatchObject({ code: 'SHIP_REGISTRY_AUTH' });
  });
});

describe('nix store URIs', () => {
  it.each(['file:///srv/cache', 'https://cache.example.com', 'ssh://deploy@prod', 'local?root=/x', '/srv/store'])('accepts %s', (uri) => expect(storeUriProblem(uri)).toBeUndefined());
  it.each(['', '--option', 'file:///a b', 'cache', 'ftp://x'])('refuses %j', (uri) => expect(storeUriProblem(uri)).toBeDefined());
  it('records a URI without its secret key', () => {
    expect(publicStoreUri('file:///c?secret-key=/k.sec')).toBe('file:///c');
    expect(publicStoreUri('file:///c?compression=zstd&secret-key=/k.sec')).toBe('file:///c?compression=zstd');
  });
});
