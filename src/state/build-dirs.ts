import { mkdir } from 'node:fs/promises';
import type { Artifact } from '../artifact/artifact-file.js';
import { Hop3Error } from '../errors.js';
import { ensureAppDirs, PRIVATE_DIR_MODE } from './app-dirs.js';
import type { AppPaths } from './hop3-home.js';

/** How many builds of one build_id (forced rebuilds) may sit side by side. */
const MAX_BUILDS_PER_ID = 1000;

/**
 * The name of a build's dir under `builds/`: its build_id for the first build of it, `<build_id>.2`, `.3`...
 * for later ones (a `--force` rebuild of the same inputs), so the id users see stays the content hash.
 */
export async function createBuildDir(paths: AppPaths, buildId: string, appName: string): Promise<{ name: string; dir: string }> {
  await ensureAppDirs(paths, paths.builds);
  for (let attempt = 1; attempt <= MAX_BUILDS_PER_ID; attempt++) {
    const name = attempt === 1 ? buildId : `${buildId}.${attempt}`;
    const dir = paths.build(name);
    try {
      await mkdir(dir, { mode: PRIVATE_DIR_MODE }); // not recursive: fails if another build took this name
      return { name, dir };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new Hop3Error('BUILD_ID_EXHAUSTED', `${appName} already has ${MAX_BUILDS_PER_ID} builds of ${buildId}.`, {
    hint: `Remove older ones under ${paths.builds} (those no release uses).`,
  });
}

/** The dir of an artifact's build: metadata.build_dir, else (an artifact from before it was recorded) its build_id. */
export function buildDirOf(paths: AppPaths, artifact: Pick<Artifact, 'build_id' | 'metadata'>): string {
  const name = artifact.metadata.build_dir;
  return paths.build(typeof name === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) ? name : artifact.build_id);
}
