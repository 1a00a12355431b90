// Source copy against `cp -r` (issue #11, goal copy ÷ cp -r ≤ 1.5): a generated tree of small files, medians of a few runs.
// `npx tsx bench/source-copy.ts [files] [runs]` prints the figures and each run's; the `npm run bench` table calls measureSourceCopy().
// The tree is written once, so both sides read from a warm page cache; each side copies to a fresh target. Targets are
// removed only at the end: on ext4 here, creating files right after a large delete costs ~3× (inode and block reuse).
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
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
  /** Each run's figures, in ms, in run order. */
  samples: { hop3: number[]; cp: number[]; listDigest: number[] };
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

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
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
    const cp: number[] = [];
    const hop3: number[] = [];
    const listDigest: number[] = [];
    for (let i = 0; i < runs; i++) {
      // Interleaved run by run, so both sides share the machine's load.
      const cpTarget = path.join(base, `cp-${i}`);
      cp.push(await timed(() => run('cp', ['-r', source, cpTarget])));
      await settle();
      let entries: SourceEntry[] = [];
      listDigest.push(await timed(async () => {
        entries = await listSourceTree(source);
        await digestSourceTree(source, entries);
      }));
      const hop3Target = path.join(base, `hop3-${i}`);
      hop3.push(await timed(() => copySourceTree(source, entries, hop3Target)));
      await settle();
    }
    return { hop3Ms: median(hop3), cpMs: median(cp), listDigestMs: median(listDigest), files, samples: { hop3, cp, listDigest } };
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const figures = await measureSourceCopy({ files: Number(process.argv[2] ?? 20_000), runs: Number(process.argv[3] ?? 5) });
  const ms = (value: number) => `${Math.round(value)} ms`;
  const all = (values: number[]) => values.map(Math.round).join(' / ');
  console.log(`source copy, ${figures.files} files, medians: hop3 ${ms(figures.hop3Ms)}, cp -r ${ms(figures.cpMs)}, ratio ${(figures.hop3Ms / figures.cpMs).toFixed(2)} (goal ≤ 1.5); list + digest ${ms(figures.listDigestMs)}`);
  console.log(`runs: hop3 ${all(figures.samples.hop3)}; cp -r ${all(figures.samples.cp)}; list + digest ${all(figures.samples.listDigest)}`);
}
