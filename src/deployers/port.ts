import { mkdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { AppPaths } from '../state/hop3-home.js';

/** The app's port: the one asked for, else the one it had before (stable per app), else a free one. */
export async function choosePort(paths: AppPaths, requested?: number): Promise<number> {
  const file = path.join(paths.run, 'port');
  const remembered = Number((await readFile(file, 'utf8').catch(() => '')).trim()) || undefined;
  const port = requested ?? remembered ?? (await freePort());
  if (port !== remembered) {
    await mkdir(paths.run, { recursive: true });
    await writeFileAtomic(file, `${port}\n`);
  }
  return port;
}

function freePort(): Promise<number> {
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
