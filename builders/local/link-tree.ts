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

/**
 * Recreate the tree `from` at `to` (which must not exist) sharing the older build's files: directories are new,
 * files are hard links, symlinks are recreated (absolute ones into the old root retargeted). Nothing of `from`
 * is ever opened for writing: a file that must differ (it names the old root, or a build step writes into it)
 * is a new file at `to`. Falls back to a copy where a link is refused (another file system, a link limit).
 * Directories are walked concurrently: the I/O thread pool bounds what runs at once.
 */
export async function linkTree(from: string, to: string, options: LinkTreeOptions): Promise<void> {
  const dirs: { to: string; mode: number; depth: number }[] = [];
  const walk = async (fromDir: string, toDir: string, rel: string, copying: boolean): Promise<void> => {
    await mkdir(toDir, { mode: 0o700 }); // owner-writable while it fills
    const info = await lstat(fromDir);
    dirs.push({ to: toDir, mode: info.mode, depth: rel.split('/').length });
    const entries = await readdir(fromDir, { withFileTypes: true });
    await allSettled(
      entries.map(async (entry) => {
        const entryRel = `${rel}/${entry.name}`;
        const source = path.join(fromDir, entry.name);
        const target = path.join(toDir, entry.name);
        const copy = copying || options.copy?.(entryRel) === true;
        if (entry.isDirectory()) await walk(source, target, entryRel, copy);
        else if (entry.isSymbolicLink()) await symlink(retarget(await readlink(source), options), target);
        else if (entry.isFile()) await placeFile(source, target, entryRel, copy, options);
        // sockets, fifos: nothing an install leaves for a later build
      }),
    );
  };
  await walk(from, to, options.rel, options.copy?.(options.rel) === true);
  // Deepest first: a directory whose own mode takes the owner's write or search bit away is set once its children are.
  for (const dir of dirs.sort((a, b) => b.depth - a.depth)) await chmod(dir.to, dir.mode & 0o7777);
}

/** Promise.all that waits for every operation before it rejects: a failed link leaves nothing still writing while the build is removed. */
async function allSettled(operations: readonly Promise<unknown>[]): Promise<void> {
  const failure = (await Promise.allSettled(operations)).find((result) => result.status === 'rejected');
  if (failure) throw failure.reason;
}

async function placeFile(from: string, to: string, rel: string, copy: boolean, options: LinkTreeOptions): Promise<void> {
  if (!copy && options.relocate?.(rel) && (await relocated(from, to, options))) return;
  if (!copy) {
    try {
      await link(from, to);
      return;
    } catch (error) {
      // Another file system, a file system without hard links, or an inode at its link limit: a copy is as good.
      if (!['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
  }
  await copyFile(from, to, constants.COPYFILE_EXCL); // the copy gets the file's mode
}

/** Write the file anew with the new root in place of the old one, when it is text naming the old root. */
async function relocated(from: string, to: string, options: LinkTreeOptions): Promise<boolean> {
  const info = await lstat(from);
  if (info.size > RELOCATE_MAX_BYTES) return false;
  const content = await readFile(from);
  const oldRoot = Buffer.from(options.oldRoot);
  if (content.includes(0) || !content.includes(oldRoot)) return false;
  // latin1 maps each byte to one char and back: a byte-exact replace of the UTF-8 paths, whatever the file's encoding.
  const text = content.toString('latin1').split(oldRoot.toString('latin1')).join(Buffer.from(options.newRoot).toString('latin1'));
  // A fresh mtime too: bytecode cached for the old content must not pass for this one.
  await writeFile(to, Buffer.from(text, 'latin1'), { flag: 'wx', mode: 0o600 });
  await chmod(to, info.mode & 0o7777);
  return true;
}

/** An absolute link into the old root points into the new one; any other link stays as it was (relative ones follow the copy). */
function retarget(target: string, { oldRoot, newRoot }: LinkTreeOptions): string {
  if (target === oldRoot) return newRoot;
  return target.startsWith(`${oldRoot}/`) ? newRoot + target.slice(oldRoot.length) : target;
}
