import { mkdir } from 'node:fs/promises';
import lockfile from 'proper-lockfile';
import { Hop3Error } from '../errors.js';
import type { AppPaths } from './hop3-home.js';

/** A holder that stops refreshing the lock (killed, or stopped) loses it after this long. */
const STALE_MS = 5000;

/**
 * Serialise builds/deploys/stops of one app across hop3 processes. A lock left by a killed hop3 is
 * taken over once stale; a holder that wakes up after losing its lock (SIGSTOP, then SIGCONT) gets
 * STATE_LOCK_LOST from this call instead of going on as if it still held it.
 */
export async function withAppLock<T>(paths: AppPaths, fn: () => Promise<T>): Promise<T> {
  await mkdir(paths.root, { recursive: true });
  let lost!: (error: Hop3Error) => void;
  const lockLost = new Promise<never>((_, reject) => {
    lost = reject;
  });
  lockLost.catch(() => {}); // observed through the race below, or not at all once fn has settled
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(paths.root, {
      lockfilePath: paths.lock,
      stale: STALE_MS,
      retries: { retries: 120, minTimeout: 100, maxTimeout: 500 },
      onCompromised: (error) =>
        lost(
          new Hop3Error('STATE_LOCK_LOST', `Lost the lock of ${paths.app} (${error.message}): another hop3 took it over while this one was not running.`, {
            cause: error,
            hint: `This command stopped without finishing. Check \`hop3 status ${paths.app}\`, then run it again.`,
          }),
        ),
    });
  } catch (error) {
    throw new Hop3Error('STATE_LOCKED', `App ${paths.app} is busy: another hop3 command holds ${paths.lock}.`, {
      cause: error,
      hint: 'Wait for the other build/run/stop to finish, then try again. A lock left by a killed hop3 is taken over after 5 s.',
    });
  }
  try {
    return await Promise.race([fn(), lockLost]);
  } finally {
    await release().catch(() => {});
  }
}
