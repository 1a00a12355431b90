import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, readdir, readlink, symlink } from 'node:fs/promises';
import path from 'node:path';
import dockerignore from '@balena/dockerignore';
import { Hop3Error, wrapError } from '../src/errors.js';

// CommonJS module typed as an ES default export: `.default` is the factory either way.
const ignore = dockerignore.default;

/** Never part of a build: VCS data, hop3 state, artifacts, and dependency dirs the build recreates. */
export const HOP3_EXCLUDES = ['.git', '.hop3', 'BUILD_ARTIFACT.json', 'node_modules', '.venv', '__pycache__', '*.pyc'];

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

/** Entries of a source tree in a stable order, minus excludes (dockerignore syntax). */
export async function listSourceTree(root: string, extraExcludes: readonly string[] = []): Promise<SourceEntry[]> {
  try {
    return await walkSourceTree(root, extraExcludes);
  } catch (error) {
    throw unreadable(error, (error as NodeJS.ErrnoException).path ?? root);
  }
}

async function walkSourceTree(root: string, extraExcludes: readonly string[]): Promise<SourceEntry[]> {
  const filter = ignore({ ignorecase: false }).add([...HOP3_EXCLUDES, ...extraExcludes]);
  const entries: SourceEntry[] = [];
  const walk = async (relDir: string): Promise<void> => {
    const names = (await readdir(path.join(root, relDir))).sort();
    for (const name of names) {
      const rel = relDir === '' ? name : `${relDir}/${name}`;
      if (filter.ignores(rel)) continue;
      const stat = await lstat(path.join(root, rel));
      if (stat.isDirectory()) {
        entries.push({ path: rel, type: 'dir', mode: stat.mode & 0o7777, size: 0 });
        await walk(rel);
      } else if (stat.isSymbolicLink()) {
        entries.push({ path: rel, type: 'symlink', mode: 0o777, size: 0, linkTarget: await readlink(path.join(root, rel)) });
      } else if (stat.isFile()) {
        entries.push({ path: rel, type: 'file', mode: stat.mode & 0o7777, size: stat.size });
      }
    }
  };
  await walk('');
  return entries;
}

/** Content digest of a tree: paths, types, exec bits, link targets and file bytes (not mtimes or owners). */
export async function digestSourceTree(root: string, entries: readonly SourceEntry[]): Promise<string> {
  const hash = createHash('sha256');
  for (const entry of entries) {
    hash.update(`${entry.type}\0${entry.path}\0${entry.mode & 0o111 ? 'x' : '-'}\0${entry.linkTarget ?? ''}\0`);
    if (entry.type === 'file') {
      const file = path.join(root, entry.path);
      try {
        for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
      } catch (error) {
        throw unreadable(error, file);
      }
      hash.update('\0');
    }
  }
  return hash.digest('hex');
}

/**
 * Copy the (filtered) source entries into `target`: builds never touch the user's directory.
 * The copy is the owner's only (its hop3.toml or .env may hold env values): group and other bits are dropped.
 */
export async function copySourceTree(sourceDir: string, entries: readonly SourceEntry[], target: string): Promise<void> {
  let current = target;
  const privateDir = async (dir: string) => {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700); // the umask may have taken bits off
  };
  try {
    await privateDir(target);
    for (const entry of entries) {
      const to = path.join(target, entry.path);
      current = to;
      if (entry.type === 'dir') await privateDir(to);
      else if (entry.type === 'symlink') await symlink(entry.linkTarget!, to);
      else {
        await copyFile(path.join(sourceDir, entry.path), to);
        await chmod(to, entry.mode & 0o700);
      }
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' && (error as NodeJS.ErrnoException).path?.startsWith(sourceDir)) throw unreadable(error, (error as NodeJS.ErrnoException).path!);
    throw wrapError(error, 'BUILD_COPY_FAILED', `Cannot copy the source to ${current}`, code === 'ENOSPC' || code === 'EDQUOT' ? `The disk holding HOP3_HOME is full: free space, or point HOP3_HOME elsewhere. The previous build and release are untouched.` : 'Check that HOP3_HOME is writable. The previous build and release are untouched.', { file: current });
  }
}
