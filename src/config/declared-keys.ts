import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { wrapError } from '../errors.js';
import { NOT_ACTED_ON } from './app-settings.js';
import { Hop3TomlSchema, readToml } from './hop3-toml.js';

/** One key a hop3.toml declares, and whether hop3 acts on it. */
export interface DeclaredKey {
  /** As written: `[build] builder`, `[source] python`, `[[addons]] #1`. */
  key: string;
  /** `acted`: hop3 does what it says (with the builder or target it concerns); `declared`: understood, not acted on. */
  status: 'acted' | 'declared';
  /** For `declared`: how the build warning names it (`[[addons]] postgres`) and what Hop3 does with it. */
  as?: string[];
  hop3?: string;
}

/** `[metadata]` only describes the app: nothing to act on, and no warning for it. */
const DESCRIPTIVE = new Set(['metadata']);

/**
 * Every key of the app's hop3.toml (a `[section] key`, each `[[array]]` entry), acted or declared. A key is declared
 * when NOT_ACTED_ON finds it in a file holding that key alone: what hop3 acts on follows that list, with nothing to keep in step here.
 */
export async function declaredKeys(dir: string, file: string): Promise<DeclaredKey[]> {
  const text = await readFile(path.join(dir, file), 'utf8').catch((error: unknown) => {
    throw wrapError(error, 'CONFIG_UNREADABLE', `Cannot read ${path.join(dir, file)}`, 'Check the file permissions.', { file });
  });
  const toml = readToml(text, file);
  const keys: DeclaredKey[] = [];
  for (const [section, value] of Object.entries(isTable(toml) ? toml : {})) {
    if (Array.isArray(value)) value.forEach((entry, i) => keys.push(status(`[[${section}]] #${i + 1}`, section, { [section]: [entry] })));
    else if (isTable(value) && Object.keys(value).length > 0) for (const [key, item] of Object.entries(value)) keys.push(status(`[${section}] ${key}`, section, { [section]: { [key]: item } }));
    else keys.push(status(`[${section}]`, section, { [section]: value }));
  }
  return keys;
}

function status(key: string, section: string, alone: Record<string, unknown>): DeclaredKey {
  if (DESCRIPTIVE.has(section)) return { key, status: 'declared', hop3: "keeps it as the app's description (nothing to act on: no warning)" };
  // The whole file parsed, so each of its keys parses alone (the schema's rules are per key or per [[array]] entry).
  const toml = Hop3TomlSchema.parse(alone);
  const unacted = NOT_ACTED_ON.map((entry) => ({ entry, labels: entry.declared(toml) })).filter(({ labels }) => labels.length > 0);
  if (unacted.length === 0) return { key, status: 'acted' };
  return { key, status: 'declared', as: unacted.flatMap(({ labels }) => labels), hop3: unacted.map(({ entry }) => entry.hop3).join('; ') };
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
