import { randomBytes } from 'node:crypto';
import { readdir, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort, Sandbox } from '../helpers/sandbox.js';
import { describeDocker, docker, LOCAL_IMAGES, sweepTestResources } from './docker-engine.js';

/** docker/base-images.sh: Debian's docker.io on hop3's runtime base, a Docker Engine per container. */
const NODE_IMAGE = 'hop3/swarm-node:bookworm';
const NODES = 3;
const APP = 'swm-multi';
const run = randomBytes(3).toString('hex');

interface SwarmNode {
  name: string;
  hostname: string;
  ip: string;
  engine: Docker;
}

type Status = { workers: Array<{ running: boolean; task: { slot: number; node: string } }> };

/**
 * A real three-node swarm on this machine: docker-in-docker nodes on a network of their own (one manager,
 * two workers), hop3 talking to the manager through DOCKER_HOST=tcp://. Everything is removed after.
 */
describeDocker('swarm deployer on a multi-node swarm (docker-in-docker nodes)', () => {
  const nodes: SwarmNode[] = [];
  const network = `hop3-swm-${run}`;
  let sandbox: Sandbox;
  let artifactFile = '';

  beforeAll(async () => {
    sandbox = await Sandbox.create();
    const dir = await sandbox.fixture('swap-app', APP);
    await writeFile(path.join(dir, 'hop3.toml'), '[healthcheck]\npath = "/health"\ntimeout = 10\ninterval = 1\n');
    artifactFile = path.join(sandbox.dir, 'v1.json');
    const build = await sandbox.hop3(['build', dir, '--builder', 'docker', '--output', artifactFile, '--quiet'], { env: LOCAL_IMAGES });
    expect(build.exitCode, build.all).toBe(0);

    await docker.createNetwork({ Name: network, Driver: 'bridge', Labels: { 'io.hop3.test': '1' } });
    for (let i = 1; i <= NODES; i++) nodes.push(await startNode(network, i));
    await Promise.all(nodes.map((node) => waitForEngine(node.engine)));
    const [manager, ...workers] = nodes as [SwarmNode, ...SwarmNode[]];
    await manager.engine.swarmInit({ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: manager.ip });
    const { JoinTokens } = (await manager.engine.swarmInspect()) as { JoinTokens: { Worker: string } };
    for (const worker of workers) await worker.engine.swarmJoin({ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: worker.ip, RemoteAddrs: [`${manager.ip}:2377`], JoinToken: JoinTokens.Worker });
    // The image reaches each node as `docker save | docker load` would carry it: same ID, same tag.
    const location = JSON.parse((await sandbox.hop3(['inspect', artifactFile, '--json'])).stdout).location as string;
    await Promise.all(
      nodes.map(async (node) => {
        const tarball = await docker.getImage(location).get();
        await new Promise<void>((resolve, reject) => node.engine.loadImage(tarball, (error: unknown, stream?: NodeJS.ReadableStream) => (error ? reject(error) : node.engine.modem.followProgress(stream!, (e: unknown) => (e ? reject(e) : resolve())))));
      }),
    );
    const ready = await until(async () => ((await manager.engine.listNodes()) as Array<{ Status: { State: string } }>).filter((n) => n.Status.State === 'ready').length === NODES, 60_000);
    expect(ready, `${NODES} ready nodes`).toBe(true);
  }, 240_000);

  afterAll(async () => {
    for (const node of nodes) await docker.getContainer(node.name).remove({ force: true, v: true }).catch(() => undefined);
    await docker.getNetwork(network).remove().catch(() => undefined);
    for (const node of nodes) await removeCgroups(node.name);
    await sweepTestResources([APP]);
    await sandbox?.[Symbol.asyncDispose]();
    // Nothing of the swarm is left: its nodes were containers, and they are gone with their network.
    expect(await docker.listContainers({ all: true, filters: JSON.stringify({ name: [`hop3-swm-${run}-`] }) })).toEqual([]);
    expect(await docker.listNetworks({ filters: JSON.stringify({ name: [network] }) })).toEqual([]);
    for (const node of nodes) expect(await readdir(path.join('/sys/fs/cgroup', 'cpu', node.name)).catch(() => 'gone')).toBe('gone');
  }, 120_000);

  it('places the replicas on different nodes, each serving on its node, and moves them off a drained node', async () => {
    const [manager] = nodes as [SwarmNode];
    const env = { DOCKER_HOST: `tcp://${manager.ip}:2375`, HOP3_SWARM_PUBLISH: 'host', HOP3_ROUTER: 'off' };
    const port = await freePort();
    const deploy = await sandbox.hop3(['run', APP, '--artifact', artifactFile, '--target', 'swarm', '--replicas', '2', '--port', String(port)], { env });
    expect(deploy.exitCode, deploy.all).toBe(0);

    const status = async () => JSON.parse((await sandbox.hop3(['status', APP, '--json'], { env })).stdout) as Status;
    const placed = await status();
    const show = (when: string, s: Status) => s.workers.forEach((w) => console.log(`${when}: replica ${w.task.slot} on ${w.task.node}${w.running ? '' : ' (not running)'}`));
    show('deployed', placed);
    const onNodes = placed.workers.map((w) => w.task.node);
    expect(placed.workers.every((w) => w.running)).toBe(true);
    expect(new Set(onNodes).size).toBe(2); // host-mode port: one web task per node
    for (const hostname of onNodes) expect((await (await fetch(`http://${ipOf(hostname)}:${port}/`)).text()).trim()).toBe('swap-app v1');

    // Drain a node that runs a replica: Swarm moves it to the node that had none.
    const drained = onNodes[0]!;
    const spare = nodes.map((n) => n.hostname).find((h) => !onNodes.includes(h))!;
    const info = ((await manager.engine.listNodes()) as Array<{ ID: string; Version: { Index: number }; Spec: Record<string, unknown>; Description: { Hostname: string } }>).find((n) => n.Description.Hostname === drained)!;
    await manager.engine.getNode(info.ID).update({ _query: { version: info.Version.Index }, _body: { ...info.Spec, Availability: 'drain' } } as never);
    let moved: Status | undefined;
    await until(async () => {
      moved = await status();
      const where = moved.workers.filter((w) => w.running).map((w) => w.task.node);
      return where.length === 2 && !where.includes(drained);
    }, 90_000);
    show(`after draining ${drained}`, moved!);
    expect(moved!.workers.filter((w) => w.running).map((w) => w.task.node).sort()).toEqual([onNodes[1]!, spare].sort());
    expect((await (await fetch(`http://${ipOf(spare)}:${port}/`)).text()).trim()).toBe('swap-app v1');

    const stop = await sandbox.hop3(['stop', APP], { env });
    expect(stop.exitCode, stop.all).toBe(0);
    expect(await manager.engine.listServices()).toEqual([]);
  });

  function ipOf(hostname: string): string {
    const node = nodes.find((n) => n.hostname === hostname);
    if (!node) throw new Error(`no test node named ${hostname}`);
    return node.ip;
  }
});

/**
 * One node: the engine in a container with every capability but CAP_SYS_RESOURCE (which this VM's dockerd
 * cannot grant, so `--privileged` fails), no seccomp/AppArmor, all devices, and the host's cgroup tree
 * writable for its own containers (under a parent of its own).
 */
async function startNode(network: string, index: number): Promise<SwarmNode> {
  const name = `hop3-swm-${run}-${index}`;
  const hostname = `node-${index}`;
  const container = await docker.createContainer({
    name,
    Hostname: hostname,
    Image: NODE_IMAGE,
    Cmd: ['dockerd', '--host=unix:///var/run/docker.sock', '--host=tcp://0.0.0.0:2375', '--tls=false', `--cgroup-parent=/${name}`],
    Labels: { 'io.hop3.test': '1' },
    HostConfig: {
      NetworkMode: network,
      CapAdd: ['ALL'],
      CapDrop: ['SYS_RESOURCE'],
      SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
      // --security-opt systempaths=unconfined: /proc and /sys as a privileged container sees them.
      MaskedPaths: [],
      ReadonlyPaths: [],
      DeviceCgroupRules: ['a *:* rwm'],
      Binds: ['/sys/fs/cgroup:/sys/fs/cgroup:rw'],
    },
  });
  await container.start();
  const ip = (await container.inspect()).NetworkSettings.Networks[network]!.IPAddress;
  return { name, hostname, ip, engine: new Docker({ host: ip, port: 2375, protocol: 'http' }) };
}

/** The node's cgroup parent, in each v1 controller (or the v2 tree): empty once its containers are gone. */
async function removeCgroups(name: string): Promise<void> {
  const remove = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) if (entry.isDirectory()) await remove(path.join(dir, entry.name));
    await rmdir(dir).catch(() => undefined);
  };
  const roots = await readdir('/sys/fs/cgroup', { withFileTypes: true }).catch(() => []);
  await remove(path.join('/sys/fs/cgroup', name));
  for (const root of roots) if (root.isDirectory()) await remove(path.join('/sys/fs/cgroup', root.name, name));
}

async function waitForEngine(engine: Docker): Promise<void> {
  const up = await until(async () => engine.ping().then(() => true, () => false), 60_000);
  if (!up) throw new Error('a swarm node\'s engine did not answer within 60 s');
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(500);
  }
  return false;
}
