import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Hop3Error, wrapError } from '../errors.js';

/**
 * A failed write under HOP3_HOME as a coded error naming HOP3_HOME and what to do: a read-only home
 * (EROFS, or EACCES/EPERM: not writable by this user) is STATE_HOME_READONLY; a full one and any
 * other failure are STATE_WRITE_FAILED, the message saying which.
 */
export function homeWriteError(error: unknown, file: string, home: string, doing: string): Hop3Error {
  if (error instanceof Hop3Error) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const reason = error instanceof Error ? error.message : String(error);
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
    return new Hop3Error('STATE_HOME_READONLY', `HOP3_HOME (${home}) is not writable: cannot ${doing} (${reason}).`, {
      file,
      cause: error,
      hint: `Make ${home} writable by this user (or remount it read-write), or point HOP3_HOME at a writable directory.`,
    });
  }
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new Hop3Error('STATE_WRITE_FAILED', `HOP3_HOME (${home}) is full: cannot ${doing} (${reason}).`, {
      file,
      cause: error,
      hint: `Free space on the file system of ${home} (old builds are in apps/<app>/builds/), or point HOP3_HOME elsewhere.`,
    });
  }
  return wrapError(error, 'STATE_WRITE_FAILED', `Cannot ${doing} in HOP3_HOME (${home})`, `Check that ${home} exists, is writable and its disk is not full.`, { file });
}

/** A read-only or full file system (never a permission problem, which a read can have too). */
export function isDiskFault(error: unknown): boolean {
  return !(error instanceof Hop3Error) && ['EROFS', 'ENOSPC', 'EDQUOT'].includes((error as NodeJS.ErrnoException)?.code ?? '');
}

/**
 * The real cause of a failed `mkdir -p`: Node's recursive mkdir reports ENOENT on a read-only file
 * system, so each level is created in turn to find the error that matters (EROFS, EACCES, ENOSPC).
 */
export async function mkdirCause(dir: string, error: unknown): Promise<unknown> {
  if ((error as NodeJS.ErrnoException)?.code !== 'ENOENT') return error;
  const levels: string[] = [];
  for (let at = dir; at !== path.dirname(at); at = path.dirname(at)) levels.unshift(at);
  for (const level of levels) {
    try {
      await mkdir(level);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') return cause;
    }
  }
  return error;
}

/** HOP3_HOME of an app's root dir (<home>/apps/<app>). */
export function homeOf(appRoot: string): string {
  return path.dirname(path.dirname(appRoot));
}
