import { readFile } from 'node:fs/promises';
import type { AppConfig } from '../../src/config/app-config.js';
import { Hop3Error } from '../../src/errors.js';

/** A secret id is also the name of the variable build steps read it from, and of its file in HOP3_SECRETS_DIR. */
export const SECRET_ID = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Where a secret's value comes from: an environment variable of hop3's own environment, or a file. */
export type SecretSource = { env: string } | { file: string };

/** A secret asked for by `--secret` or `[build] secrets`; `origin` names which, for errors. */
export interface SecretRequest {
  id: string;
  source: SecretSource;
  origin: string;
}

/** A resolved secret: build steps only ever see it, nothing hop3 keeps or prints contains it. */
export interface BuildSecret {
  id: string;
  /** What the step's environment gets: the variable's value, or the file's text without its trailing newlines (as `$(cat file)`). */
  value: string;
  /** What `$HOP3_SECRETS_DIR/<id>` holds: the exact bytes. */
  bytes: Buffer;
}

/** Why an id is unusable, or undefined when it is fine. */
export function secretIdProblem(id: string): string | undefined {
  if (!SECRET_ID.test(id)) return `${JSON.stringify(id)} is not a valid secret id (an environment variable name: letters, digits and "_", not starting with a digit)`;
  if (id.startsWith('HOP3_')) return `${JSON.stringify(id)} is in hop3's own HOP3_ namespace`;
  return undefined;
}

/** `[build] secrets` (each from the variable of the same name), then `--secret`, which wins for the same id. */
export function secretRequests(cli: readonly SecretRequest[], config: AppConfig): SecretRequest[] {
  const byId = new Map<string, SecretRequest>();
  const file = config.settings.file ?? 'hop3.toml';
  const origin = `${file}: [build] secrets`;
  for (const id of config.settings.build.secrets) {
    const problem = secretIdProblem(id);
    if (problem) {
      throw new Hop3Error('CONFIG_TOML_INVALID', `${origin}: ${problem}.`, { file, hint: 'List secret ids, e.g. secrets = ["NPM_TOKEN"]; each value comes from the environment variable of the same name.' });
    }
    byId.set(id, { id, source: { env: id }, origin });
  }
  for (const request of cli) byId.set(request.id, request);
  return [...byId.values()];
}

/** Read every secret's value; a missing variable or unreadable file is an error naming the secret and where it was asked for. */
export async function resolveBuildSecrets(requests: readonly SecretRequest[], env: NodeJS.ProcessEnv): Promise<BuildSecret[]> {
  return Promise.all(requests.map((request) => resolveSecret(request, env)));
}

async function resolveSecret({ id, source, origin }: SecretRequest, env: NodeJS.ProcessEnv): Promise<BuildSecret> {
  let secret: BuildSecret;
  if ('env' in source) {
    const value = env[source.env];
    if (value === undefined) {
      throw new Hop3Error('BUILD_SECRET_MISSING', `Secret ${id} (${origin}): the environment variable ${source.env} is not set.`, {
        hint: `Export it before running hop3 (export ${source.env}=...), or read the secret from a file: --secret id=${id},src=./${id.toLowerCase()}.txt`,
      });
    }
    secret = { id, value, bytes: Buffer.from(value) };
  } else {
    let bytes: Buffer;
    try {
      bytes = await readFile(source.file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new Hop3Error('BUILD_SECRET_MISSING', `Secret ${id} (${origin}): cannot read ${source.file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message}.`, {
        file: source.file,
        hint: 'Give the path of a readable file with src=FILE (relative to the current directory).',
      });
    }
    secret = { id, value: bytes.toString('utf8').replace(/[\r\n]+$/, ''), bytes };
  }
  if (secret.bytes.includes(0)) {
    throw new Hop3Error('BUILD_SECRET_INVALID', `Secret ${id} (${origin}) contains a NUL byte: it cannot be put in a build step's environment.`, {
      hint: 'Encode binary secrets (e.g. base64) and decode them in the build step.',
    });
  }
  return secret;
}
