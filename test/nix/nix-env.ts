import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { NixBuilder } from '../../builders/nix/nix-builder.js';
import { ROOT } from '../helpers/sandbox.js';

export const NIXPKGS_MINI = path.join(ROOT, 'fixtures', 'nixpkgs-mini');

/** Offline and pointed at the test package set: no cache.nixos.org, `<nixpkgs>` = fixtures/nixpkgs-mini. */
export const NIX_TEST_ENV: NodeJS.ProcessEnv = { HOP3_NIX_OFFLINE: '1', NIX_PATH: `nixpkgs=${NIXPKGS_MINI}` };

const availability = await new NixBuilder({ env: process.env }).available();
/** Nix engine tests run when nix works, and must fail (not skip) without it under HOP3_REQUIRE_ENGINES=1. */
export const runNixTests = availability.usable || process.env.HOP3_REQUIRE_ENGINES === '1';
export const nixAvailability = availability;

/** Point a copied flake's nixpkgs input at the test package set. */
export async function useMiniNixpkgs(appDir: string): Promise<void> {
  await appendFile(path.join(appDir, 'hop3.toml'), `\n[nix]\noverride-inputs = { nixpkgs = "path:${NIXPKGS_MINI}" }\n`);
}
