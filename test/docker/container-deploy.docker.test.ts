import { appendFile, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { checkProbes, freePort, Sandbox } from '../helpers/sandbox.js';
import { containersOf, describeDocker, docker, LOCAL_IMAGES, sweepTestResources } from './docker-engine.js';

/** fixture, app name, a line its log must show, its web-facing worker. */
const FIXTURES = [
  ['python-web', 'dkd-python', 'python-web listening on 0.0.0.0', 'web'],
  ['python-wsgi', 'dkd-wsgi', 'serving app:app on http://0.0.0.0', 'wsgi'],
  ['node-web', 'dkd-node', 'node-web listening on 0.0.0.0', 'web'],
  ['static-site', 'dkd-static', 'static server on http://0.0.0.0', 'web'],
  ['docker-own-dockerfile', 'dkd-own', '', 'web'],
] as const;
const APPS = [...FIXTURES.map(([, app]) => app), 'dkd-cmd', 'dkd-limits', 'dkd-prerun', 'dkd-crash', 'dkd-missing', 'dkd-release'];

describeDocker('container deployer (real daemon)', () => {
  afterAll(() => sweepTestResources(APPS));

  it.each(FIXTURES)('runs the docker artifact of %s from its artifact file, serves it, and stop removes the containers', async (fixture, app, logLine, worker) => {
    await using sandbox = await Sandbox.create();
    const dir = await sandbox.fixture(fixture, app);
    const artifactFile = path.join(sandbox.dir, `${app}.json`);
    const build = await sandbox.hop3(['build', dir, '--builder', 'docker', '--output', artifactFile, '--quiet'], { env: LOCAL_IMAGES });
    expect(build.exitCode, build.all).toBe(0);

    // Another HOP3_HOME: the artifact (and the image on this host) is all `run` needs.
    const runEnv = { HOP3_HOME: path.join(sandbox.dir, 'run-home') };
    const port = await freePort();
    const run = await sandbox.hop3(['run', app, '--artifact', artifactFile, '--port', String(port)], { env: runEnv });
    expect(run.exitCode, run.all).toBe(0);
    await checkProbes(`http://127.0.0.1:${port}/`, fixture);

    const status = JSON.parse((await sandbox.hop3(['status', app, '--json'], { env: runEnv })).stdout);
    expect(status).toMatchObject({ app, running: true, deployer: 'container', builder: 'docker', port, url: `http://127.0.0.1:${port}/` });
    expect(status.workers).toEqual([expect.objectContaining({ name: worker, running: true })]);
    const [container] = await containersOf(app);
    expect(status.workers[0].id).toBe(container);
    const info = await docker.getContainer(container!).inspect();
    expect(info.Config.Labels).toMatchObject({ 'io.hop3.app': app, 'io.hop3.worker': worker, 'io.hop3.test': '1' });
    // Published on 127.0.0.1 only: on the release's slot behind the router (the router listens on the public port), else on the public port.
    const published = status.slot_port ?? port;
    expect(info.HostConfig.PortBindings).toEqual({ [`${published}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(published) }] });
    // Least privilege: no privileged mode, no capability (none is needed above port 1024), no setuid gain.
    const { Privileged, CapDrop, CapAdd, SecurityOpt } = info.HostConfig;
    expect({ Privileged, CapDrop, CapAdd: CapAdd ?? [], SecurityOpt }).toEqual({ Privileged: false, CapDrop: ['ALL'], CapAdd: [], SecurityOpt: ['no-new-privileges'] });

    if (logLine) {
      const logs = await sandbox.hop3(['logs', app, '--lines', '20'], { env: runEnv });
      expect(logs.stdout).toContain(logLine);
    }

    const stop = await sandbox.hop3(['stop', app], { env: runEnv });
    expect(stop.exitCode, stop.all).toBe(0);
    expect(await containersOf(app)).toEqual([]);
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } }); // the published port is gone
  });

  it('starts an app that has only a Dockerfile with the image\'s CMD as its web worker', async () => {
    await using sandbox = await Sandbox.create();
    const dir = await sandbox.fixture('docker-own-dockerfile', 'dkd-cmd');
    await rm(path.join(dir, 'Procfile'));
    await appendFile(path.join(dir, 'Dockerfile'), 'CMD ["sh", "-c", "exec httpd -f -p \\"$BIND_ADDRESS:$PORT\\" -h /srv/site"]\n');
    const port = await freePort();
    const deploy = await sandbox.hop3(['deploy', dir, '--builder', 'docker', '--port', String(port)], { env: LOCAL_IMAGES });
    expect(deploy.exitCode, deploy.all).toBe(0);
    await checkProbes(`http://127.0.0.1:${port}/`, 'docker-own-dockerfile');
    expect((await sandbox.hop3(['stop', 'dkd-cmd'])).exitCode).toBe(0);
    expect(await containersOf('dkd-cmd')).toEqual([]);
  });

  it('builds a Dockerfile named in hop3.toml and applies its memory and CPU limits to the containers', async () => {
    await using sandbox = await Sandbox.create();
    const dir = await sandbox.fixture('docker-own-dockerfile', 'dkd-limits');
    await rm(path.join(dir, 'Procfile'));
    await rename(path.join(dir, 'Dockerfile'), path.join(dir, 'web.Dockerfile'));
    await appendFile(path.join(dir, 'web.Dockerfile'), 'CMD ["sh", "-c", "exec httpd -f -p \\"$BIND_ADDRESS:$PORT\\" -h /srv/site"]\n');
    await writeFile(path.join(dir, 'hop3.toml'), '[docker]\ndockerfile = "web.Dockerfile"\nmemory = "96m"\ncpus = 0.5\n');
    const port = await freePort();
    const deploy = await sandbox.hop3(['deploy', dir, '--builder', 'docker', '--port', String(port)], { env: LOCAL_IMAGES });
    expect(deploy.exitCode, deploy.all).toBe(0);
    await checkProbes(`http://127.0.0.1:${port}/`, 'docker-own-dockerfile');
    const [container] = await containersOf('dkd-limits');
    const { HostConfig } = await docker.getContainer(container!).inspect();
    expect({ memory: HostConfig.Memory, cpus: HostConfig.NanoCpus }).toEqual({ memory: 96 * 1024 ** 2, cpus: 500_000_000 });
    expect((await sandbox.hop3(['stop', 'dkd-limits'])).exitCode).toBe(0);
  });

  it('runs before_run in a one-off container and fails the deploy when it fails, leaving nothing running', async () => {
    await using sandbox = await Sandbox.create();
    const dir = await sandbox.fixture('python-web', 'dkd-prerun');
    await appendFile(path.join(dir, 'hop3.toml'), '\n[run]\nbefore-run = "echo preparing in $PWD as $(id -u) && grep -E \'^(CapBnd|NoNewPrivs)\' /proc/self/status && exit 4"\n');
    const deploy = await sandbox.hop3(['deploy', dir, '--builder', 'docker', '--port', String(await freePort())], { env: LOCAL_IMAGES });
    expect(deploy.exitCode).toBe(1);
    expect(deploy.stderr).toContain('[DEPLOY_CONTAINER_BEFORE_RUN_FAILED]');
    expect(deploy.stderr).toContain('preparing in /app as 10001');
    expect(deploy.stderr).toContain('exit code 4');
    // The one-off container is as unprivileged as the workers.
    expect(deploy.stderr).toMatch(/CapBnd:\s+0000000000000000/);
    expect(deploy.stderr).toMatch(/NoNewPrivs:\s+1/);
    expect(await containersOf('dkd-prerun')).toEqual([]);
  });

  it('runs the Procfile release phase in a one-off container before the workers, warns that scheduled jobs are not run, and a failing release keeps the running one', async () => {
    await using sandbox = await Sandbox.create();
    const dir = await sandbox.fixture('docker-own-dockerfile', 'dkd-release');
    const procfile = (release: string) =>
      `web: httpd -f -p "$BIND_ADDRESS:$PORT" -h /srv/site\nrelease: ${release}\ncron: * * * * * echo tick\nonce: echo "one-shot done"\n`;
    await writeFile(path.join(dir, 'Procfile'), procfile('echo "release phase in $PWD as $PROC_TYPE"'));
    const port = await freePort();
    const deploy = await sandbox.hop3(['deploy', dir, '--builder', 'docker', '--port', String(port)], { env: LOCAL_IMAGES });
    expect(deploy.exitCode, deploy.all).toBe(0);
    expect(deploy.stderr).toContain('release phase of release 1 (one-off container)');
    expect(deploy.stderr).toContain('release phase in /srv/site as release');
    expect(deploy.stderr).toContain('warning: scheduled jobs are not run by the container target yet: cron');
    await checkProbes(`http://127.0.0.1:${port}/`, 'docker-own-dockerfile');
    // The one-shot worker exited 0: finished, and the deploy succeeded; the release's one-off container is gone.
    const status = JSON.parse((await sandbox.hop3(['status', 'dkd-release', '--json'])).stdout);
    expect(status.running).toBe(true);
    expect(status.workers.map((w: { name: string; state: string }) => [w.name, w.state]).sort()).toEqual([['once', 'finished'], ['web', 'running']]);
    expect((await sandbox.hop3(['logs', 'dkd-release', '--worker', 'release'])).stdout).toContain('release phase in /srv/site as release');
    expect(await containersOf('dkd-release')).toHaveLength(2);

    await writeFile(path.join(dir, 'Procfile'), procfile('echo "migration failed"; exit 5'));
    const failed = await sandbox.hop3(['deploy', dir, '--builder', 'docker'], { env: LOCAL_IMAGES });
    expect(failed.exitCode, failed.all).toBe(1);
    expect(failed.stderr).toContain('[DEPLOY_CONTAINER_RELEASE_FAILED]');
    expect(failed.stderr).toContain('exit code 5');
    await checkProbes(`http://127.0.0.1:${port}/`, 'docker-own-dockerfile');
    expect(await containersOf('dkd-release')).toHaveLength(2); // release 1's: no one-off container left behind
    expect((await sandbox.hop3(['stop', 'dkd-release'])).exitCode).toBe(0);
    expect(await containersOf('dkd-release')).toEqual([]);
  });

  // Without the router the running release is stopped before the new one starts: the check must come first.
  it.each([['behind the router', {}], ['without the router', { HOP3_ROUTER: 'off' }]])('refuses an image that is not on this host before touching the running release (%s)', async (_mode, env) => {
    await using sandbox = await Sandbox.create();
    const dir = await sandbox.fixture('procfile-app', 'dkd-missing');
    const port = String(await freePort());
    const deploy = await sandbox.hop3(['deploy', dir, '--builder', 'local', '--port', port], { env });
    expect(deploy.exitCode, deploy.all).toBe(0);
    const releases = await readdir(path.join(sandbox.home, 'apps/dkd-missing/releases'));
    const artifact = JSON.parse(await readFile(path.join(sandbox.home, 'apps/dkd-missing/BUILD_ARTIFACT.json'), 'utf8'));
    const image = path.join(sandbox.dir, 'image.json');
    const runtime = { ...artifact.runtime, working_dir: '/app', path_prepend: [], static_paths: {} };
    await writeFile(image, JSON.stringify({ ...artifact, builder: 'docker', location: 'hop3/dkd-missing:not-built-here', runtime }));
    const run = await sandbox.hop3(['run', 'dkd-missing', '--artifact', image, '--port', port], { env });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('[DEPLOY_CONTAINER_IMAGE_MISSING]');
    expect(run.stderr).not.toContain('stopping the running release');
    expect(await readdir(path.join(sandbox.home, 'apps/dkd-missing/releases'))).toEqual(releases); // no release was even recorded
    expect(JSON.parse((await sandbox.hop3(['status', 'dkd-missing', '--json'], { env })).stdout)).toMatchObject({ running: true, deployer: 'process', build_id: artifact.build_id });
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    expect((await sandbox.hop3(['stop', 'dkd-missing'], { env })).exitCode).toBe(0);
  });

  it('removes what it started when a worker dies, and shows its log tail', async () => {
    await using sandbox = await Sandbox.create();
    const dir = await sandbox.fixture('static-site', 'dkd-crash');
    await writeFile(path.join(dir, 'Procfile'), 'web: echo crashing on purpose; exit 1\n');
    const deploy = await sandbox.hop3(['deploy', dir, '--builder', 'docker', '--port', String(await freePort())], { env: LOCAL_IMAGES });
    expect(deploy.exitCode).toBe(1);
    expect(deploy.stderr).toContain('[DEPLOY_WORKER_EXITED]');
    expect(deploy.stderr).toContain('| crashing on purpose');
    expect(await containersOf('dkd-crash')).toEqual([]);
  });
});
