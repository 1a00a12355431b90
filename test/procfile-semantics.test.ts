import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkProbes, freePort, Sandbox } from './helpers/sandbox.js';

interface ReleaseJson {
  release: number;
  status: string;
  reason?: string;
}

interface StatusJson {
  running: boolean;
  workers: { name: string; running: boolean; state?: string; restarts?: number }[];
}

async function body(port: number): Promise<string> {
  return (await (await fetch(`http://127.0.0.1:${port}/`)).text()).trim();
}

const setVersion = (app: string, version: string) => writeFile(path.join(app, 'version.txt'), `${version}\n`);

describe('Procfile release: Heroku\'s release phase', () => {
  it('runs once per new release before its workers (then prerun), and a failing one aborts the deploy with the previous release serving', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('procfile-release');
    const port = await freePort();
    const data = path.join(sandbox.home, 'apps', 'procfile-release', 'data');

    const first = await sandbox.hop3(['deploy', app, '--port', String(port)]);
    expect(first.exitCode, first.all).toBe(0);
    expect(first.stderr).toContain('release phase of release 1: python3 release.py');
    expect(first.stderr).toContain('release phase for v1 (PROC_TYPE=release)'); // the deploy log
    await checkProbes(`http://127.0.0.1:${port}/`, 'procfile-release'); // the web worker started after the release phase
    expect(await readFile(path.join(data, 'order'), 'utf8')).toBe('release\nprerun\n');

    await setVersion(app, 'v2');
    const second = await sandbox.hop3(['deploy', app, '--quiet']);
    expect(second.exitCode, second.all).toBe(0);
    expect(await body(port)).toBe('v2 after release 2');
    // A deploy that changes nothing is no new release: nothing runs again.
    const same = await sandbox.hop3(['deploy', app, '--quiet']);
    expect(same.exitCode, same.all).toBe(0);
    expect(await readFile(path.join(data, 'release-count'), 'utf8')).toBe('2');

    await setVersion(app, 'fail-release');
    const failed = await sandbox.hop3(['deploy', app]);
    expect(failed.exitCode, failed.all).toBe(1);
    expect(failed.stderr).toContain('[DEPLOY_RELEASE_FAILED]');
    expect(failed.stderr).toContain('migration failed: refusing to release');
    expect(await body(port)).toBe('v2 after release 2');
    expect(await readFile(path.join(data, 'order'), 'utf8')).toBe('release\nprerun\nrelease\nprerun\n');
    const releases = JSON.parse((await sandbox.hop3(['releases', 'procfile-release', '--json'])).stdout) as ReleaseJson[];
    expect(releases.map((r) => [r.release, r.status])).toEqual([
      [1, 'retired'],
      [2, 'live'],
      [3, 'failed'],
    ]);
    expect(releases[2]!.reason).toContain('release command `python3 release.py` failed');

    // The live release's release phase is in the app's logs, before its workers'.
    const phase = await sandbox.hop3(['logs', 'procfile-release', '--worker', 'release']);
    expect(phase.stdout).toContain('release phase for v2 (PROC_TYPE=release)');
    expect(phase.stdout).not.toContain('fail-release');
    expect((await sandbox.hop3(['logs', 'procfile-release'])).stdout).toMatch(/release phase for v2 \(PROC_TYPE=release\)\n--- release phase done\n--- \S+ starting web/);
    const failedLog = await readFile(path.join(sandbox.home, 'apps', 'procfile-release', 'logs', 'release', '000003.log'), 'utf8');
    expect(failedLog).toContain('migration failed: refusing to release');

    expect((await sandbox.hop3(['stop', 'procfile-release'])).exitCode).toBe(0);
    expect(await sandbox.strayPids()).toEqual([]);
  });

  it('without the router, runs the release phase before stopping the running release, which keeps serving when it fails', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('procfile-release');
    const port = await freePort();
    const env = { HOP3_ROUTER: 'off' };
    expect((await sandbox.hop3(['deploy', app, '--port', String(port), '--quiet'], { env })).exitCode).toBe(0);
    await setVersion(app, 'fail-release');
    const failed = await sandbox.hop3(['deploy', app], { env });
    expect(failed.exitCode, failed.all).toBe(1);
    expect(failed.stderr).toContain('[DEPLOY_RELEASE_FAILED]');
    expect(failed.stderr).not.toContain('stopping the running release');
    expect(failed.stderr).not.toContain('restarting release');
    expect(await body(port)).toBe('v1 after release 1');
    expect((await sandbox.hop3(['stop', 'procfile-release'])).exitCode).toBe(0);
    expect(await sandbox.strayPids()).toEqual([]);
  });
});

describe('Procfile cron: scheduled jobs', () => {
  it('runs `cron: * * * * * <command>` at the next minute under hop3\'s supervisor, logged like a worker, stopped with the release', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('procfile-cron');
    const port = await freePort();
    const deploy = await sandbox.hop3(['deploy', app, '--port', String(port)]);
    expect(deploy.exitCode, deploy.all).toBe(0);
    expect(deploy.stderr).toContain('scheduled cron (* * * * *;');
    expect(deploy.stderr).not.toMatch(/warning:.*cron/);
    await checkProbes(`http://127.0.0.1:${port}/`, 'procfile-cron');
    const inspect = await sandbox.hop3(['inspect', 'procfile-cron', '--json']);
    expect(JSON.parse(inspect.stdout).runtime).toMatchObject({ workers: { web: expect.any(String) }, scheduled: { cron: { schedule: '* * * * *' } } });

    const status = JSON.parse((await sandbox.hop3(['status', 'procfile-cron', '--json'])).stdout) as StatusJson;
    expect(status.running).toBe(true);
    expect(status.workers.find((w) => w.name === 'cron')).toMatchObject({ running: true, state: 'scheduled' });

    // At most a minute until the next one, plus the time hop3 takes to start a run.
    await expect.poll(async () => (await sandbox.hop3(['logs', 'procfile-cron', '--worker', 'cron'])).stdout, { timeout: 75_000, interval: 1000 }).toMatch(/cron ran at \d\d:\d\d:\d\d as cron/);
    const log = (await sandbox.hop3(['logs', 'procfile-cron', '--worker', 'cron'])).stdout;
    const seconds = Number(/cron ran at \d\d:\d\d:(\d\d)/.exec(log)![1]);
    expect(seconds, log).toBeLessThan(15); // at the start of a minute, not whenever the deploy happened
    expect(log).toMatch(/run 1 exited \(code 0\)/);
    expect((await sandbox.hop3(['logs', 'procfile-cron'])).stdout).toMatch(/^cron \| cron ran at/m);
    const after = JSON.parse((await sandbox.hop3(['status', 'procfile-cron', '--json'])).stdout) as StatusJson;
    expect(after.workers.find((w) => w.name === 'cron')).toMatchObject({ running: true, state: 'scheduled' });

    expect((await sandbox.hop3(['stop', 'procfile-cron'])).exitCode).toBe(0);
    expect(await sandbox.strayPids()).toEqual([]); // the job's supervisor is gone with the release
  });
});

describe('workers that finish', () => {
  it('makes `cron: <plain command>` an ordinary worker (with a warning); one that exits 0 is finished and the deploy succeeds', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('procfile-finished');
    const port = await freePort();
    const deploy = await sandbox.hop3(['deploy', app, '--port', String(port)]);
    expect(deploy.exitCode, deploy.all).toBe(0);
    expect(deploy.stderr).toContain('warning: Procfile:4: `cron:` has no schedule, so it runs as an ordinary long-running worker named cron');
    await checkProbes(`http://127.0.0.1:${port}/`, 'procfile-finished');

    const status = JSON.parse((await sandbox.hop3(['status', 'procfile-finished', '--json'])).stdout) as StatusJson;
    expect(status.running).toBe(true);
    expect(status.workers.find((w) => w.name === 'cron')).toMatchObject({ running: false, state: 'finished', restarts: 0 });
    expect((await sandbox.hop3(['status', 'procfile-finished'])).stdout).toMatch(/^ {2}cron +down \d+ finished$/m);
    const log = (await sandbox.hop3(['logs', 'procfile-finished', '--worker', 'cron'])).stdout;
    expect(log.match(/one-shot job done/g)).toHaveLength(1); // not restarted
    expect(log).toContain('finished (code 0)');

    // Without a web worker too: the deploy waits a moment, and a worker that finished in it is no failure.
    await writeFile(path.join(app, 'Procfile'), 'job: echo "job done"\n');
    const alone = await sandbox.hop3(['deploy', app]);
    expect(alone.exitCode, alone.all).toBe(0);
    const jobs = JSON.parse((await sandbox.hop3(['status', 'procfile-finished', '--json'])).stdout) as StatusJson;
    expect(jobs).toMatchObject({ running: true, workers: [{ name: 'job', state: 'finished' }] });
    // A failing one still fails the deploy.
    await writeFile(path.join(app, 'Procfile'), 'job: echo "job failed"; exit 4\n');
    const failing = await sandbox.hop3(['deploy', app]);
    expect(failing.exitCode, failing.all).toBe(1);
    expect(failing.stderr).toContain('[DEPLOY_WORKER_EXITED]');

    expect((await sandbox.hop3(['stop', 'procfile-finished'])).exitCode).toBe(0);
    expect(await sandbox.strayPids()).toEqual([]);
  });
});
