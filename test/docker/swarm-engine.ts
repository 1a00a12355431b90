import net from 'node:net';
import { docker } from './docker-engine.js';

/**
 * Make the test daemon a single-node swarm manager unless it already is; `leave` undoes only what this
 * call did (a swarm the machine had before stays).
 */
export async function singleNodeSwarm(): Promise<{ created: boolean; leave(): Promise<void> }> {
  const { Swarm } = (await docker.info()) as { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } };
  if (Swarm?.LocalNodeState === 'active') {
    if (!Swarm.ControlAvailable) throw new Error('the test daemon is a swarm worker: the swarm tests need a manager (or no swarm)');
    return { created: false, leave: async () => {} };
  }
  // The bridge Swarm creates for its tasks stays after `swarm leave`: removed too, unless it was there before.
  const bridgeBefore = (await docker.listNetworks({ filters: JSON.stringify({ name: ['docker_gwbridge'] }) })).length > 0;
  // 127.0.0.1: nothing outside this machine joins, and no interface address is guessed.
  await docker.swarmInit({ ListenAddr: '127.0.0.1:2377', AdvertiseAddr: '127.0.0.1' });
  return {
    created: true,
    async leave() {
      await docker.swarmLeave({ force: true });
      if (!bridgeBefore) await docker.getNetwork('docker_gwbridge').remove().catch(() => undefined);
    },
  };
}

/** Services of these test apps (labelled io.hop3.test=1), removed with their containers. */
export async function sweepServices(apps: readonly string[]): Promise<void> {
  for (const app of apps) {
    const services = await docker.listServices({ filters: JSON.stringify({ label: [`io.hop3.app=${app}`, 'io.hop3.test=1'] }) }).catch(() => []);
    for (const service of services) await docker.getService(service.ID!).remove().catch(() => undefined);
  }
}

/**
 * The Engine API on 127.0.0.1:port, piped to the local socket: DOCKER_HOST=tcp:// reaching a real daemon,
 * without touching dockerd's own configuration (which other test files share).
 */
export async function tcpEngineProxy(socketPath = '/var/run/docker.sock'): Promise<{ host: string; requests: () => number } & AsyncDisposable> {
  let connections = 0;
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    connections++;
    const engine = net.connect(socketPath);
    for (const socket of [client, engine]) {
      open.add(socket);
      socket.on('error', () => [client, engine].forEach((s) => s.destroy()));
      socket.on('close', () => open.delete(socket));
    }
    client.pipe(engine).pipe(client);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    host: `tcp://127.0.0.1:${port}`,
    requests: () => connections,
    async [Symbol.asyncDispose]() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
