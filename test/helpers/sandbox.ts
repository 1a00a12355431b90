import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { TIME_OF_DAY_PREFIX } from '../../src/log/logger.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'hop3.js');

/**
 * A throwaway HOP3_HOME plus fixture copies; `dispose` kills every process still carrying
 * this home in its environment and removes the temp dirs, so no test leaves anything behind.
 */
export class Sandbox implements AsyncDisposable {
  private constructor(
    readonly dir: string,
    readonly home: string,
  ) {}

  /** `home` names HOP3_HOME inside the sandbox (e.g. one with a space in it). */
  static async create(options: { home?: string } = {}): Promise<Sandbox> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-test-'));
    return new Sandbox(dir, path.join(dir, options.home ?? 'home'));
  }

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, HOP3_HOME: this.home, HOP3_LABELS: 'io.hop3.test=1' };
  }

  /** Copy a fixture into the sandbox (tests never build the checked-in dir in place). */
  async fixture(name: string, as: string = name): Promise<string> {
    const target = path.join(this.dir, 'apps', as);
    await cp(path.join(ROOT, 'fixtures', name), target, { recursive: true });
    return target;
  }

  /** Run the real CLI; never throws, the test looks at exitCode/stdout/stderr. */
  hop3(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
    return execa(process.execPath, [BIN, ...args], { env: { ...this.env, ...options.env }, cwd: options.cwd ?? ROOT, reject: false, all: true, stdin: 'ignore', extendEnv: false } as const);
  }

  /** Stop every nginx router hop3 started under this sandbox (any HOP3_HOME in it): their masters' command lines name their config. */
  async stopRouter(): Promise<void> {
    const masters: number[] = [];
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
      if (cmdline.startsWith('nginx: master') && cmdline.includes(`${this.dir}/`) && cmdline.includes('/router/nginx.conf')) masters.push(Number(entry));
    }
    for (const pid of masters) process.kill(pid, 'SIGQUIT');
    for (let i = 0; i < 100 && masters.some((pid) => existsSync(`/proc/${pid}`)); i++) await new Promise((r) => setTimeout(r, 50));
  }

  /** Pids of processes started for this sandbox (they have HOP3_DATA_DIR under its home). */
  async strayPids(): Promise<number[]> {
    const pids: number[] = [];
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
      if (environ.includes(`HOP3_DATA_DIR=${this.home}/`)) pids.push(Number(entry));
    }
    return pids;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stopRouter();
    for (const pid of await this.strayPids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

export interface Probe {
  path: string;
  status: number;
  contains?: string;
}

/** Check a running app against its fixture's probes.json. */
export async function checkProbes(baseUrl: string, fixture: string): Promise<void> {
  const probes = JSON.parse(await readFile(path.join(ROOT, 'fixtures', fixture, 'probes.json'), 'utf8')) as Probe[];
  for (const probe of probes) {
    const response = await fetch(new URL(probe.path, baseUrl));
    const body = await response.text();
    if (response.status !== probe.status || (probe.contains && !body.includes(probe.contains))) {
      throw new Error(`${fixture} ${probe.path}: expected ${probe.status}${probe.contains ? ` containing ${JSON.stringify(probe.contains)}` : ''}, got ${response.status}: ${body.slice(0, 200)}`);
    }
  }
}

/** The lines of a command's stderr without the time of day that starts each log line when stderr is not a terminal. */
export function logLines(stderr: string): string[] {
  return stderr.split('\n').map((line) => line.replace(TIME_OF_DAY_PREFIX, ''));
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as import('node:net').AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
