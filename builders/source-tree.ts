import { createHash } from 'node:crypto';
import fs, { constants, createReadStream, type Dirent } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, readdir, readlink, symlink } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import dockerignore from '@balena/dockerignore';
import pLimit, { type LimitFunction } from 'p-limit';
import { Hop3Error, wrapError } from '../src/errors.js';

// CommonJS module typed as an ES default export: `.default` is the factory either way.
const ignore = dockerignore.default;

/** Never part of a build: VCS data, hop3 state, artifacts, and dependency dirs the build recreates. */
export const HOP3_EXCLUDES = ['.git', '.hop3', 'BUILD_ARTIFACT.json', 'node_modules', '.venv', '__pycache__', '*.pyc'];

/** File-system calls in flight at once: keeps libuv's threads fed across their hand-offs, bounds open files and memory. */
const IO_CONCURRENCY = 32;

/** Files up to this size are read whole (hashed from one buffer, copied by one write); larger ones are streamed or copied by the kernel, so a huge file never sits in memory. */
const READ_WHOLE_MAX = 1024 * 1024;

// The callback form: fs/promises' readFile costs about twice the CPU per small file (a FileHandle and a read loop in JS).
const readFile = promisify(fs.readFile);

export interface SourceEntry {
  /** POSIX path relative to the root. */
  path: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  size: number;
  linkTarget?: string;
}

/** A file-system failure reading the user's source, as a coded error naming the file. */
function unreadable(error: unknown, file: string): Hop3Error {
  return wrapError(error, 'BUILD_SOURCE_UNREADABLE', `Cannot read ${file}`, 'Check that hop3 may read every file of the app (permissions, broken mounts), or exclude it with [build] ignore in hop3.toml.', { file });
}

/**
 * `work` on every item, at most IO_CONCURRENCY at once, results in item order. Items go to p-limit in small batches,
 * each run in turn: a limiter task per item costs more CPU than a small file's copy saves. After a failure no new item
 * starts, and the running ones finish before it is rethrown: nothing writes behind a caller that cleans up on error.
 */
async function eachLimited<T, R>(items: readonly T[], work: (item: T) => Promise<R>, limit: LimitFunction = pLimit(IO_CONCURRENCY)): Promise<R[]> {
  const batch = Math.max(1, Math.min(64, Math.ceil(items.length / IO_CONCURRENCY)));
  const results = new Array<R>(items.length);
  let failure: { error: unknown } | undefined;
  const runBatch = async (start: number) => {
    for (let index = start; index < Math.min(start + batch, items.length) && !failure; index++) {
      try {
        results[index] = await work(items[index]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.ceil(items.length / batch) }, (_, i) => limit(runBatch, i * batch)));
  if (failure) throw failure.error;
  return results;
}

/** Entries of a source tree in a stable order (names sorted, each directory before its contents), minus excludes (dockerignore syntax). */
export async function listSourceTree(root: string, extraExcludes: readonly string[] = []): Promise<SourceEntry[]> {
  return listTree(root, [...HOP3_EXCLUDES, ...extraExcludes]);
}

/** Entries of any tree (a build's output), in the same stable order, minus `excludes` only. */
export async function listTree(root: string, excludes: readonly string[]): Promise<SourceEntry[]> {
  try {
    return await walkSourceTree(root, excludes);
  } catch (error) {
    throw unreadable(error, (error as NodeJS.ErrnoException).path ?? root);
  }
}

const byName = (a: Dirent, b: Dirent) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

async function walkSourceTree(root: string, excludes: readonly string[]): Promise<SourceEntry[]> {
  const filter = ignore({ ignorecase: false }).add([...excludes]);
  // Shared by every directory; only leaf calls go through it (never the recursion), so a directory waiting on its
  // subdirectories holds no slot.
  const io = pLimit(IO_CONCURRENCY);
  const entryOf = async ({ rel, dirent }: { rel: string; dirent: Dirent }): Promise<SourceEntry | undefined> => {
    const full = path.join(root, rel);
    // Sockets, FIFOs and devices are never part of a build: skipped without a stat.
    if (!dirent.isDirectory() && !dirent.isFile() && !dirent.isSymbolicLink()) return undefined;
    // The stat decides: the entry may have been replaced since readdir.
    const stat = dirent.isSymbolicLink() ? undefined : await lstat(full);
    if (!stat || stat.isSymbolicLink()) return { path: rel, type: 'symlink', mode: 0o777, size: 0, linkTarget: await readlink(full) };
    if (stat.isDirectory()) return { path: rel, type: 'dir', mode: stat.mode & 0o7777, size: 0 };
    if (stat.isFile()) return { path: rel, type: 'file', mode: stat.mode & 0o7777, size: stat.size };
    return undefined;
  };
  const walk = async (relDir: string): Promise<SourceEntry[]> => {
    const dirents = (await io(() => readdir(path.join(root, relDir), { withFileTypes: true }))).sort(byName);
    const kept = dirents.map((dirent) => ({ dirent, rel: relDir === '' ? dirent.name : `${relDir}/${dirent.name}` })).filter(({ rel }) => !filter.ignores(rel));
    const entries = await eachLimited(kept, entryOf, io);
    const below = await Promise.all(entries.map((entry) => (entry?.type === 'dir' ? walk(entry.path) : [])));
    return entries.flatMap((entry, index) => (entry ? [entry, ...below[index]!] : []));
  };
  return walk('');
}

/** sha256 of one file's bytes. */
async function fileDigest(file: string, size: number): Promise<Buffer> {
  const hash = createHash('sha256');
  if (size <= READ_WHOLE_MAX) hash.update(await readFile(file));
  else for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest();
}

/** Rewrites a small file's bytes (or a link target) before it is hashed: a build's output names its own path. */
export type DigestRewrite = (bytes: Buffer, rel: string) => Buffer;

/** sha256 of each file's bytes, in entry order (undefined for directories and links); `rewrite` applies to files read whole. */
export async function digestTreeFiles(root: string, entries: readonly SourceEntry[], rewrite?: DigestRewrite): Promise<(Buffer | undefined)[]> {
  return eachLimited(entries, async (entry) => {
    if (entry.type !== 'file') return undefined;
    const file = path.join(root, entry.path);
    try {
      if (rewrite && entry.size <= READ_WHOLE_MAX) return createHash('sha256').update(rewrite(await readFile(file), entry.path)).digest();
      return await fileDigest(file, entry.size);
    } catch (error) {
      throw unreadable(error, file);
    }
  });
}

/** One entry's part of a tree digest: type, path, exec bit, link target. */
export function entryLine(entry: SourceEntry, linkTarget = entry.linkTarget): string {
  return `${entry.type}\0${entry.path}\0${entry.mode & 0o111 ? 'x' : '-'}\0${linkTarget ?? ''}\0`;
}

/**
 * Content digest of a tree: paths, types, exec bits, link targets and file bytes (not mtimes or owners).
 * Files are hashed in parallel, each on its own; their digests are combined in entry order, so the result does not depend on which read ends first.
 */
export async function digestSourceTree(root: string, entries: readonly SourceEntry[]): Promise<string> {
  const files = await digestTreeFiles(root, entries);
  const hash = createHash('sha256');
  entries.forEach((entry, index) => {
    hash.update(entryLine(entry));
    if (entry.type === 'file') hash.update(files[index]!);
  });
  return hash.digest('hex');
}

/** A failed write of the copy at `to`, as a coded error (a source file it may not read is the source's fault). */
function copyFailed(error: unknown, sourceDir: string, to: string): Hop3Error {
  if (error instanceof Hop3Error) return error;
  const { code, path: failedPath } = error as NodeJS.ErrnoException;
  if (code === 'EACCES' && failedPath?.startsWith(sourceDir)) return unreadable(error, failedPath);
  return wrapError(error, 'BUILD_COPY_FAILED', `Cannot copy the source to ${to}`, code === 'ENOSPC' || code === 'EDQUOT' ? `The disk holding HOP3_HOME is full: free space, or point HOP3_HOME elsewhere. The previous build and release are untouched.` : 'Check that HOP3_HOME is writable. The previous build and release are untouched.', { file: to });
}

/** Makes a directory of the copy, 0700. `exactModes`: the umask leaves owner bits alone, so one created here is 0700 already. */
async function privateDir(dir: string, exactModes: boolean): Promise<void> {
  const created = (await mkdir(dir, { recursive: true, mode: 0o700 })) !== undefined;
  if (!created || !exactModes) await chmod(dir, 0o700); // the umask may have taken bits off
}

/**
 * Makes the copy's root, and says whether files created in it keep the owner bits asked for: true when the root was
 * created here and came out 0700 (the umask, or a default ACL, took none of them), so a file created with its final
 * mode needs no chmod.
 */
async function makeCopyRoot(target: string): Promise<boolean> {
  const created = (await mkdir(target, { recursive: true, mode: 0o700 })) !== undefined;
  if (created && ((await lstat(target)).mode & 0o777) === 0o700) return true;
  await chmod(target, 0o700);
  return false;
}

/**
 * A small file read and written whole: open, read, close, then create with its final mode, write, close. Plain
 * callbacks, the size known from the listing: this runs once per file, and each layer of promises costs CPU.
 * Resolves false, having created nothing, if the file grew past `size`; a short read is the end of the file.
 */
function copySmallFile(from: string, to: string, size: number, mode: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    fs.open(from, 'r', (openError, input) => {
      if (openError) return reject(openError);
      const buffer = Buffer.allocUnsafe(size + 1);
      fs.read(input, buffer, 0, size + 1, 0, (readError, length) => {
        fs.close(input, () => {
          if (readError) return reject(readError);
          if (length > size) return resolve(false);
          fs.open(to, 'wx', mode, (createError, output) => {
            if (createError) return reject(createError);
            const finish = (writeError: Error | null) => fs.close(output, (closeError) => (writeError || closeError ? reject(writeError ?? closeError) : resolve(true)));
            // A short write (a disk filling up) goes on from where it stopped: the next one says ENOSPC.
            const writeFrom = (offset: number): void => {
              if (offset >= length) return finish(null);
              fs.write(output, buffer, offset, length - offset, offset, (writeError, written) => (writeError || written === 0 ? finish(writeError ?? new Error(`Nothing written to ${to}`)) : writeFrom(offset + written)));
            };
            writeFrom(0);
          });
        });
      });
    });
  });
}

/**
 * One file into the copy, owner bits only. A small file is read and written whole, created with its final mode:
 * fewer calls than a kernel copy plus a chmod. A large one (or one already there) is copied by the kernel, as a
 * reflink where the file system has them.
 */
async function copyOneFile(from: string, to: string, entry: SourceEntry, exactModes: boolean): Promise<void> {
  const mode = entry.mode & 0o700;
  if (exactModes && entry.size <= READ_WHOLE_MAX) {
    try {
      if (await copySmallFile(from, to, entry.size, mode)) return; // else it grew since the listing: copied below
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  await copyFile(from, to, constants.COPYFILE_FICLONE);
  await chmod(to, mode);
}

/**
 * Copy the (filtered) source entries into `target`: builds never touch the user's directory.
 * The copy is the owner's only (its hop3.toml or .env may hold env values): group and other bits are dropped.
 * Directories are made first, a level at a time; then files and links are copied in parallel. Files are copied, never
 * hard-linked: installs and hooks write into the copy.
 */
export async function copySourceTree(sourceDir: string, entries: readonly SourceEntry[], target: string): Promise<void> {
  /** `work` on the copy's path for `rel`, its failure coded and naming that path. */
  const at = async <T>(rel: string, work: (to: string) => Promise<T>): Promise<T> => {
    const to = path.join(target, rel);
    try {
      return await work(to);
    } catch (error) {
      throw copyFailed(error, sourceDir, to);
    }
  };
  // Directories by depth: each level in parallel once its parents exist (entries list a directory before its contents).
  const levels: SourceEntry[][] = [];
  for (const entry of entries) if (entry.type === 'dir') (levels[entry.path.split('/').length - 1] ??= []).push(entry);
  const exactModes = await at('', makeCopyRoot);
  for (const level of levels) if (level) await eachLimited(level, (entry) => at(entry.path, (to) => privateDir(to, exactModes)));
  await eachLimited(
    entries.filter((entry) => entry.type !== 'dir'),
    (entry) => at(entry.path, (to) => (entry.type === 'symlink' ? symlink(entry.linkTarget!, to) : copyOneFile(path.join(sourceDir, entry.path), to, entry, exactModes))),
  );
}
