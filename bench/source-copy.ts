// Copying a source tree the way a build does (list, digest, copy: builders/source-tree.ts) against `cp -r`.
// A thin stand-in with the signature `npm run bench` expects; the source-copy work replaces it.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import { copySourceTree, digestSourceTree, listSourceTree } from '../builders/source-tree.js';

export interface SourceCopyTimes {
  /** hop3's whole copy: list + digest + copy. */
  hop3Ms: number;
  cpMs: number;
  /** The list + digest part of hop3Ms. */
  listDigestMs: number;
  files: number;
}

/** A tree of `files` small files, 100 per folder, copied by hop3 and by `cp -r`; the page cache is warm for both. */
export async function measureSourceCopy(opts: { files?: number } = {}): Promise<SourceCopyTimes> {
  const files = opts.files ?? 20_000;
  const root = await mkdtemp(path.join(os.tmpdir(), 'hop3-bench-copy-'));
  try {
    const source = path.join(root, 'src');
    for (let i = 0; i < files; i++) {
      const dir = path.join(source, `pkg${String(Math.floor(i / 100)).padStart(3, '0')}`);
      if (i % 100 === 0) await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, `module${i % 100}.py`), `# module ${i}\nVALUE = ${i}\n${'x = 1\n'.repeat(i % 20)}`);
    }
    let start = performance.now();
    await execa('cp', ['-r', source, path.join(root, 'cp')]);
    const cpMs = performance.now() - start;
    start = performance.now();
    const entries = await listSourceTree(source);
    await digestSourceTree(source, entries);
    const listDigestMs = performance.now() - start;
    await copySourceTree(source, entries, path.join(root, 'hop3'));
    return { hop3Ms: performance.now() - start, cpMs, listDigestMs, files };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
