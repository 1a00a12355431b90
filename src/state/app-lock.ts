import { mkdir } from 'node:fs/promises';
import lockfile from 'proper-lockfile';
import { Hop3Error } from '../errors.js';
import type { AppPaths } from './hop3-home.js';

/** Serialise builds/deploys/stops of one app across hop3 processes. */
export async function withAppLock<T>(paths: AppPaths, fn: () => Promise<T>): Promise<T> {
  await mkdir(paths.root, { recursive: true });
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(paths.root, { lockfilePath: paths.lock, stale: 20_000, retries: { retries: 60, minTimeout: 200, maxTimeout: 1000 } });
  } catch (error) {
    throw new Hop3Error('STATE_LOCKED', `App ${paths.app} is busy: another hop3 command holds ${paths.lock}.`, {
      cause: error,
      hint: 'Wait for the other build/run/stop to finish; if none is running, remove the lock directory.',
    });
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => {});
  }
}
