import { constants } from 'node:fs';
import { chmod, copyFile, link, lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface LinkTreeOptions {
  /** Path of the tree relative to the app root: what `relocate` and `copy` are asked about (`.venv`, `node_modules`). */
  rel: string;
  /** The older build's app root as its files name it, and the new build's. */
  oldRoot: string;
  newRoot: string;
  /** Files that may name the old root: written anew with the new root in them when they do. */
  relocate?(rel: string): boolean;
  /** Files and folders copied rather than linked: build steps write into them. */
  copy?(rel: string): boolean;
}

/** Files larger than this are never relocated: what names a venv's path is scripts and small metadata. */
const RELOCATE_MAX_BYTES = 1 << 20;
/** Link operations in flight at once: enough to keep the I/O threads busy, bounded for huge trees. */
const CONCURRENCY = 32;

type Operation = { kind: 'link' | 'copy'; from: string; to: string; rel: string; mode: number; size: number } | { kind: 'symlink'; from: string; to: string };

/**
 * Recreate the tree `from` at `to` (which must not exist) sharing the older build's files: directories are new,
 * files are hard links, symlinks are recreated (absolute ones into the old root retargeted). Nothing of `from`
 * is ever opened for writing: a file that must differ (it names the old root, or a build step writes into it)
 * is a new file at `to`. Falls back to a copy where a link is refused (another file system, a link limit).
 */
export async function linkTree(from: string, to: string, options: LinkTreeOptions): Promise<void> {
  const operations: Operation[] = [];
  const dirs: { to: string; mode: number }[] = [];
  const walk = async (fromDir: string, toDir: string, rel: string, copying: boolean, mode: number): Promise<void> => {
    await mkdir(toDir, { mode: 0o700 }); // owner-writable while it fills; its own mode once full
    dirs.push({ to: toDir, mode });
    for (const entry of await readdir(fromDir, { withFileTypes: true })) {
      const entryRel = `${rel}/${entry.name}`;
      const source = path.join(fromDir, entry.name);
      const target = path.join(toDir, entry.name);
      const copy = copying || options.copy?.(entryRel) === true;
      if (entry.isDirectory()) {
        await walk(source, target, entryRel, copy, (await lstat(source)).mode);
      } else if (entry.isSymbolicLink()) {
        operations.push({ kind: 'symlink', from: source, to: target });
      } else if (entry.isFile()) {
        const info = await lstat(source);
        operations.push({ kind: copy ? 'copy' : 'link', from: source, to: target, rel: entryRel, mode: info.mode, size: info.size });
      } // sockets, fifos: nothing an install leaves for a later build
    }
  };
  await walk(from, to, options.rel, options.copy?.(options.rel) === true, (await lstat(from)).mode);
  let next = 0;
  const worker = async () => {
    while (next < operations.length) await apply(operations[next++]!, options);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, operations.length) }, worker));
  for (const dir of dirs.reverse()) await chmod(dir.to, dir.mode & 0o7777);
}

async function apply(operation: Operation, options: LinkTreeOptions): Promise<void> {
  if (operation.kind === 'symlink') {
    await symlink(retarget(await readlink(operation.from), options), operation.to);
    return;
  }
  if (operation.kind === 'link' && options.relocate?.(operation.rel) && operation.size <= RELOCATE_MAX_BYTES && (await relocated(operation, options))) return;
  if (operation.kind === 'link') {
    try {
      await link(operation.from, operation.to);
      return;
    } catch (error) {
      // Another file system, a file system without hard links, or an inode at its link limit: a copy is as good.
      if (!['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
  }
  await copyFile(operation.from, operation.to, constants.COPYFILE_EXCL);
  await chmod(operation.to, operation.mode & 0o7777);
}

/** Write the file anew with the new root in place of the old one, when it is text naming the old root. */
async function relocated(operation: Extract<Operation, { kind: 'link' | 'copy' }>, options: LinkTreeOptions): Promise<boolean> {
  const content = await readFile(operation.from);
  const oldRoot = Buffer.from(options.oldRoot);
  if (content.includes(0) || !content.includes(oldRoot)) return false;
  // latin1 maps each byte to one char and back: a byte-exact replace of the UTF-8 paths, whatever the file's encoding.
  const text = content.toString('latin1').split(oldRoot.toString('latin1')).join(Buffer.from(options.newRoot).toString('latin1'));
  await writeFile(operation.to, Buffer.from(text, 'latin1'), { flag: 'wx', mode: 0o600 });
  // A fresh mtime too: bytecode cached for the old content must not pass for this one.
  await chmod(operation.to, operation.mode & 0o7777);
  return true;
}

/** An absolute link into the old root points into the new one; any other link stays as it was (relative ones follow the copy). */
function retarget(target: string, { oldRoot, newRoot }: LinkTreeOptions): string {
  if (target === oldRoot) return newRoot;
  return target.startsWith(`${oldRoot}/`) ? newRoot + target.slice(oldRoot.length) : target;
}
