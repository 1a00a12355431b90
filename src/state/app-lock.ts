import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Hop3Error } from '../errors.js';
import { procStat } from '../process/proc-stat.js';
import { ensureAppDirs } from './app-dirs.js';
import type { AppPaths } from './hop3-home.js';
import { homeOf, homeWriteError } from './home-write-error.js';

/** A holder that stops refreshing the lock (stopped, or on a frozen machine) loses it after this long. */
const STALE_MS = 5000;
/** How long a command waits for another hop3 to finish with the app. */
const WAIT_MS = 120_000;

/**
 * Serialise builds/deploys/stops of one app across hop3 processes. A lock whose holder is dead
 * (killed hop3) is taken over at once; one that stopped refreshing goes stale after 5 s. A holder
 * that wakes up after losing its lock (SIGSTOP, then SIGCONT) gets STATE_LOCK_LOST from this call
 * instead of going on as if it still held it.
 */
export async function withAppLock<T>(paths: AppPaths, fn: () => Promise<T>): Promise<T> {
  await ensureAppDirs(paths);
  let lost!: (error: Hop3Error) => void;
  const lockLost = new Promise<never>((_, reject) => {
    lost = reject;
  });
  lockLost.catch(() => {}); // observed through the race below, or not at all once fn has settled
  const release = await acquire(paths, (error) =>
    lost(
      new Hop3Error('STATE_LOCK_LOST', `Lost the lock of ${paths.app} (${error.message}): another hop3 took it over while this one was not running.`, {
        cause: error,
        hint: `This command stopped without finishing. Check \`hop3 status ${paths.app}\`, then run it again.`,
      }),
    ),
  );
  try {
    return await Promise.race([fn(), lockLost]);
  } finally {
    await release().catch(() => {});
  }
}

async function acquire(paths: AppPaths, onCompromised: (error: Error) => void): Promise<() => Promise<void>> {
  const deadline = Date.now() + WAIT_MS;
  for (let wait = 50; ; wait = Math.min(wait * 2, 500)) {
    try {
      const release = await (await properLockfile()).lock(paths.root, { lockfilePath: paths.lock, stale: STALE_MS, retries: 0, onCompromised });
      await writeFile(ownerFile(paths.lock), JSON.stringify({ pid: process.pid, ticks: procStat(process.pid)?.ticks })).catch(() => {});
      return async () => {
        await rm(ownerFile(paths.lock), { force: true }); // first, so no one reads a finished holder as a dead one
        await release();
      };
    } catch (error) {
      // Only another hop3 is worth waiting for: a read-only or full HOP3_HOME is reported at once.
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw homeWriteError(error, paths.lock, homeOf(paths.root), `create the lock ${paths.lock}`);
      if (Date.now() > deadline) {
        throw new Hop3Error('STATE_LOCKED', `App ${paths.app} is busy: another hop3 command holds ${paths.lock}.`, {
          cause: error,
          hint: 'Wait for the other build/run/stop to finish, then try again.',
        });
      }
      if (await holderIsDead(paths.lock)) await takeOver(paths.lock);
      else await sleep(wait);
    }
  }
}

/** Beside the lock dir (proper-lockfile removes it with rmdir, so it must stay empty). */
const ownerFile = (lock: string) => `${lock}.owner`;

/** The lock's holder recorded itself beside it; a holder that no longer exists (same pid, same start time) is dead. */
async function holderIsDead(lock: string): Promise<boolean> {
  const owner = await readFile(ownerFile(lock), 'utf8')
    .then((text) => JSON.parse(text) as { pid?: unknown; ticks?: unknown })
    .catch(() => undefined);
  if (!owner || typeof owner.pid !== 'number') return false; // being taken or released right now: wait
  const stat = procStat(owner.pid);
  return stat === undefined || stat.ticks !== owner.ticks;
}

/** Move the dead holder's lock aside (atomic: of two contenders, one wins) and remove it. */
async function takeOver(lock: string): Promise<void> {
  const aside = `${lock}.dead-${process.pid}-${Date.now()}`;
  try {
    await rename(lock, aside);
  } catch {
    return; // another contender took it first
  }
  await rm(aside, { recursive: true, force: true });
}

/**
 * proper-lockfile, loaded on first use: with graceful-fs, which patches `fs` as it loads, it costs
 * ≈ 15 ms of start-up that commands reading state without a lock (`status`, `logs`, `releases`) need not pay.
 */
export async function properLockfile(): Promise<typeof import('proper-lockfile')> {
  return (await import('proper-lockfile')).default;
}
