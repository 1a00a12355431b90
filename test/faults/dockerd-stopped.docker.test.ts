import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, expect, it } from 'vitest';
import { ROOT, Sandbox } from '../helpers/sandbox.js';
import { describeDocker, docker, sweepTestResources } from '../docker/docker-engine.js';

/** The daemon this machine's setup started (scripts/setup-engines.sh), verified by its command line before it is signalled. */
async function dockerdPid(): Promise<number> {
  const pid = Number((await readFile('/var/run/docker.pid', 'utf8')).trim());
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!(pid > 1) || !cmdline.startsWith('dockerd')) throw new Error(`/var/run/docker.pid names ${pid}, which is not dockerd`);
  return pid;
}

/** Stop dockerd the way an operator would (SIGTERM, then wait), then start it again the way the setup script does. */
async function withDockerdStoppedAfter(delayMs: number, during: () => Promise<void>): Promise<void> {
  const pid = await dockerdPid();
  const stop = (async () => {
    await sleep(delayMs);
    process.kill(pid, 'SIGTERM');
    // Gone, not merely exited: the setup script would take an unreaped dockerd for a running one.
    for (let i = 0; i < 300 && existsSync(`/proc/${pid}`); i++) await sleep(100);
  })();
  try {
    await during();
  } finally {
    await stop;
    const setup = await execa('bash', [path.join(ROOT, 'scripts/setup-engines.sh')], { all: true, reject: false });
    if (setup.exitCode !== 0) throw new Error(`could not start dockerd again:\n${setup.all}`);
  }
}

const APPS = ['dkf-slow'];

// These tests stop the machine's dockerd: vitest runs them in a group of their own, after every other test.
describeDocker('dockerd stopped in the middle of a build or a deploy', () => {
  afterAll(() => sweepTestResources(APPS));

  it('fails the build with a coded error, leaves no lock and no half-made build, and builds once dockerd is back', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('docker-own-dockerfile', 'dkf-slow');
    await writeFile(path.join(app, 'Dockerfile'), 'FROM hop3/base-busybox:latest\nRUN sleep 20\nCOPY . /srv/site/\n');
    let build!: Awaited<ReturnType<Sandbox['hop3']>>;
    await withDockerdStoppedAfter(3000, async () => {
      build = await sandbox.hop3(['build', app, '--builder', 'docker', '--quiet']);
    });
    expect(build.exitCode, build.all).toBe(1);
    expect(build.stderr).toMatch(/\[BUILD_DOCKER_(BUILD_FAILED|DAEMON_UNREACHABLE)\]/);
    expect(build.stderr).not.toContain('INTERNAL');
    expect(build.stderr).not.toMatch(/\n\s+at /);
    const builds = path.join(sandbox.home, 'apps', 'dkf-slow', 'builds');
    expect(await readdir(builds).catch(() => [])).toEqual([]);
    // The daemon is back: the same build now works at once (no stale lock to wait for).
    await writeFile(path.join(app, 'Dockerfile'), 'FROM hop3/base-busybox:latest\nCOPY . /srv/site/\n');
    const again = await sandbox.hop3(['build', app, '--builder', 'docker', '--quiet']);
    expect(again.exitCode, again.all).toBe(0);
    expect(await docker.ping()).toBeTruthy();
  });
});
