import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LocalRegistry } from '../helpers/local-registry.js';
import { checkProbes, freePort, logLines, Sandbox } from '../helpers/sandbox.js';
import { describeDocker, docker, LOCAL_IMAGES, removeLocalImage, removeRegistryReferences, sweepTestResources } from './docker-engine.js';
import { singleNodeSwarm, sweepServices, tcpEngineProxy } from './swarm-engine.js';

const APPS = ['swm-app', 'swm-scale', 'swm-local', 'swm-pinned', 'swm-private', 'swm-jobs'];
/** This machine's routing mesh does not answer (see README): the tests that fetch publish in host mode. */
const HOST_MODE = { HOP3_SWARM_PUBLISH: 'host', HOP3_ROUTER: 'off' };

const body = async (port: number) => fetch(`http://127.0.0.1:${port}/`).then(async (response) => (await response.text()).trim(), (error: Error & { cause?: Error }) => `no answer: ${error.cause?.message ?? error.message}`);

/** Until Swarm reports the service's rollback completed and a task of it running (bounded). */
async function waitRolledBack(serviceId: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { UpdateStatus } = (await docker.getService(serviceId).inspect()) as { UpdateStatus?: { State?: string } };
    const tasks = (await docker.listTasks({ filters: JSON.stringify({ service: [serviceId], 'desired-state': ['running'] }) })) as Array<{ Status?: { State?: string } }>;
    if (UpdateStatus?.State === 'rollback_completed' && tasks.some((t) => t.Status?.State === 'running')) return;
    if (Date.now() > deadline) throw new Error(`Swarm's rollback did not complete within ${timeoutMs} ms (update state ${UpdateStatus?.State})`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describeDocker('swarm deployer (real daemon, single-node swarm)', () => {
  let swarm: Awaited<ReturnType<typeof singleNodeSwarm>>;
  let sandbox: Sandbox;
  /** Artifact files of swap-app builds: v1, v2, and one whose /health fails. */
  const built: Record<'v1' | 'v2' | 'broken' | 'scaled', string> = { v1: '', v2: '', broken: '', scaled: '' };

  beforeAll(async () => {
    swarm = await singleNodeSwarm();
    sandbox = await Sandbox.create();
    const dir = await sandbox.fixture('swap-app', 'swm-app');
    // A line in the log, for `hop3 logs` to show.
    const server = path.join(dir, 'server.py');
    await writeFile(server, (await readFile(server, 'utf8')).replace('ThreadingHTTPServer.daemon_threads', 'print(f"swap-app {VERSION} serving", flush=True)\nThreadingHTTPServer.daemon_threads'));
    // Short health check timings, so that Swarm gives up on the broken build in seconds.
    await writeFile(path.join(dir, 'hop3.toml'), '[healthcheck]\npath = "/health"\ntimeout = 3\ninterval = 1\nretries = 2\n');
    for (const version of ['v1', 'v2', 'broken'] as const) {
      await writeFile(path.join(dir, 'version.txt'), `${version}\n`);
      built[version] = path.join(sandbox.dir, `${version}.json`);
      const build = await sandbox.hop3(['build', dir, '--builder', 'docker', '--output', built[version], '--quiet'], { env: LOCAL_IMAGES });
      expect(build.exitCode, build.all).toBe(0);
    }
    // v1 again, with `[run] replicas = 2` recorded in the artifact.
    await writeFile(path.join(dir, 'version.txt'), 'v1\n');
    await writeFile(path.join(dir, 'hop3.toml'), '[healthcheck]\npath = "/health"\ntimeout = 3\ninterval = 1\nretries = 2\n\n[run]\nreplicas = 2\n');
    built.scaled = path.join(sandbox.dir, 'scaled.json');
    const build = await sandbox.hop3(['build', dir, '--builder', 'docker', '--output', built.scaled, '--quiet'], { env: LOCAL_IMAGES });
    expect(build.exitCode, build.all).toBe(0);
  });

  afterAll(async () => {
    await sweepServices(APPS);
    await sweepTestResources(APPS);
    await sandbox?.[Symbol.asyncDispose]();
    await swarm?.leave();
    if (swarm?.created) {
      expect(((await docker.info()) as { Swarm: { LocalNodeState: string } }).Swarm.LocalNodeState).toBe('inactive');
      expect((await docker.listNetworks()).map((n) => n.Name)).not.toContain('ingress');
    }
  });

  it('runs a docker artifact as a service, updates it in place, reports the update Swarm rolled back on a failing health check, and rolls back', async () => {
    const port = await freePort();
    const run = (file: string, env: NodeJS.ProcessEnv = {}) => sandbox.hop3(['run', 'swm-app', '--artifact', file, '--target', 'swarm', '--port', String(port)], { env: { ...HOST_MODE, ...env } });

    const first = await run(built.v1);
    expect(first.exitCode, first.all).toBe(0);
    expect(await body(port)).toBe('swap-app v1');
    const status = JSON.parse((await sandbox.hop3(['status', 'swm-app', '--json'])).stdout);
    expect(status).toMatchObject({ app: 'swm-app', running: true, deployer: 'swarm', builder: 'docker', port, url: `http://127.0.0.1:${port}/` });
    expect(status.workers).toEqual([expect.objectContaining({ name: 'web', running: true, state: 'running', task: expect.objectContaining({ slot: 1, node: expect.any(String) }) })]);
    const serviceId = status.workers[0].id;
    const { Spec } = (await docker.getService(serviceId).inspect()) as { Spec: Record<string, any> };
    expect(Spec.Name).toBe('hop3-swm-app-web');
    expect(Spec.Labels).toMatchObject({ 'io.hop3.app': 'swm-app', 'io.hop3.worker': 'web', 'io.hop3.release': '1', 'io.hop3.test': '1' });
    expect(Spec.UpdateConfig).toMatchObject({ FailureAction: 'rollback', Order: 'stop-first', Parallelism: 1 });
    expect(Spec.TaskTemplate.ContainerSpec.Healthcheck.Test[0]).toBe('CMD-SHELL');
    expect(Spec.TaskTemplate.RestartPolicy).toMatchObject({ Condition: 'on-failure', MaxAttempts: 5 });
    expect(Spec.EndpointSpec.Ports).toEqual([expect.objectContaining({ PublishMode: 'host', PublishedPort: port })]);

    // The next build, through DOCKER_HOST=tcp:// (a proxy to the same engine): the same service, updated.
    {
      await using proxy = await tcpEngineProxy();
      const second = await run(built.v2, { DOCKER_HOST: proxy.host });
      expect(second.exitCode, second.all).toBe(0);
      expect(proxy.requests()).toBeGreaterThan(0);
      expect(logLines(second.stderr)).toContain(`updating service hop3-swm-app-web from release 1 (1 task, stop-first)`);
    }
    expect(await body(port)).toBe('swap-app v2');
    const afterUpdate = JSON.parse((await sandbox.hop3(['status', 'swm-app', '--json'])).stdout);
    expect(afterUpdate).toMatchObject({ release: 2, running: true });
    expect(afterUpdate.workers[0].id).toBe(serviceId);

    // A build whose health check fails: Swarm rolls the update back, hop3 says so and release 2 keeps serving.
    const broken = await run(built.broken);
    expect(broken.exitCode, broken.all).toBe(1);
    expect(broken.stderr).toContain('[DEPLOY_SWARM_ROLLED_BACK]');
    expect(broken.stderr).toMatch(/Swarm (rolled|is rolling) service hop3-swm-app-web back to release 2: a task of release 3 failed the health check \(GET \/health inside each task/);
    if (broken.stderr.includes('Swarm is rolling')) {
      // Seen once in 4 CI runs: Swarm's rollback on a loaded single node took longer than hop3 waits (46 s here);
      // hop3 said so (above) and which state it left; the rollback still has to end with release 2 serving.
      expect(broken.stderr).toMatch(/; after \d+ s (the rollback is still rollback_started|\d+ of 1 tasks run again)\./);
      await waitRolledBack(serviceId, 120_000);
    }
    expect(await body(port), broken.all).toBe('swap-app v2');
    const releases = JSON.parse((await sandbox.hop3(['releases', 'swm-app', '--json'])).stdout) as Array<{ release: number; status: string }>;
    expect(releases.map((r) => [r.release, r.status])).toEqual([[1, 'retired'], [2, 'live'], [3, 'failed']]);

    const rollback = await sandbox.hop3(['rollback', 'swm-app'], { env: HOST_MODE });
    expect(rollback.exitCode, rollback.all).toBe(0);
    expect(await body(port)).toBe('swap-app v1');
    expect(JSON.parse((await sandbox.hop3(['status', 'swm-app', '--json'])).stdout)).toMatchObject({ release: 4, running: true, build_id: JSON.parse((await sandbox.hop3(['inspect', built.v1, '--json'])).stdout).build_id });
    const logs = await sandbox.hop3(['logs', 'swm-app', '--lines', '5']);
    expect(logs.exitCode, logs.all).toBe(0);
    expect(logs.stdout).toContain('swap-app v1 serving');

    const stop = await sandbox.hop3(['stop', 'swm-app']);
    expect(stop.exitCode, stop.all).toBe(0);
    expect(await docker.listServices({ filters: JSON.stringify({ label: ['io.hop3.app=swm-app'] }) })).toEqual([]);
    expect(await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`com.docker.swarm.service.id=${serviceId}`] }) })).toEqual([]);
    expect(await body(port)).toMatch(/^no answer: connect ECONNREFUSED/);
  }, 300_000);

  it('runs 2 replicas ([run] replicas, routing-mesh publishing), each task shown with its node; host publishing refuses more web replicas than nodes', async () => {
    const port = await freePort();
    const scaled = await sandbox.hop3(['run', 'swm-scale', '--artifact', built.scaled, '--target', 'swarm', '--port', String(port)], { env: { HOP3_SWARM_PUBLISH: 'ingress' } });
    expect(scaled.exitCode, scaled.all).toBe(0);
    const status = JSON.parse((await sandbox.hop3(['status', 'swm-scale', '--json'])).stdout);
    expect(status).toMatchObject({ running: true, deployer: 'swarm' });
    expect(status.workers.map((w: { task: { slot: number } }) => w.task.slot)).toEqual([1, 2]);
    for (const worker of status.workers) {
      expect(worker).toMatchObject({ name: 'web', running: true, state: 'running' });
      console.log(`swm-scale replica ${worker.task.slot}: task ${worker.task.id.slice(0, 12)} on node ${worker.task.node}`);
    }
    const { Spec } = (await docker.getService(status.workers[0].id).inspect()) as { Spec: Record<string, any> };
    expect(Spec.Mode).toEqual({ Replicated: { Replicas: 2 } });
    expect(Spec.UpdateConfig.Order).toBe('start-first'); // the mesh lets old and new tasks share the port
    expect(Spec.EndpointSpec.Ports).toEqual([expect.objectContaining({ PublishMode: 'ingress', PublishedPort: port })]);

    // One node publishes a host-mode port once: refused before anything changes.
    const host = await sandbox.hop3(['run', 'swm-scale', '--artifact', built.v2, '--target', 'swarm', '--replicas', '2', '--port', String(port)], { env: HOST_MODE });
    expect(host.exitCode, host.all).toBe(2);
    expect(host.stderr).toContain('[DEPLOY_SWARM_UNSUPPORTED]');
    expect(host.stderr).toContain('2 web replicas need 2 nodes with HOP3_SWARM_PUBLISH=host');
    expect(JSON.parse((await sandbox.hop3(['status', 'swm-scale', '--json'])).stdout)).toMatchObject({ release: 1, running: true });

    expect((await sandbox.hop3(['stop', 'swm-scale'])).exitCode).toBe(0);
    expect(await docker.listServices({ filters: JSON.stringify({ label: ['io.hop3.app=swm-scale'] }) })).toEqual([]);
  });

  it('runs an artifact pushed to a registry by its digest: the service names the pinned reference', async () => {
    await using registry = await LocalRegistry.start();
    try {
      const dir = await sandbox.fixture('docker-own-dockerfile', 'swm-pinned'); // busybox: its health check goes through wget
      const local = path.join(sandbox.dir, 'pinned-local.json');
      expect((await sandbox.hop3(['build', dir, '--builder', 'docker', '--output', local, '--quiet'], { env: LOCAL_IMAGES })).exitCode).toBe(0);
      const push = await sandbox.hop3(['push', local, '--registry', `${registry.host}/hop3test`, '--json']);
      expect(push.exitCode, push.all).toBe(0);
      const { file, location } = JSON.parse(push.stdout) as { file: string; location: string };
      const port = await freePort();
      const run = await sandbox.hop3(['run', 'swm-pinned', '--artifact', file, '--target', 'swarm', '--port', String(port)], { env: HOST_MODE });
      expect(run.exitCode, run.all).toBe(0);
      expect(run.stderr).not.toContain('is not pinned by digest');
      await checkProbes(`http://127.0.0.1:${port}/`, 'docker-own-dockerfile');
      const [worker] = JSON.parse((await sandbox.hop3(['status', 'swm-pinned', '--json'])).stdout).workers;
      const { Spec } = (await docker.getService(worker.id).inspect()) as { Spec: Record<string, any> };
      expect(Spec.TaskTemplate.ContainerSpec.Image).toBe(location);
      expect((await sandbox.hop3(['stop', 'swm-pinned'])).exitCode).toBe(0);
    } finally {
      await removeRegistryReferences(registry.host);
    }
  });

  it('gives the nodes the user\'s registry credentials: a pinned image only a login may pull runs with them, not without', async () => {
    const user = { username: 'ci', password: 'hop3-swarm-pw' };
    await using locked = await LocalRegistry.start({ auth: user });
    const config = path.join(sandbox.dir, 'swarm-docker-config');
    const noConfig = path.join(sandbox.dir, 'swarm-no-docker-config');
    await mkdir(config, { recursive: true });
    await mkdir(noConfig, { recursive: true });
    await writeFile(path.join(config, 'config.json'), JSON.stringify({ auths: { [locked.host]: { auth: Buffer.from(`${user.username}:${user.password}`).toString('base64') } } }));
    try {
      const dir = await sandbox.fixture('docker-own-dockerfile', 'swm-private');
      const local = path.join(sandbox.dir, 'private-local.json');
      expect((await sandbox.hop3(['build', dir, '--builder', 'docker', '--output', local, '--quiet'], { env: LOCAL_IMAGES })).exitCode).toBe(0);
      const push = await sandbox.hop3(['push', local, '--registry', locked.host, '--json'], { env: { DOCKER_CONFIG: config } });
      expect(push.exitCode, push.all).toBe(0);
      const { file } = JSON.parse(push.stdout) as { file: string };
      // Not on the (only) node any more: its task must pull, from a registry that refuses anonymous pulls.
      await removeLocalImage(JSON.parse(await readFile(file, 'utf8')).metadata.image_id);
      const port = await freePort();
      const run = (dockerConfig: string) => sandbox.hop3(['run', 'swm-private', '--artifact', file, '--target', 'swarm', '--port', String(port)], { env: { ...HOST_MODE, DOCKER_CONFIG: dockerConfig } });

      const denied = await run(noConfig);
      expect(denied.exitCode, denied.all).toBe(1);
      expect(denied.stderr).toContain('[DEPLOY_IMAGE_PULL_FAILED]');
      expect(denied.stderr).toMatch(/A node could not get the image of service hop3-swm-private-web \(No such image: 127\.0\.0\.1:\d+\/swm-private@sha256:/);
      expect(denied.stderr).toContain(`docker login ${locked.host}`);
      expect(await docker.listServices({ filters: JSON.stringify({ label: ['io.hop3.app=swm-private'] }) })).toEqual([]);

      const allowed = await run(config);
      expect(allowed.exitCode, allowed.all).toBe(0);
      expect(allowed.all).not.toContain(user.password);
      await checkProbes(`http://127.0.0.1:${port}/`, 'docker-own-dockerfile');
      expect((await sandbox.hop3(['stop', 'swm-private'])).exitCode).toBe(0);
    } finally {
      await removeRegistryReferences(locked.host);
    }
  });

  it('runs release and before_run commands as Swarm jobs before the services change; a failing release command changes nothing', async () => {
    const dir = await sandbox.fixture('swap-app', 'swm-jobs');
    await writeFile(path.join(dir, 'hop3.toml'), '[healthcheck]\npath = "/health"\ntimeout = 5\ninterval = 1\nretries = 2\n\n[run]\nbefore-run = "echo before_run as $PROC_TYPE"\n');
    const procfile = (release: string) => writeFile(path.join(dir, 'Procfile'), `web: python3 server.py\nrelease: ${release}\n`);
    const port = await freePort();
    const deploy = async () => {
      const build = await sandbox.hop3(['build', dir, '--builder', 'docker', '--quiet'], { env: LOCAL_IMAGES });
      expect(build.exitCode, build.all).toBe(0);
      return sandbox.hop3(['run', 'swm-jobs', '--target', 'swarm', '--port', String(port)], { env: HOST_MODE });
    };
    const services = async () => (await docker.listServices({ filters: JSON.stringify({ label: ['io.hop3.app=swm-jobs'] }) })).map((service) => service.Spec?.Name).sort();

    await procfile('echo migrating as $PROC_TYPE of $APP');
    const first = await deploy();
    expect(first.exitCode, first.all).toBe(0);
    const lines = logLines(first.stderr);
    const release = lines.findIndex((line) => line.includes('release phase of release 1 (Swarm job): echo migrating'));
    const before = lines.findIndex((line) => line.includes('before_run (Swarm job): echo before_run as $PROC_TYPE'));
    const created = lines.findIndex((line) => line.startsWith('created service hop3-swm-jobs-web'));
    expect([release, before, created].every((i) => i >= 0), first.stderr).toBe(true);
    expect(release < before && before < created, first.stderr).toBe(true);
    expect(first.stderr).toMatch(/\n\S* *migrating as release of swm-jobs/);
    expect(first.stderr).toMatch(/\n\S* *before_run as before_run/);
    expect(await body(port)).toBe('swap-app v1');
    expect(await services()).toEqual(['hop3-swm-jobs-web']); // the job services are gone

    await writeFile(path.join(dir, 'version.txt'), 'v2\n');
    await procfile('echo migration failed >&2; exit 4');
    const failed = await deploy();
    expect(failed.exitCode, failed.all).toBe(1);
    expect(failed.stderr).toContain('[DEPLOY_CONTAINER_RELEASE_FAILED]');
    expect(failed.stderr).toMatch(/release command `echo migration failed >&2; exit 4` failed in a Swarm job of \S+ \(exit code 4\); the release was not started/);
    expect(failed.stderr).toContain('migration failed');
    expect(failed.stderr).not.toContain('updating service');
    expect(await body(port)).toBe('swap-app v1');
    expect(await services()).toEqual(['hop3-swm-jobs-web']);
    expect(JSON.parse((await sandbox.hop3(['status', 'swm-jobs', '--json'])).stdout)).toMatchObject({ release: 1, running: true });
    expect((await sandbox.hop3(['stop', 'swm-jobs'])).exitCode).toBe(0);
  });

  it('refuses --replicas on a target that runs one copy of each worker, and a local build on the swarm target', async () => {
    const refused = await sandbox.hop3(['run', 'swm-app', '--artifact', built.v1, '--target', 'container', '--replicas', '3']);
    expect(refused.exitCode, refused.all).toBe(2);
    expect(refused.stderr).toContain('[DEPLOY_REPLICAS_UNSUPPORTED]');

    const local = path.join(sandbox.dir, 'local.json');
    expect((await sandbox.hop3(['build', await sandbox.fixture('swap-app', 'swm-local'), '--output', local, '--quiet'])).exitCode).toBe(0);
    const mismatch = await sandbox.hop3(['run', 'swm-local', '--artifact', local, '--target', 'swarm']);
    expect(mismatch.exitCode, mismatch.all).toBe(1);
    expect(mismatch.stderr).toContain('The swarm target cannot run swm-local build');
    expect(mismatch.stderr).toContain('[DEPLOY_TARGET_MISMATCH]');
  });

  it('reaches a Docker host over ssh:// (the bundle loads ssh2 on demand) and names it when it cannot', async () => {
    const unreachable = await sandbox.hop3(['run', 'swm-app', '--artifact', built.v1, '--target', 'swarm'], { env: { DOCKER_HOST: 'ssh://nobody@127.0.0.1:1' } });
    expect(unreachable.exitCode, unreachable.all).toBe(1);
    expect(unreachable.stderr).toContain('Cannot reach the Docker daemon at DOCKER_HOST=ssh://nobody@127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1 [DEPLOY_SWARM_DAEMON_UNREACHABLE]');
  });
});
