import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { Hop3Error, wrapError } from '../errors.js';
import { AppNameSchema } from '../artifact/schema.js';
import { ensureAppDirs, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../state/app-dirs.js';
import { properLockfile } from '../state/app-lock.js';
import { appPaths, hop3Home, type AppPaths } from '../state/hop3-home.js';
import { activeReleases } from '../state/releases.js';

export async function rememberedPort(paths: AppPaths): Promise<number | undefined> {
  const port = Number((await readFile(paths.portFile, 'utf8').catch(() => '')).trim());
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

/** A port claim made before anything is stopped; `release` gives it back when the deploy fails. */
export interface PortClaim {
  port: number;
  release(): Promise<void>;
}

/**
 * The app's public port: the one asked for, else the one it had (stable per app), else a free one.
 * Checked under a HOP3_HOME-wide lock, before the running release is touched: another app that runs
 * on it, or another program listening there, is an error. `heldByApp` is the port this app's own
 * running release listens on (it is about to be replaced, so it does not count as taken).
 */
export async function claimPort(paths: AppPaths, env: NodeJS.ProcessEnv, options: { requested?: number; heldByApp: readonly number[] }): Promise<PortClaim> {
  const home = hop3Home(env);
  await mkdir(home, { recursive: true, mode: PRIVATE_DIR_MODE });
  const unlock = await (await properLockfile()).lock(home, { lockfilePath: path.join(home, 'ports.lock'), stale: 5000, retries: { retries: 50, minTimeout: 50, maxTimeout: 200 } });
  try {
    const previous = await rememberedPort(paths);
    const port = options.requested ?? previous ?? (await freePort());
    const owner = await otherAppOn(port, paths.app, env);
    if (owner) {
      throw new Hop3Error('DEPLOY_PORT_IN_USE', `Port ${port} belongs to app ${owner}, which is running on it.`, {
        hint: `Pick another port with --port N, or stop ${owner} first (hop3 stop ${owner}).`,
      });
    }
    if (!options.heldByApp.includes(port) && (await portInUse(port))) {
      throw new Hop3Error('DEPLOY_PORT_IN_USE', `Port ${port} on 127.0.0.1 is already in use by another program.`, { hint: 'Pick another port with --port N.' });
    }
    // Written now, under the lock, so that a concurrent deploy of another app sees the claim.
    await writePort(paths, port);
    return {
      port,
      release: async () => {
        if (previous === port) return;
        if (previous === undefined) await rm(paths.portFile, { force: true });
        else await writePort(paths, previous);
      },
    };
  } finally {
    await unlock().catch(() => {});
  }
}

async function writePort(paths: AppPaths, port: number): Promise<void> {
  await ensureAppDirs(paths, paths.run);
  try {
    await writeFileAtomic(paths.portFile, `${port}\n`, { mode: PRIVATE_FILE_MODE });
  } catch (error) {
    throw wrapError(error, 'STATE_WRITE_FAILED', `Cannot record port ${port} of ${paths.app} in ${paths.portFile}`, 'Check that HOP3_HOME is writable and its disk is not full; nothing was started or stopped.', { file: paths.portFile });
  }
}

/** Another app of this HOP3_HOME with a starting or live release on `port`. */
async function otherAppOn(port: number, app: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const apps = await readdir(path.join(hop3Home(env), 'apps')).catch(() => [] as string[]);
  for (const other of apps) {
    if (other === app || !isAppName(other)) continue;
    const otherPaths = appPaths(other, env);
    if ((await rememberedPort(otherPaths)) !== port) continue;
    const active = await activeReleases(otherPaths).catch(() => []);
    if (active.length > 0) return other;
  }
  return undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** True when something already listens on 127.0.0.1:port. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(true));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });
}

const isAppName = (name: string) => AppNameSchema.safeParse(name).success;
