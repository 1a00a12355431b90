import { chmod, lstat, mkdir, mkdtemp, readFile, readlink, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { copySourceTree, digestSourceTree, listSourceTree, type SourceEntry } from '../../builders/source-tree.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-tree-'));
  dirs.push(dir);
  return dir;
}

type DirNode = { kind: 'dir'; mode: number; children: Record<string, Node> };
type Node = { kind: 'file'; content: Uint8Array; mode: number } | { kind: 'link'; target: string } | DirNode;

// File modes whose exec bits agree for owner and others: the copy keeps owner bits only, and the digest records "any x".
const fileMode = fc.constantFrom(0o644, 0o600, 0o755, 0o700, 0o640, 0o444, 0o750);
const name = fc.stringMatching(/^[a-zA-Z0-9._-]{1,6}$/).filter((n) => n !== '.' && n !== '..');
const { tree } = fc.letrec<{ tree: DirNode; node: Node }>((tie) => ({
  tree: fc.record({ kind: fc.constant('dir' as const), mode: fc.constantFrom(0o755, 0o700, 0o750, 0o711), children: fc.dictionary(name, tie('node'), { maxKeys: 6 }) }),
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ kind: fc.constant('file' as const), content: fc.uint8Array({ maxLength: 300 }), mode: fileMode }),
    fc.record({ kind: fc.constant('link' as const), target: fc.constantFrom('x', '../up', 'a/b', '/etc/hosts', 'missing') }),
    tie('tree'),
  ),
}));

/** Writes `node`'s children under `dir` (which exists); modes last, so a read-only directory can be filled first. */
async function materialise(dir: string, node: DirNode): Promise<void> {
  for (const [child, sub] of Object.entries(node.children)) {
    const at = path.join(dir, child);
    if (sub.kind === 'file') {
      await writeFile(at, sub.content);
      await chmod(at, sub.mode);
    } else if (sub.kind === 'link') await symlink(sub.target, at);
    else {
      await mkdir(at);
      await materialise(at, sub);
      await chmod(at, sub.mode);
    }
  }
}

const modeOf = async (file: string) => (await lstat(file)).mode & 0o7777;

/** What a copy must hold for each source entry: same type, bytes and link target; owner bits only; directories 0700. */
async function expectFaithfulCopy(source: string, copy: string, entries: readonly SourceEntry[]): Promise<void> {
  for (const entry of entries) {
    const from = path.join(source, entry.path);
    const to = path.join(copy, entry.path);
    const stat = await lstat(to);
    if (entry.type === 'dir') {
      expect(stat.isDirectory(), entry.path).toBe(true);
      expect(stat.mode & 0o7777, entry.path).toBe(0o700);
    } else if (entry.type === 'symlink') {
      expect(stat.isSymbolicLink(), entry.path).toBe(true);
      expect(await readlink(to)).toBe(await readlink(from));
    } else {
      expect(stat.isFile(), entry.path).toBe(true);
      expect(stat.mode & 0o7777, entry.path).toBe(entry.mode & 0o700);
      expect((await readFile(to)).equals(await readFile(from)), entry.path).toBe(true);
    }
  }
}

describe('source tree: list, digest, copy', () => {
  it('a copied tree, listed again, has the same entries and digest; modes are the owner bits only', async () => {
    await fc.assert(
      fc.asyncProperty(tree, async (root) => {
        const base = await tempDir();
        const source = path.join(base, 'src');
        await mkdir(source);
        await materialise(source, root);
        const entries = await listSourceTree(source);
        const digest = await digestSourceTree(source, entries);
        // Reads finish in any order; the digest must not depend on it.
        expect(await digestSourceTree(source, entries)).toBe(digest);
        const copy = path.join(base, 'copy', 'app');
        await copySourceTree(source, entries, copy);
        expect(await modeOf(copy)).toBe(0o700);
        await expectFaithfulCopy(source, copy, entries);
        const copied = await listSourceTree(copy);
        expect(copied.map((e) => [e.path, e.type, e.linkTarget])).toEqual(entries.map((e) => [e.path, e.type, e.linkTarget]));
        expect(await digestSourceTree(copy, copied)).toBe(digest);
        await rm(base, { recursive: true, force: true });
      }),
      { numRuns: 20 },
    );
  });

  it('lists a directory before its contents, names sorted, and the digest follows bytes, exec bits and names', async () => {
    const source = await tempDir();
    await mkdir(path.join(source, 'b/c'), { recursive: true });
    for (const file of ['b/c/z.txt', 'b/a.txt', 'B.txt', 'a.txt']) await writeFile(path.join(source, file), file);
    const entries = await listSourceTree(source);
    expect(entries.map((e) => e.path)).toEqual(['B.txt', 'a.txt', 'b', 'b/a.txt', 'b/c', 'b/c/z.txt']);
    const digest = await digestSourceTree(source, entries);
    await writeFile(path.join(source, 'b/c/z.txt'), 'b/c/z.tx!');
    const changedBytes = await digestSourceTree(source, entries);
    expect(changedBytes).not.toBe(digest);
    await chmod(path.join(source, 'a.txt'), 0o755);
    const changedExec = await digestSourceTree(source, await listSourceTree(source));
    expect(changedExec).not.toBe(changedBytes);
    // Content moved from one file to another is a different tree, though the bytes hashed are the same.
    const x = await tempDir();
    const y = await tempDir();
    await writeFile(path.join(x, 'a'), 'ab');
    await writeFile(path.join(x, 'b'), '');
    await writeFile(path.join(y, 'a'), 'a');
    await writeFile(path.join(y, 'b'), 'b');
    expect(await digestSourceTree(x, await listSourceTree(x))).not.toBe(await digestSourceTree(y, await listSourceTree(y)));
  });

  it('copies files larger than one read (kernel copy), and over a target that already holds files, modes included', async () => {
    const source = await tempDir();
    const big = Buffer.alloc(3 * 1024 * 1024 + 7, 9);
    await writeFile(path.join(source, 'big.bin'), big);
    await chmod(path.join(source, 'big.bin'), 0o755);
    await writeFile(path.join(source, 'small.txt'), 'new');
    const target = path.join(await tempDir(), 'app');
    await mkdir(target, { mode: 0o777 });
    await chmod(target, 0o777);
    await writeFile(path.join(target, 'small.txt'), 'old and longer');
    await chmod(path.join(target, 'small.txt'), 0o666);
    const entries = await listSourceTree(source);
    await copySourceTree(source, entries, target);
    expect(await modeOf(target)).toBe(0o700);
    await expectFaithfulCopy(source, target, entries);
  });

  it('keeps modes exact whatever the umask, even one that takes owner bits', async () => {
    const source = await tempDir();
    await mkdir(path.join(source, 'bin'));
    await writeFile(path.join(source, 'bin/run'), '#!/bin/sh\n');
    await chmod(path.join(source, 'bin/run'), 0o755);
    await writeFile(path.join(source, 'notes.txt'), 'x');
    const entries = await listSourceTree(source);
    for (const umask of [0o000, 0o077, 0o277]) {
      const target = path.join(await tempDir(), 'app');
      const previous = process.umask(umask);
      try {
        await copySourceTree(source, entries, target);
      } finally {
        process.umask(previous);
      }
      expect(await modeOf(target), `umask ${umask.toString(8)}`).toBe(0o700);
      await expectFaithfulCopy(source, target, entries);
    }
  });

  it('applies hop3 excludes and [build] ignore patterns, negations included, without entering ignored directories', async () => {
    const source = await tempDir();
    for (const file of ['app.py', 'debug.log', 'keep.log', 'node_modules/x/index.js', '.git/HEAD', 'cache/a.bin', 'sub/deep.log', 'sub/ok.py', 'mod.pyc']) {
      await mkdir(path.dirname(path.join(source, file)), { recursive: true });
      await writeFile(path.join(source, file), file);
    }
    const entries = await listSourceTree(source, ['*.log', '!keep.log', 'cache', 'sub/*.log']);
    expect(entries.map((e) => e.path)).toEqual(['app.py', 'keep.log', 'sub', 'sub/ok.py']);
  });

  it('names the file it cannot read (BUILD_SOURCE_UNREADABLE) and the copy path it cannot write (BUILD_COPY_FAILED)', async () => {
    const source = await tempDir();
    await mkdir(path.join(source, 'lib'));
    for (let i = 0; i < 50; i++) await writeFile(path.join(source, 'lib', `m${i}.py`), `x = ${i}\n`);
    const entries = await listSourceTree(source);
    await unlink(path.join(source, 'lib', 'm17.py'));
    await expect(digestSourceTree(source, entries)).rejects.toMatchObject({ code: 'BUILD_SOURCE_UNREADABLE', file: path.join(source, 'lib', 'm17.py') });
    const blocked = path.join(await tempDir(), 'a-file');
    await writeFile(blocked, '');
    await expect(copySourceTree(source, entries, path.join(blocked, 'app'))).rejects.toMatchObject({ code: 'BUILD_COPY_FAILED', file: path.join(blocked, 'app') });
    await expect(listSourceTree(path.join(source, 'nope'))).rejects.toMatchObject({ code: 'BUILD_SOURCE_UNREADABLE', file: path.join(source, 'nope') });
  });
});
