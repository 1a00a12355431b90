import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Hop3Error } from '../errors.js';
import { parseHop3Toml, type Hop3Toml } from './hop3-toml.js';
import { parseProcfile, type Procfile } from './procfile.js';

export interface ConfigFile<T> {
  /** Path relative to the app dir, as the user would write it. */
  file: string;
  parsed: T;
}

/** What the app says about itself: its Procfile and hop3.toml, when present. */
export interface AppConfig {
  dir: string;
  procfile?: ConfigFile<Procfile>;
  toml?: ConfigFile<Hop3Toml>;
}

/** Hop3 looks in `hop3/` first, then at the app root. */
const candidates = (name: string) => [path.join('hop3', name), name];

export async function loadAppConfig(dir: string): Promise<AppConfig> {
  const config: AppConfig = { dir };
  const procfile = await readFirst(dir, candidates('Procfile'));
  if (procfile) config.procfile = { file: procfile.file, parsed: parseProcfile(procfile.text, procfile.file) };
  const toml = await readFirst(dir, candidates('hop3.toml'));
  if (toml) config.toml = { file: toml.file, parsed: parseHop3Toml(toml.text, toml.file) };
  return config;
}

async function readFirst(dir: string, files: string[]): Promise<{ file: string; text: string } | undefined> {
  for (const file of files) {
    try {
      return { file, text: await readFile(path.join(dir, file), 'utf8') };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw new Hop3Error('CONFIG_UNREADABLE', `Cannot read ${path.join(dir, file)}: ${(error as Error).message}`, {
        file,
        cause: error,
        hint: 'Check the file permissions.',
      });
    }
  }
  return undefined;
}
