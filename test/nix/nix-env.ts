import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { engineGate } from '../helpers/engines.js';
import { ROOT } from '../helpers/sandbox.js';

export const NIXPKGS_MINI = path.join(ROOT, 'fixtures', 'nixpkgs-mini');

/** Offline and pointed at the test package set: no cache.nixos.org, `<nixpkgs>` = fixtures/nixpkgs-mini. */
export const NIX_TEST_ENV: NodeJS.ProcessEnv = { HOP3_NIX_OFFLINE: '1', NIX_PATH: `nixpkgs=${NIXPKGS_MINI}` };

/** `describe` for suites that need a working nix (see engineGate). */
export const describeNix = await engineGate('nix');

/** Point a copied flake's nixpkgs input at the test package set. */
export async function useMiniNixpkgs(appDir: string): Promise<void> {
  await appendFile(path.join(appDir, 'hop3.toml'), `\n[nix]\noverride-inputs = { nixpkgs = "path:${NIXPKGS_MINI}" }\n`);
}
