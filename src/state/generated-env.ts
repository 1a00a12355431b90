import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';
import * as z from 'zod';
import { ENV_GENERATORS, type EnvGenerate } from '../config/hop3-toml.js';
import { Hop3Error } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { ensureAppDirs, PRIVATE_FILE_MODE } from './app-dirs.js';
import type { AppPaths } from './hop3-home.js';
import { homeOf, homeWriteError } from './home-write-error.js';

/** What the artifact records of `[env] NAME = { generate = ... }` (metadata.generated_env): how, never the value. */
export const GeneratedEnvSpecsSchema = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
  z.looseObject({ generate: z.enum(ENV_GENERATORS), length: z.number().int().positive().max(4096).optional(), prefix: z.string().optional() }),
);

const StoredSchema = z.record(z.string(), z.string());

/** Random bytes (hex, base64, urlsafe: as Python's secrets.token_*) or characters (password) when `length` is not given. */
const DEFAULT_LENGTH = 32;
const PASSWORD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A new random value for the spec, from the system's CSPRNG. */
export function generateValue(spec: Pick<EnvGenerate, 'generate' | 'length' | 'prefix'>): string {
  const length = spec.length ?? DEFAULT_LENGTH;
  const value = {
    hex: () => randomBytes(length).toString('hex'),
    base64: () => randomBytes(length).toString('base64'),
    urlsafe: () => randomBytes(length).toString('base64url'),
    password: () => password(length),
    uuid: () => randomUUID(),
  }[spec.generate]();
  return `${spec.prefix ?? ''}${value}`;
}

/** `length` letters and digits, each equally likely (bytes past the last whole alphabet are drawn again). */
function password(length: number): string {
  const limit = 256 - (256 % PASSWORD_ALPHABET.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit && out.length < length) out += PASSWORD_ALPHABET[byte % PASSWORD_ALPHABET.length];
    }
  }
  return out;
}

/**
 * The app's generated values for these specs: those made before (kept in `apps/<app>/generated-env.json`,
 * 0600, across releases, rebuilds and rollbacks), and new ones made now for names that have none, saved
 * before any worker sees them. Call under the app lock. A value is never logged; delete its line to renew it.
 */
export async function loadGeneratedEnv(paths: AppPaths, specs: Readonly<Record<string, Pick<EnvGenerate, 'generate' | 'length' | 'prefix'>>>, log: Logger): Promise<Record<string, string>> {
  const names = Object.keys(specs);
  if (names.length === 0) return {};
  const stored = await readStored(paths.generatedEnv);
  const fresh = names.filter((name) => stored[name] === undefined);
  if (fresh.length === 0) return pick(stored, names);
  const next = { ...stored };
  for (const name of fresh) next[name] = generateValue(specs[name]!);
  await ensureAppDirs(paths);
  try {
    await writeFileAtomic(paths.generatedEnv, `${JSON.stringify(next, null, 2)}\n`, { mode: PRIVATE_FILE_MODE });
  } catch (error) {
    throw homeWriteError(error, paths.generatedEnv, homeOf(paths.root), `keep the generated values of ${paths.app} in ${paths.generatedEnv}`);
  }
  log.info(`generated ${fresh.join(', ')} for ${paths.app} (kept in ${paths.generatedEnv}, mode 0600)`);
  return pick(next, names);
}

async function readStored(file: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Hop3Error('STATE_UNREADABLE', `Cannot read ${file}: ${(error as Error).message}`, { file, cause: error, hint: 'Check the permissions of HOP3_HOME.' });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = StoredSchema.safeParse(json);
  if (!parsed.success) {
    throw new Hop3Error('STATE_CORRUPT', `${file} is damaged: it must be a JSON object of variable names and string values.`, {
      file,
      hint: `Fix it, or remove it to generate new values (what the app signed or encrypted with the old ones will no longer be valid).`,
    });
  }
  return parsed.data;
}

const pick = (values: Readonly<Record<string, string>>, names: readonly string[]) => Object.fromEntries(names.map((name) => [name, values[name]!]));
