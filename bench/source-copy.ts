// Source copy against `cp -r` (issue #11, goal copy ÷ cp -r ≤ 1.5): a generated tree of small files, medians of a few runs.
// `npx tsx bench/source-copy.ts [files] [runs]` prints the figures and each run's; the `npm run bench` table calls measureSourceCopy().
// CPU times are given too: on a shared machine they move less with the load than wall times (hop3's own process,
// its I/O threads included; cp's from the children's rusage in /proc, Linux only).
// The tree is written once, so both sides read from a warm page cache; each side copies to a fresh target. Targets are
// removed only at the end. On ext4, creating a file costs several times more while many inodes were freed recently
// (the allocator skips them: `recently_deleted` in a profile), as on a machine where test suites delete temp trees:
// cp -r of 20,000 files then takes 3-6 s instead of 0.8 s. Both sides pay it alike; hop3's fixed cost per file shows
// in the ratio only when creating is cheap. Read the CPU and per-run figures with that in mind.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { copySourceTree, digestSourceTree, listSourceTree, type SourceEntry } from '../builders/source-tree.js';

const run = promisify(execFile);
const FILES_PER_DIR = 100;

export interface SourceCopyFigures {
  /** copySourceTree of the listed entries, median ms. */
  hop3Ms: number;
  /** `cp -r` of the same tree, median ms. */
  cpMs: number;
  /** listSourceTree + digestSourceTree (paid by every build, even a no-op one), median ms. */
  listDigestMs: number;
  files: number;
  /** CPU time (user + system) of copySourceTree and of `cp -r`, median ms. */
  hop3CpuMs: number;
  cpCpuMs: number;
  /** Each run's figures, in ms, in run order. */
  samples: { hop3: number[]; cp: number[]; listDigest: number[]; hop3Cpu: number[]; cpCpu: number[] };
}

/** A tree of `files` files of ~100 bytes, 100 to a directory. */
async function makeTree(root: string, files: number): Promise<void> {
  for (let dir = 0; dir * FILES_PER_DIR < files; dir++) {
    const dirPath = path.join(root, `dir-${dir}`);
    await mkdir(dirPath, { recursive: true });
    const count = Math.min(FILES_PER_DIR, files - dir * FILES_PER_DIR);
    await Promise.all(Array.from({ length: count }, (_, i) => writeFile(path.join(dirPath, `file-${i}.txt`), `${dir}/${i} `.padEnd(100, 'x') + '\n')));
  }
}

/** Flush the writes of the previous step, so neither side pays for the other's writeback. */
const settle = () => run('sync');

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** CPU ms used by this process's waited-for children so far (cutime + cstime of /proc/self/stat). */
async function childrenCpuMs(tick: number): Promise<number> {
  const fields = (await readFile('/proc/self/stat', 'utf8')).split(') ')[1]!.split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / tick;
}

/** Wall and CPU ms of `work`: this process's CPU, or its children's with `children`. */
async function timed(work: () => Promise<unknown>, children?: number): Promise<{ wall: number; cpu: number }> {
  const cpu = async () => (children ? childrenCpuMs(children) : ((u) => (u.user + u.system) / 1000)(process.cpuUsage()));
  const [cpuBefore, started] = [await cpu(), performance.now()];
  await work();
  const wall = performance.now() - started;
  return { wall, cpu: (await cpu()) - cpuBefore };
}

export async function measureSourceCopy(opts: { files?: number; runs?: number } = {}): Promise<SourceCopyFigures> {
  const files = opts.files ?? 20_000;
  const runs = opts.runs ?? 5;
  const base = await mkdtemp(path.join(os.tmpdir(), 'hop3-bench-copy-'));
  try {
    const source = path.join(base, 'src');
    await makeTree(source, files);
    // A first read of each file after its write updates its atime (relatime): pay that once, outside the timings.
    await digestSourceTree(source, await listSourceTree(source));
    await settle();
    const tick = Number((await run('getconf', ['CLK_TCK'])).stdout);
    const samples: SourceCopyFigures['samples'] = { hop3: [], cp: [], listDigest: [], hop3Cpu: [], cpCpu: [] };
    for (let i = 0; i < runs; i++) {
      // Interleaved run by run, so both sides share the machine's load.
      const cp = await timed(() => run('cp', ['-r', source, path.join(base, `cp-${i}`)]), tick);
      samples.cp.push(cp.wall);
      samples.cpCpu.push(cp.cpu);
      await settle();
      let entries: SourceEntry[] = [];
      const listDigest = await timed(async () => {
        entries = await listSourceTree(source);
        await digestSourceTree(source, entries);
      });
      samples.listDigest.push(listDigest.wall);
      const hop3 = await timed(() => copySourceTree(source, entries, path.join(base, `hop3-${i}`)));
      samples.hop3.push(hop3.wall);
      samples.hop3Cpu.push(hop3.cpu);
      await settle();
    }
    return { hop3Ms: median(samples.hop3), cpMs: median(samples.cp), listDigestMs: median(samples.listDigest), files, hop3CpuMs: median(samples.hop3Cpu), cpCpuMs: median(samples.cpCpu), samples };
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const figures = await measureSourceCopy({ files: Number(process.argv[2] ?? 20_000), runs: Number(process.argv[3] ?? 5) });
  const ms = (value: number) => `${Math.round(value)} ms`;
  const all = (values: number[]) => values.map(Math.round).join(' / ');
  console.log(`source copy, ${figures.files} files, medians: hop3 ${ms(figures.hop3Ms)}, cp -r ${ms(figures.cpMs)}, ratio ${(figures.hop3Ms / figures.cpMs).toFixed(2)} (goal ≤ 1.5); list + digest ${ms(figures.listDigestMs)}`);
  console.log(`CPU, medians: hop3 ${ms(figures.hop3CpuMs)}, cp -r ${ms(figures.cpCpuMs)}, ratio ${(figures.hop3CpuMs / figures.cpCpuMs).toFixed(2)}`);
  console.log(`runs: hop3 ${all(figures.samples.hop3)}; cp -r ${all(figures.samples.cp)}; list + digest ${all(figures.samples.listDigest)}`);
  console.log(`CPU runs: hop3 ${all(figures.samples.hop3Cpu)}; cp -r ${all(figures.samples.cpCpu)}`);
}
