// What every figure of `npm run bench` shares: the row it reports, running the bundled CLI with its own
// HOP3_HOME (a test Sandbox: fresh home, HOP3_LABELS=io.hop3.test=1, routers and strays stopped on dispose),
// timing commands, and removing the docker objects a figure built.
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { execa } from 'execa';
import { createDockerClient } from '../src/engines/docker-client.js';
import { packageRoot } from '../src/package-root.js';
import { Sandbox } from '../test/helpers/sandbox.js';

export { Sandbox };

export type Verdict = 'met' | 'missed' | 'reported' | 'not available' | 'failed';

/** One line of the table: hop3 and its reference measured in the same run, side by side. */
export interface Row {
  figure: string;
  hop3: string;
  reference: string;
  /** hop3 ÷ reference, when both are numbers of the same kind. */
  ratio?: number | undefined;
  goal: string;
  result: Verdict;
  /** How it was measured, spreads, what a missing feature means: printed under the table. */
  note?: string;
}

export interface Figure {
  /** Name on the command line: `npm run bench -- docker nix`. */
  id: string;
  run(bench: Bench): Promise<Row[]>;
}

/** Options every figure reads. */
export interface Bench {
  /** Repetitions for the figures that take a median (BENCH_RUNS, default 3). */
  runs: number;
}

/**
 * `measure` up to `bench.runs` times, fewer once `budgetMs` is spent (always once): on a loaded machine the
 * whole run still ends within its 15 minutes, and each note says how many runs a median took.
 */
export async function repeat<T>(bench: Bench, budgetMs: number, measure: (run: number) => Promise<T>): Promise<T[]> {
  const start = performance.now();
  const results: T[] = [];
  for (let run = 0; run < bench.runs && (run === 0 || performance.now() - start < budgetMs); run++) results.push(await measure(run));
  return results;
}

export const HOP3_BIN = path.join(packageRoot, 'bin', 'hop3.js');

/** hop3's local base images (docker/base-images.sh): no registry needed. */
export const LOCAL_IMAGES = { HOP3_DOCKER_BASE_IMAGE: 'hop3/base-runtime:bookworm', HOP3_DOCKER_BUILD_IMAGE: 'hop3/base-build:bookworm' };

/**
 * Preloaded into a measured Node process: at exit it writes to fd 3 the CPU time and peak RSS of that
 * process alone (children excluded), so a figure can tell hop3's own cost from the tools it runs.
 * Peak RSS is VmHWM of /proc/self/status: getrusage's maxrss keeps the forking parent's peak across exec
 * (it read the bench's own 217 MB).
 */
const USAGE_PROBE = `data:text/javascript,${encodeURIComponent(`
import { readFileSync, writeSync } from 'node:fs';
process.on('exit', () => {
  const u = process.resourceUsage();
  const hwm = Number(/^VmHWM:\\s+(\\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
  writeSync(3, JSON.stringify({ cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000, maxRssKb: hwm }));
});
`)}`;

export interface Timed {
  ms: number;
  exitCode: number;
  /** stdout and stderr interleaved. */
  all: string;
  stdout: string;
  stderr: string;
}

export interface NodeTimed extends Timed {
  /** CPU time and peak RSS of the Node process itself. */
  cpuMs: number;
  maxRssKb: number;
}

interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill it after this long (default 5 min): the whole bench must stay bounded. */
  timeoutMs?: number;
}

/** Wall time of a command until it exits; never throws for a non-zero exit (see `expectSuccess`). */
export async function timed(file: string, args: readonly string[], options: RunOptions = {}): Promise<Timed> {
  const start = performance.now();
  const result = await execa(file, args, { env: options.env ?? process.env, extendEnv: false, cwd: options.cwd ?? packageRoot, stdin: 'ignore', all: true, reject: false, timeout: options.timeoutMs ?? 300_000 });
  return { ms: performance.now() - start, exitCode: result.exitCode ?? -1, all: result.all ?? '', stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/** `node [script] args` with the usage probe: wall time plus the process's own CPU and peak RSS. */
export async function timedNode(args: readonly string[], options: RunOptions = {}): Promise<NodeTimed> {
  const start = performance.now();
  const result = await execa(process.execPath, ['--import', USAGE_PROBE, ...args], {
    env: options.env ?? process.env,
    extendEnv: false,
    cwd: options.cwd ?? packageRoot,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    all: true,
    reject: false,
    timeout: options.timeoutMs ?? 300_000,
  });
  const ms = performance.now() - start;
  const usage = JSON.parse(String(result.stdio[3] || '{"cpuMs":null,"maxRssKb":null}')) as { cpuMs: number; maxRssKb: number };
  return { ms, exitCode: result.exitCode ?? -1, all: result.all ?? '', stdout: result.stdout ?? '', stderr: result.stderr ?? '', ...usage };
}

/** The bundled CLI (`npm run build` made dist/), in the sandbox's HOP3_HOME. */
export function hop3(sandbox: Sandbox, args: readonly string[], options: RunOptions = {}): Promise<NodeTimed> {
  return timedNode([HOP3_BIN, ...args], { ...options, env: { ...sandbox.env, ...options.env } });
}

/** A failed command aborts its figure, with the command's own output as the reason. */
export function expectSuccess<T extends Timed>(result: T, what: string): T {
  if (result.exitCode === 0) return result;
  const lines = result.all.trim().split('\n');
  const reason = lines.findLast((line) => /\[[A-Z_]+\]|error/i.test(line)) ?? lines.at(-1) ?? '';
  throw new Error(`${what} failed (exit ${result.exitCode}): ${reason.trim()}\n${lines.slice(-15).join('\n')}`);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** 812 ms, 4.21 s. */
export function duration(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** The values of a median, for the notes: "(3 runs: 1.20 1.31 1.25 s)". */
export function spread(values: readonly number[]): string {
  return `${values.length} run${values.length === 1 ? '' : 's'}: ${values.map((ms) => (ms / 1000).toFixed(2)).join(' ')} s`;
}

export const verdict = (met: boolean): Verdict => (met ? 'met' : 'missed');

/** GET a 127.0.0.1 URL; the body, or '' when nothing answers. */
export async function body(url: string): Promise<string> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return await response.text();
  } catch {
    return '';
  }
}

/** Remove the containers and images the bench built for these apps (labelled io.hop3.test=1), and raw images by tag. */
export async function removeDockerObjects(apps: readonly string[], tags: readonly string[] = []): Promise<void> {
  const docker = createDockerClient(process.env);
  for (const app of apps) {
    const filters = JSON.stringify({ label: [`io.hop3.app=${app}`, 'io.hop3.test=1'] });
    for (const info of await docker.listContainers({ all: true, filters }).catch(() => [])) await docker.getContainer(info.Id).remove({ force: true }).catch(() => undefined);
    for (const info of await docker.listImages({ filters }).catch(() => [])) await docker.getImage(info.Id).remove({ force: true }).catch(() => undefined);
  }
  for (const tag of tags) await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
}
