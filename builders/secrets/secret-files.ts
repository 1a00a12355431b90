import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { wrapError } from '../../src/errors.js';
import type { BuildSecret } from './build-secrets.js';

/** What build steps get: `HOP3_SECRETS_DIR` and one variable per secret; disposing removes the files. */
export interface SecretFiles extends AsyncDisposable {
  env: Record<string, string>;
}

/**
 * One 0600 file per secret in a fresh 0700 temp dir, outside the build dir (which the artifact points to),
 * removed when the build ends, whether it succeeded or not.
 */
export async function writeSecretFiles(secrets: readonly BuildSecret[], env: NodeJS.ProcessEnv): Promise<SecretFiles> {
  if (secrets.length === 0) return { env: {}, [Symbol.asyncDispose]: async () => {} };
  const failed = (error: unknown) => wrapError(error, 'BUILD_SECRET_WRITE_FAILED', 'Cannot write the build secrets to a temporary directory', 'Check that TMPDIR (default /tmp) exists and is writable.');
  const dir = await mkdtemp(path.join(env.TMPDIR || os.tmpdir(), 'hop3-secrets-')).catch((error: unknown) => {
    throw failed(error);
  });
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    await chmod(dir, 0o700);
    await Promise.all(secrets.map((secret) => writeFile(path.join(dir, secret.id), secret.bytes, { mode: 0o600, flag: 'wx' })));
  } catch (error) {
    await dispose();
    throw failed(error);
  }
  return {
    env: { HOP3_SECRETS_DIR: dir, ...Object.fromEntries(secrets.map((secret) => [secret.id, secret.value])) },
    [Symbol.asyncDispose]: dispose,
  };
}
