import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadAppConfig } from '../../src/config/app-config.js';
import { Hop3Error } from '../../src/errors.js';
import { appNameFromDir, validateAppName } from '../../src/state/hop3-home.js';
import { exists } from '../toolchains/fs-utils.js';
import { NIX_FILES } from '../toolchains/generic.js';
import { detectToolchain } from '../toolchains/registry.js';
import { GENERATED_NIX_FILE, generateNixExpression } from './nix-expression.js';

export interface EjectResult {
  /** The file written. */
  file: string;
  /** Template it came from, e.g. `python.nix`. */
  template: string;
}

/**
 * `hop3 nix eject <dir>`: write the expression the nix builder would generate into the app as hop3.nix,
 * for the user to customise; later nix builds use it (same store path until it is edited).
 */
export async function ejectNixExpression(dir: string, options: { name?: string } = {}): Promise<EjectResult> {
  const sourceDir = path.resolve(dir);
  for (const file of NIX_FILES) {
    if (await exists(sourceDir, file)) {
      throw new Hop3Error('BUILD_NIX_EJECT_EXISTS', `${path.join(sourceDir, file)} exists: the app already has its own Nix expression, which the nix builder uses as it is.`, {
        file,
        hint: file === GENERATED_NIX_FILE ? `Remove ${file} first to eject a fresh one.` : `Edit ${file}, or remove it to eject hop3's template.`,
      });
    }
  }
  const config = await loadAppConfig(sourceDir);
  const { toolchain } = await detectToolchain(config);
  const appName = options.name !== undefined ? validateAppName(options.name) : appNameFromDir(sourceDir);
  const { template, text } = await generateNixExpression(toolchain, config, appName);
  const file = path.join(sourceDir, GENERATED_NIX_FILE);
  await writeFile(file, text, { flag: 'wx' });
  return { file, template };
}
