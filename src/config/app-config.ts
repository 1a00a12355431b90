import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Hop3Error } from '../errors.js';
import { defaultSettings, parseAppSettings, type AppSettings } from './app-settings.js';
import { parseProcfile, type Procfile } from './procfile.js';
import { parseStaticfile, STATICFILE, type Staticfile } from './staticfile.js';

export interface ConfigFile<T> {
  /** Path relative to the app dir, as the user would write it. */
  file: string;
  parsed: T;
}

/** What the app says about itself: its Procfile when present, and its hop3.toml as settings (defaults without one). */
export interface AppConfig {
  dir: string;
  procfile?: ConfigFile<Procfile>;
  /** A Staticfile at the app root makes the app a static site (Cloud Foundry, Nixpacks). */
  staticfile?: ConfigFile<Staticfile>;
  settings: AppSettings;
}

/** Hop3 looks in `hop3/` first, then at the app root. */
const candidates = (name: string) => [path.join('hop3', name), name];

export async function loadAppConfig(dir: string): Promise<AppConfig> {
  const [procfile, toml, staticfile] = await Promise.all([readFirst(dir, candidates('Procfile')), readFirst(dir, candidates('hop3.toml')), readFirst(dir, [STATICFILE])]);
  return {
    dir,
    ...(procfile ? { procfile: { file: procfile.file, parsed: parseProcfile(procfile.text, procfile.file) } } : {}),
    ...(staticfile ? { staticfile: { file: staticfile.file, parsed: parseStaticfile(staticfile.text, staticfile.file) } } : {}),
    settings: toml ? parseAppSettings(toml.text, toml.file) : defaultSettings(),
  };
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
