import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { freePort, ROOT, Sandbox } from './helpers/sandbox.js';

const BIN = path.join(ROOT, 'bin', 'hop3.js');
const canMount = (await execa('unshare', ['--mount', '--propagation', 'private', 'mount', '-t', 'tmpfs', 'tmpfs', '/mnt'], { reject: false })).exitCode === 0;

function expectCodedError(result: { exitCode?: number; stderr: string }, code: string, ...fragments: string[]) {
  expect(result.exitCode, result.stderr).toBe(1);
  expect(result.stderr).toContain(`[${code}]`);
  expect(result.stderr).toMatch(/\nhint: /);
  expect(result.stderr).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m); // no stack trace
  for (const fragment of fragments) expect(result.stderr).toContain(fragment);
}

/**
 * Run `hop3 <args>` with HOP3_HOME prepared by `setup` (mount commands) in a private mount namespace:
 * the read-only and full file systems exist only for that command. The timeout bounds a regression to
 * retrying for a minute; a coded error comes at once.
 */
function hop3WithMounts(sandbox: Sandbox, setup: string, args: string[]) {
  return execa('unshare', ['--mount', '--propagation', 'private', 'bash', '-euc', `${setup}\nexec "$0" "$@"`, process.execPath, BIN, ...args], {
    env: sandbox.env,
    extendEnv: false,
    reject: false,
    timeout: 20_000,
  });
}

describe.skipIf(!canMount && process.env.HOP3_REQUIRE_ENGINES !== '1')('a read-only or full HOP3_HOME', () => {
  it('is a coded error at once for build, deploy, and run of an app built before', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('static-site');
    await mkdir(sandbox.home, { recursive: true });
    const readOnly = `mount --bind "$HOP3_HOME" "$HOP3_HOME"; mount -o remount,bind,ro "$HOP3_HOME"`;
    for (const args of [['build', app], ['deploy', app]]) {
      expectCodedError(await hop3WithMounts(sandbox, readOnly, args), 'STATE_HOME_READONLY', `HOP3_HOME (${sandbox.home}) is not writable`, 'read-only file system');
    }
    // Built while writable, then mounted read-only: nothing under HOP3_HOME can change (no minute of lock retries).
    expect((await sandbox.hop3(['build', app])).exitCode).toBe(0);
    expectCodedError(await hop3WithMounts(sandbox, readOnly, ['run', 'static-site', '--port', String(await freePort())]), 'STATE_HOME_READONLY', `${sandbox.home}/apps/static-site`);
    expect(await sandbox.strayPids()).toEqual([]);
  });

  it('says HOP3_HOME is full when the app lock cannot be created (no inode left), at once', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('static-site');
    await mkdir(sandbox.home, { recursive: true });
    const noInodes = 'mount -t tmpfs -o size=10m,nr_inodes=3 tmpfs "$HOP3_HOME"';
    expectCodedError(await hop3WithMounts(sandbox, noInodes, ['deploy', app]), 'STATE_WRITE_FAILED', `HOP3_HOME (${sandbox.home}) is full: cannot create the lock`, 'no space left on device');
    expect(await sandbox.strayPids()).toEqual([]);
  });
});

describe('hop3 status with one app\'s run state damaged', () => {
  it('lists every app and marks the damaged one (exit 0); asked for that app alone, it is the coded error (exit 1)', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('procfile-app', 'good');
    const port = await freePort();
    expect((await sandbox.hop3(['deploy', app, '--port', String(port)])).exitCode).toBe(0);
    // A truncated record, and one whose artifact is not an artifact.
    const damaged = {
      truncated: '{"app": "trunc',
      'bad-artifact': JSON.stringify({ app: 'bad-artifact', release: 1, status: 'live', deployer: 'process', artifact: { schema_version: 1 }, port: 1, url: null, created_at: 'now', started_at: 'now', workers: [] }),
    };
    for (const [name, text] of Object.entries(damaged)) {
      await mkdir(path.join(sandbox.home, 'apps', name, 'releases'), { recursive: true });
      await writeFile(path.join(sandbox.home, 'apps', name, 'releases', '000001.json'), text);
    }

    const listing = await sandbox.hop3(['status']);
    expect(listing.exitCode, listing.all).toBe(0);
    expect(listing.stdout).toMatch(/^bad-artifact: STATE CORRUPT \(.*apps\/bad-artifact\/releases\/000001\.json.*\)$/m);
    expect(listing.stdout).toMatch(new RegExp(`^good: running release 1 build .* http://127.0.0.1:${port}/$`, 'm'));
    expect(listing.stdout).toMatch(/^truncated: STATE CORRUPT \(.*000001\.json is damaged.*\)$/m);

    const json = JSON.parse((await sandbox.hop3(['status', '--json'])).stdout) as { app: string; running: boolean; error?: { code: string; message: string } }[];
    expect(json.map((entry) => [entry.app, entry.running, entry.error?.code])).toEqual([
      ['bad-artifact', false, 'STATE_CORRUPT'],
      ['good', true, undefined],
      ['truncated', false, 'STATE_CORRUPT'],
    ]);
    expect(json[2]!.error!.message).toContain('truncated/releases/000001.json');

    expectCodedError(await sandbox.hop3(['status', 'truncated']), 'STATE_CORRUPT', 'truncated/releases/000001.json is damaged');
    expectCodedError(await sandbox.hop3(['status', 'bad-artifact', '--json']), 'STATE_CORRUPT', 'bad-artifact/releases/000001.json');
    expect((await sandbox.hop3(['stop', 'good'])).exitCode).toBe(0);
  });
});
