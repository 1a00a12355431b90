import { readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { engineGate } from '../helpers/engines.js';
import { checkProbes, freePort, ROOT, Sandbox } from '../helpers/sandbox.js';
import { NIX_TEST_ENV } from './nix-env.js';

const FIXTURE = 'nix-default'; // three store paths: the app, its site and the package set's python3
const APP = 'shp-nix';

/**
 * "Another host" for Nix means: a machine whose /nix/store lacks the closure. Each run below happens in a private
 * mount namespace whose /nix is an empty directory (a second store root, at the real /nix/store path, so store paths
 * mean what they say): only `nix copy --from` the cache can put the app there, and its workers run from that store.
 */
const describeNixCopy = await engineGate('nix', 'root');

describeNixCopy('hop3 push of a nix build to a file:// binary cache, run on a host whose store lacks it', () => {
  let sandbox: Sandbox;
  let pushedFile: string;
  let location: string;
  let closure: string[];
  let publicKey: string;

  beforeAll(async () => {
    sandbox = await Sandbox.create();
    const dir = await sandbox.fixture(FIXTURE, APP);
    const built = path.join(sandbox.dir, 'built.json');
    const build = await sandbox.hop3(['build', dir, '--builder', 'nix', '--output', built, '--quiet'], { env: { ...NIX_TEST_ENV, HOP3_HOME: path.join(sandbox.dir, 'ci-home') } });
    expect(build.exitCode, build.all).toBe(0);
    location = JSON.parse(await readFile(built, 'utf8')).location;
    closure = (await execa('nix-store', ['-qR', location])).stdout.split('\n').sort();
    expect(closure.length).toBeGreaterThanOrEqual(3);
    const secret = path.join(sandbox.dir, 'cache.sec');
    await execa('sh', ['-c', 'nix key generate-secret --key-name hop3-test-1 > "$1"', 'sh', secret]);
    publicKey = (await execa('sh', ['-c', 'nix key convert-secret-to-public < "$1"', 'sh', secret])).stdout.trim();
    const push = await sandbox.hop3(['push', built, '--store', `file://${sandbox.dir}/cache`, '--sign-key', secret, '--json']);
    expect(push.exitCode, push.all).toBe(0);
    pushedFile = JSON.parse(push.stdout).file;
  }, 240_000);

  afterAll(async () => {
    await sandbox?.[Symbol.asyncDispose]();
  });

  it('copies the whole closure to the cache, signed, and records the cache (not the key) in the new artifact', async () => {
    const pushed = JSON.parse(await readFile(pushedFile, 'utf8'));
    expect(pushed.location).toBe(location);
    expect(pushed.metadata.pushed).toEqual({ from: location, store: `file://${sandbox.dir}/cache`, signed: true });
    const narinfos = (await readdir(path.join(sandbox.dir, 'cache'))).filter((name) => name.endsWith('.narinfo')).sort();
    expect(narinfos).toEqual(closure.map((p) => `${path.basename(p).slice(0, 32)}.narinfo`).sort());
    const info = await readFile(path.join(sandbox.dir, 'cache', `${path.basename(location).slice(0, 32)}.narinfo`), 'utf8');
    expect(info).toMatch(/^Sig: hop3-test-1:/m);
  });

  it('refuses paths signed by a key the other store does not trust', async () => {
    const run = await runInFreshStore(path.join(sandbox.dir, 'untrusting-store'), {});
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('[DEPLOY_NIX_COPY_FAILED]');
    expect(run.stderr).toMatch(/lacks a valid signature|no signature/);
    expect(run.stderr).toContain('HOP3_NIX_TRUSTED_PUBLIC_KEYS');
    // HOP3_NIX_COPY_FROM overrides the recorded store; it is checked before nix sees it.
    const bad = await runInFreshStore(path.join(sandbox.dir, 'override-store'), { HOP3_NIX_COPY_FROM: '--store=/tmp' });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain('HOP3_NIX_COPY_FROM: "--store=/tmp" is not a Nix store URI');
    expect(bad.stderr).toContain('[DEPLOY_NIX_COPY_FAILED]');
  });

  it('realises the closure from the cache into the empty store and serves HTTP from there', async () => {
    const store = path.join(sandbox.dir, 'prod-store');
    const port = await freePort();
    const run = await runInFreshStore(store, { HOP3_NIX_TRUSTED_PUBLIC_KEYS: publicKey }, ['--port', String(port)]);
    expect(run.exitCode, run.all).toBe(0);
    expect(run.stderr).toContain(`copying ${location} from file://${sandbox.dir}/cache`);
    // The second store holds exactly the closure, copied in by the run.
    expect((await readdir(path.join(store, 'store'))).filter((name) => !name.startsWith('.')).sort()).toEqual(closure.map((p) => path.basename(p)).sort());
    await checkProbes(`http://127.0.0.1:${port}/`, FIXTURE);
    // The app holds a GC root on it there, as a build here would have made.
    const buildId = JSON.parse(await readFile(pushedFile, 'utf8')).build_id;
    expect(await readlink(path.join(sandbox.home, 'apps', APP, 'gcroots', buildId))).toBe(location);
    // Its worker lives in that namespace: its /nix is the second store, not this host's.
    const status = JSON.parse((await sandbox.hop3(['status', APP, '--json'])).stdout);
    expect(status).toMatchObject({ running: true, deployer: 'process', builder: 'nix' });
    const pid = Number(status.workers[0].id);
    expect(await readlink(`/proc/${pid}/ns/mnt`)).not.toBe(await readlink('/proc/self/ns/mnt'));
    expect((await sandbox.hop3(['stop', APP])).exitCode).toBe(0);
    expect(await sandbox.strayPids()).toEqual([]);
  });

  /** `hop3 run --artifact <pushed>` under the sandbox's home, in a mount namespace where /nix is `store` (created empty). */
  async function runInFreshStore(store: string, env: NodeJS.ProcessEnv, extra: string[] = []) {
    const script = 'mkdir -p "$1" && mount --bind "$1" /nix && shift && exec "$@"';
    return execa('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', store, process.execPath, path.join(ROOT, 'bin', 'hop3.js'), 'run', APP, '--artifact', pushedFile, ...extra], {
      env: { ...sandbox.env, ...NIX_TEST_ENV, ...env },
      extendEnv: false,
      reject: false,
      all: true,
      stdin: 'ignore',
    });
  }
});
