import { rm } from 'node:fs/promises';
import { runCommand } from '../../src/process/run-command.js';
import { COMMON_ARGS, type NixRun } from './nix-command.js';
import { describeNixFailure } from './nix-failure.js';

/** What `nix build --rebuild` found: the same output, or the path of the differing second one (`<out>.check`). */
export type RebuildResult = { identical: true } | { identical: false; output: string; check: string };

/** Nix 2.8's words (exit 1; `nix-build --check` says 104) when a rebuild differs, with --keep-failed naming both paths. */
const DIFFERS = /may not be deterministic: output '(\/nix\/store\/[^']+)' differs(?: from '(\/nix\/store\/[^']+)')?/;
const KEPT_DIR = /keeping build directory '([^']+)'/;

/**
 * Builds the installable's outputs again (`nix build --rebuild`, which needs them valid already) and compares them with
 * the ones in the store. A differing output is kept next to the original as `<out>.check` (--keep-failed) for the
 * caller to compare and then delete (deleteCheckOutput); the failed build's directory Nix keeps too is removed here.
 */
export async function rebuildOutputs(installable: readonly string[], run: NixRun): Promise<RebuildResult> {
  const args = ['build', ...installable, '--rebuild', '--keep-failed', '--no-link', ...COMMON_ARGS, ...(run.options ?? [])];
  run.log.step(`nix build --rebuild: building the derivation again and comparing its outputs`);
  const result = await runCommand('nix', args, { cwd: run.cwd, env: run.env, ...(run.signal ? { signal: run.signal } : {}) });
  if (!result.failed) return { identical: true };
  const differs = DIFFERS.exec(result.stderr);
  const kept = KEPT_DIR.exec(result.stderr)?.[1];
  if (kept?.startsWith('/tmp/nix-build-')) await rm(kept, { recursive: true, force: true }).catch(() => undefined);
  if (differs || result.exitCode === 104) {
    const output = differs?.[1] ?? '';
    return { identical: false, output, check: differs?.[2] ?? `${output}.check` };
  }
  // Any other failure is the build's own: classified as a normal build's would be.
  throw await describeNixFailure(result.stderr, { ...run.failure, command: ['nix', ...args].join(' '), exitCode: result.exitCode, durationMs: result.durationMs });
}

/** Deletes a `<out>.check` path (not a valid store path: nothing refers to it). */
export async function deleteCheckOutput(check: string, run: Pick<NixRun, 'cwd' | 'env'>): Promise<void> {
  if (!/^\/nix\/store\/[^/]+\.check$/.test(check)) return;
  await runCommand('nix', ['store', 'delete', check, ...COMMON_ARGS], { cwd: run.cwd, env: run.env });
}
