import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { AppPaths } from './hop3-home.js';
import { homeOf, homeWriteError, mkdirCause } from './home-write-error.js';

/** hop3's state holds env values (artifacts, run state, logs): owner only, whatever the umask. */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Create the app's root and `dirs` inside it 0700 (a missing HOP3_HOME too). hop3's own dirs
 * (apps/, the app's root, `dirs`) are tightened when an older hop3 or a loose umask left them open;
 * an existing HOP3_HOME is the user's choice and left alone (`hop3 doctor` warns about it).
 */
export async function ensureAppDirs(paths: AppPaths, ...dirs: string[]): Promise<void> {
  try {
    await mkdir(paths.root, { recursive: true, mode: PRIVATE_DIR_MODE });
    await Promise.all([path.dirname(paths.root), paths.root].map((dir) => chmod(dir, PRIVATE_DIR_MODE)));
    await Promise.all(
      dirs.map(async (dir) => {
        await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
        await chmod(dir, PRIVATE_DIR_MODE);
      }),
    );
  } catch (error) {
    // A read-only HOP3_HOME is STATE_HOME_READONLY, a full one says so: the user can act on either.
    throw homeWriteError(await mkdirCause(paths.root, error), paths.root, homeOf(paths.root), `create ${paths.app}'s state in ${paths.root}`);
  }
}
