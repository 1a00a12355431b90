import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';

/** The executable `name` resolves to on env.PATH (an absolute name as it is), found without running anything. */
export async function findOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const dirs = (env.PATH ?? '').split(':').filter((dir) => dir !== '');
  for (const file of path.isAbsolute(name) ? [name] : dirs.map((dir) => path.join(dir, name))) {
    if (await access(file, constants.X_OK).then(() => true, () => false)) return file;
  }
  return undefined;
}
