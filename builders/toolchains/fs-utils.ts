import { access, readFile } from 'node:fs/promises';
import path from 'node:path';

export async function exists(dir: string, file: string): Promise<boolean> {
  try {
    await access(path.join(dir, file));
    return true;
  } catch {
    return false;
  }
}

/** First of `files` present in `dir`. */
export async function firstExisting(dir: string, files: readonly string[]): Promise<string | undefined> {
  for (const file of files) if (await exists(dir, file)) return file;
  return undefined;
}

export async function readJson(file: string): Promise<unknown> {
  return JSON.parse(await readFile(file, 'utf8'));
}
