import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { engineGate } from './helpers/engines.js';
import { underLoad } from './helpers/load.js';
import { freePort, Sandbox } from './helpers/sandbox.js';

const describeWithRouter = await engineGate('nginx');
const hasWrk = (await execa('wrk', ['--version'], { reject: false }).catch(() => ({ exitCode: 1 }))).exitCode !== undefined;

interface ReleaseJson {
  release: number;
  status: string;
  reason?: string;
  build_id: string;
  rollback_of?: number;
}

async function setVersion(app: string, version: string): Promise<void> {
  await writeFile(path.join(app, 'version.txt'), `${version}\n`);
}

async function body(port: number): Promise<string> {
  return (await (await fetch(`http://127.0.0.1:${port}/`)).text()).trim();
}

describeWithRouter('releases behind the nginx router', () => {
  it('swaps 10 redeploys under load with no failed request and no socket error', async () => {
    expect(hasWrk, 'wrk is needed (scripts/setup-engines.sh installs it)').toBe(true);
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('swap-app');
    const port = await freePort();
    const first = await sandbox.hop3(['deploy', app, '--port', String(port), '--quiet']);
    expect(first.exitCode, first.all).toBe(0);
    const { load } = await underLoad(`http://127.0.0.1:${port}/`, async () => {
      for (let n = 2; n <= 11; n++) {
        await setVersion(app, `v${n}`);
        const deploy = await sandbox.hop3(['deploy', app, '--quiet']);
        expect(deploy.exitCode, deploy.all).toBe(0);
      }
    });
    console.log(`process app, 10 redeploys: ${load.requests} requests, ${load.failures} failed, ${load.socketErrors} socket errors; probe ${load.probes - load.probeFailures}/${load.probes} ok, longest outage ${load.longestOutageMs} ms`);
    expect(load.requests).toBeGreaterThan(100);
    expect({ failures: load.failures, socketErrors: load.socketErrors, probeFailures: load.probeFailures }).toEqual({ failures: 0, socketErrors: 0, probeFailures: 0 });
    expect(await body(port)).toBe('swap-app v11');
    const releases = JSON.parse((await sandbox.hop3(['releases', 'swap-app', '--json'])).stdout) as ReleaseJson[];
    expect(releases.filter((r) => r.status === 'live').map((r) => r.release)).toEqual([11]);
  });

  it('keeps the previous release serving when the new one fails its health check, and marks it failed', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('swap-app');
    const port = await freePort();
    expect((await sandbox.hop3(['deploy', app, '--port', String(port), '--quiet'])).exitCode).toBe(0);
    await writeFile(path.join(app, 'hop3.toml'), '[healthcheck]\npath = "/health"\ntimeout = 3\n');
    await setVersion(app, 'broken');
    const { result: deploy, load } = await underLoad(`http://127.0.0.1:${port}/`, () => sandbox.hop3(['deploy', app, '--quiet']));
    expect(deploy.exitCode, deploy.all).toBe(1);
    expect(deploy.stderr).toContain('[DEPLOY_NOT_HEALTHY]');
    expect({ probeFailures: load.probeFailures, failures: load.failures, bodies: [...load.bodies] }).toEqual({ probeFailures: 0, failures: 0, bodies: ['swap-app v1'] });
    expect(await body(port)).toBe('swap-app v1');
    const releases = JSON.parse((await sandbox.hop3(['releases', 'swap-app', '--json'])).stdout) as ReleaseJson[];
    expect(releases.map((r) => [r.release, r.status])).toEqual([
      [1, 'live'],
      [2, 'failed'],
    ]);
    expect(releases[1]!.reason).toContain('Not healthy');
  });

  it('rolls back to the previous release without rebuilding, and prunes beyond keep-releases but never the live one', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('swap-app');
    await writeFile(path.join(app, 'hop3.toml'), '[run]\nkeep-releases = 2\ndrain = 0\n');
    const port = await freePort();
    for (let n = 1; n <= 4; n++) {
      await setVersion(app, `v${n}`);
      const deploy = await sandbox.hop3(['deploy', app, '--port', String(port), '--quiet']);
      expect(deploy.exitCode, deploy.all).toBe(0);
    }
    const builds = path.join(sandbox.home, 'apps', 'swap-app', 'builds');
    let releases = JSON.parse((await sandbox.hop3(['releases', 'swap-app', '--json'])).stdout) as ReleaseJson[];
    expect(releases.map((r) => [r.release, r.status])).toEqual([
      [3, 'retired'],
      [4, 'live'],
    ]);
    expect((await readdir(builds)).sort()).toEqual(releases.map((r) => r.build_id).sort());

    const v3 = releases[0]!.build_id;
    const rollback = await sandbox.hop3(['rollback', 'swap-app']);
    expect(rollback.exitCode, rollback.all).toBe(0);
    expect(rollback.stderr).not.toContain('building');
    expect(await body(port)).toBe('swap-app v3');
    releases = JSON.parse((await sandbox.hop3(['releases', 'swap-app', '--json'])).stdout) as ReleaseJson[];
    expect(releases.at(-1)).toMatchObject({ release: 5, status: 'live', rollback_of: 3, build_id: v3 });
    expect(releases.map((r) => r.release)).toEqual([4, 5]); // kept: the live one and one more
    const missing = await sandbox.hop3(['rollback', 'swap-app', '--to', '1']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('[DEPLOY_NO_RELEASE]');
  });

  it('serialises concurrent deploys of one app: consecutive release numbers, exactly one live', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('swap-app');
    await writeFile(path.join(app, 'hop3.toml'), '[run]\ndrain = 0\n');
    const port = await freePort();
    expect((await sandbox.hop3(['deploy', app, '--port', String(port), '--quiet'])).exitCode).toBe(0);
    const deploys = await Promise.all([1, 2, 3].map(() => sandbox.hop3(['deploy', app, '--force', '--quiet'])));
    for (const deploy of deploys) expect(deploy.exitCode, deploy.all).toBe(0);
    const releases = JSON.parse((await sandbox.hop3(['releases', 'swap-app', '--json'])).stdout) as ReleaseJson[];
    expect(releases.map((r) => r.release)).toEqual([1, 2, 3, 4]);
    expect(releases.filter((r) => r.status === 'live').map((r) => r.release)).toEqual([4]);
    expect(releases.slice(0, 3).every((r) => r.status === 'retired')).toBe(true);
  });

  it('restarts a killed worker, and marks one that keeps crashing as failed', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('swap-app');
    await writeFile(path.join(app, 'Procfile'), 'web: python3 server.py\ncrasher: sleep 5; exit 3\n');
    await writeFile(path.join(app, 'hop3.toml'), '[run]\nmax-restarts = 2\n');
    const port = await freePort();
    const deploy = await sandbox.hop3(['deploy', app, '--port', String(port), '--quiet']);
    expect(deploy.exitCode, deploy.all).toBe(0);

    const statusFile = path.join(sandbox.home, 'apps', 'swap-app', 'run', 'workers', '1-web.json');
    const { pid } = JSON.parse(await readFile(statusFile, 'utf8')) as { pid: number };
    process.kill(pid, 'SIGKILL'); // the web worker itself (the supervisor started it for this sandbox)
    type Status = { workers: { name: string; running: boolean; restarts?: number; state?: string }[] };
    const worker = async (name: string) => (JSON.parse((await sandbox.hop3(['status', 'swap-app', '--json'])).stdout) as Status).workers.find((w) => w.name === name)!;
    for (let i = 0; i < 100 && (await worker('web')).restarts !== 1; i++) await sleep(100);
    expect(await worker('web')).toMatchObject({ running: true, restarts: 1, state: 'running' });
    // A single instance is down while it restarts; it answers again once the supervisor restarted it.
    let answer = '';
    for (let i = 0; i < 100 && answer !== 'swap-app v1'; i++) answer = await body(port).catch(() => '').then(async (b) => (b === 'swap-app v1' ? b : (await sleep(100), b)));
    expect(answer).toBe('swap-app v1');

    for (let i = 0; i < 600 && (await worker('crasher')).state !== 'failed'; i++) await sleep(100);
    expect(await worker('crasher')).toMatchObject({ running: false, state: 'failed', restarts: 2 });
    const text = await sandbox.hop3(['status', 'swap-app']);
    expect(text.stdout).toMatch(/crasher\s+down \d+ failed \(2 restarts\)/);
  });
});
