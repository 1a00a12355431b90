import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { hop3Home } from './hop3-home.js';

/** Every app with state under HOP3_HOME, sorted. */
export async function listApps(env: NodeJS.ProcessEnv): Promise<string[]> {
  const entries = await readdir(path.join(hop3Home(env), 'apps'), { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}
