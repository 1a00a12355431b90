import { chmod, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { AppPaths } from './hop3-home.js';
import { homeOf, homeWriteError, mkdirCause } from './home-write-error.js';

/** hop3's state holds env values (artifacts, run state, logs): owner only, whatever the umask. */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
/** Traversal hop3 grants an app's `[run] user`: its group on the app's own dirs, others on apps/ (enter, never list). */
export const USER_TRAVERSE = 0o010;
export const OTHERS_TRAVERSE = 0o001;

/**
 * Create the app's root and `dirs` inside it 0700 (a missing HOP3_HOME too). hop3's own dirs
 * (apps/, the app's root, `dirs`) are tightened when an older hop3 or a loose umask left them open;
 * an existing HOP3_HOME is the user's choice and left alone (`hop3 doctor` warns about it).
 */
export async function ensureAppDirs(paths: AppPaths, ...dirs: string[]): Promise<void> {
  try {
    await mkdir(paths.root, { recursive: true, mode: PRIVATE_DIR_MODE });
    const apps = path.dirname(paths.root);
    await chmod(apps, PRIVATE_DIR_MODE | ((await runsAsUsers(apps)) ? OTHERS_TRAVERSE : 0));
    await chmod(paths.root, PRIVATE_DIR_MODE | (await userGrant(paths.root)));
    await Promise.all(
      dirs.map(async (dir) => {
        await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
        await chmod(dir, PRIVATE_DIR_MODE | (await userGrant(dir)));
      }),
    );
  } catch (error) {
    // A read-only HOP3_HOME is STATE_HOME_READONLY, a full one says so: the user can act on either.
    throw homeWriteError(await mkdirCause(paths.root, error), paths.root, homeOf(paths.root), `create ${paths.app}'s state in ${paths.root}`);
  }
}

/** A dir hop3 handed to an app's `[run] user` group (worker-user.ts) keeps that group's traversal. */
async function userGrant(dir: string): Promise<number> {
  const info = await stat(dir);
  return info.gid !== (process.getgid?.() ?? info.gid) ? USER_TRAVERSE : 0;
}

/** Whether some app runs as another user (its root handed to that user's group): apps/ must stay enterable then. */
async function runsAsUsers(apps: string): Promise<boolean> {
  const roots = await readdir(apps, { withFileTypes: true });
  const grants = await Promise.all(roots.filter((entry) => entry.isDirectory()).map((entry) => userGrant(path.join(apps, entry.name))));
  return grants.some(Boolean);
}
