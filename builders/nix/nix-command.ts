import { Hop3Error, tail } from '../../src/errors.js';
import type { Logger } from '../../src/log/logger.js';
import { runCommand } from '../../src/process/run-command.js';
import { describeNixFailure, type NixFailureContext } from './nix-failure.js';

/** Every nix call gets these, so hop3 works without `experimental-features` in the user's nix.conf. */
export const COMMON_ARGS = ['--extra-experimental-features', 'nix-command flakes'];

export const NIX_INSTALL_HINT =
  'Install Nix (Debian/Ubuntu: `apt-get install nix-bin`; elsewhere https://nixos.org/download), then check that `nix --version` works; single-user installs need write access to /nix.';

export interface NixRun {
  cwd: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  signal?: AbortSignal;
  /** Extra options, e.g. `--option substituters ''`. */
  options?: readonly string[];
  /** Turns paths in Nix's messages back into the user's paths. */
  failure: NixFailureContext;
  /** Stream stderr lines to the log (build logs); off for quick queries. */
  live?: boolean;
}

export interface NixResult {
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Run `nix <args>`; a failure becomes a Hop3Error classified from Nix's own message (evaluation, build, attribute). */
export async function runNix(args: readonly string[], run: NixRun): Promise<NixResult> {
  const fullArgs = [...args, ...COMMON_ARGS, ...(run.options ?? [])];
  const command = ['nix', ...fullArgs].join(' ');
  if (run.live) run.log.output(`$ ${command}`);
  const result = await runCommand('nix', fullArgs, {
    cwd: run.cwd,
    env: run.env,
    ...(run.signal ? { signal: run.signal } : {}),
    // Build logs come on stderr; stdout is the --json answer.
    ...(run.live ? { onLine: (line: string, stream: 'stdout' | 'stderr') => stream === 'stderr' && run.log.output(line) } : {}),
  });
  const { stderr } = result;
  if (result.failed) {
    if (result.notFound) {
      throw new Hop3Error('BUILD_NIX_MISSING', 'The nix builder needs Nix, and `nix` is not installed or not on PATH.', { hint: NIX_INSTALL_HINT, command });
    }
    if (result.canceled) throw new Hop3Error('BUILD_NIX_CANCELLED', `\`${command}\` was cancelled.`, { command, durationMs: result.durationMs });
    throw await describeNixFailure(stderr, { ...run.failure, command, exitCode: result.exitCode, durationMs: result.durationMs });
  }
  return { stdout: result.stdout, stderr, durationMs: result.durationMs };
}

/** A self-contained derivation: proves the store is writable and builds run, without nixpkgs or network. */
const SMOKE_EXPR = 'derivation { name = "hop3-nix-smoke"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo ok > $out" ]; }';

/** For `hop3 doctor`: can this user build at all? Undefined when yes, else the tail of nix's complaint. */
export async function nixSmokeProblem(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const args = ['build', '--no-link', '--impure', '--expr', SMOKE_EXPR, '--option', 'substituters', '', ...COMMON_ARGS];
  const result = await runCommand('nix', args, { env, cwd: '/' });
  return result.failed ? tail(result.stderr || result.reason, 3) : undefined;
}

/** `nix --version` as "2.8.0", or a usable=false reason. */
export async function nixVersion(env: NodeJS.ProcessEnv): Promise<{ version?: string; problem?: string }> {
  const result = await runCommand('nix', ['--version'], { env });
  if (result.failed) return { problem: result.notFound ? 'nix is not installed' : tail(result.stderr || result.reason, 3) };
  return { version: result.stdout.trim().replace(/^nix \(Nix\) /, '') };
}
