import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Hop3Error, tail } from '../../src/errors.js';

/** What a failed nix call was doing, to phrase its error in the user's terms. */
export interface NixFailureContext {
  /** The user's source directory, shown instead of the staged copy. */
  sourceDir: string;
  /** The staged copy nix actually read. */
  stageDir: string;
  /** The Nix file built, relative to the source (`flake.nix`, `default.nix`, `hop3.nix (generated)`). */
  input: string;
  /** The attribute asked for, e.g. `default`. */
  attr: string;
}

interface FailureDetails extends NixFailureContext {
  command: string;
  exitCode: number | undefined;
  durationMs: number;
}

const BUILDER_FAILED = /error: builder for '([^']+\.drv)' failed with exit code (\d+)/;
const FLAKE_ATTR_MISSING = /error: flake '[^']+' does not provide attribute '([^']+)'/;
const FILE_ATTR_MISSING = /error: attribute '([^']+)' in selection path '([^']+)' not found/;
/** `import <nixpkgs>` (hop3's templates' default package set) on a host whose NIX_PATH names none. */
const NO_NIXPKGS = /error: file 'nixpkgs' was not found in the Nix search path/;
/** The throw in hop3's templates for a `[build]`/`[run] packages` name pkgs does not have. */
const UNKNOWN_PACKAGE = /hop3: (\[(?:build|run)\] packages): no package "([^"]+)" in the package set/;
/** Build log lines as `--print-build-logs` prints them: `<drv name>> <line>`. */
const BUILD_LOG_LINE = /^[\w.+-]+> /;

/** Classify nix's stderr: a failing builder, a missing attribute, or an evaluation error (Nix's own message, file:line). */
export async function describeNixFailure(stderr: string, details: FailureDetails): Promise<Hop3Error> {
  const text = await userPaths(stderr, details);
  const common = { command: details.command, durationMs: details.durationMs, ...(details.exitCode !== undefined ? { exitCode: details.exitCode } : {}) };
  const builder = BUILDER_FAILED.exec(text);
  if (builder) {
    const logLines = text.split('\n').filter((line) => BUILD_LOG_LINE.test(line));
    const logTail = tail(logLines.join('\n'), 20);
    return new Hop3Error(
      'BUILD_NIX_BUILD_FAILED',
      `Nix could not build ${builder[1]} (exit code ${builder[2]}) from ${details.input}.${logTail ? ' Last lines of its log:' : ' Its builder printed nothing.'}`,
      { ...common, ...(logTail ? { outputTail: logTail } : {}), hint: `Fix the build script in ${details.input}; \`nix log ${builder[1]}\` shows the whole log.` },
    );
  }
  const unknownPackage = UNKNOWN_PACKAGE.exec(text);
  if (unknownPackage) {
    return new Hop3Error('BUILD_NIX_PACKAGE_UNKNOWN', `${unknownPackage[1]}: the package set has no "${unknownPackage[2]}" (built with ${details.input}).`, {
      ...common,
      hint: 'Name a nixpkgs attribute (search.nixos.org/packages; e.g. postgresql for libpq-dev): hop3 maps a few Debian names (nix/README.md), others are taken as attribute paths as written.',
    });
  }
  if (NO_NIXPKGS.test(text)) {
    return new Hop3Error('BUILD_NIX_NIXPKGS_MISSING', `${details.input} imports <nixpkgs>, and the Nix search path here (NIX_PATH, nix.conf nix-path) has no nixpkgs.`, {
      ...common,
      hint: 'Point NIX_PATH at a nixpkgs checkout or channel (NIX_PATH=nixpkgs=/path/to/nixpkgs, or `nix-channel --add … nixpkgs && nix-channel --update`), or give the app a flake.nix that pins nixpkgs as an input.',
    });
  }
  const missing = FLAKE_ATTR_MISSING.exec(text) ?? FILE_ATTR_MISSING.exec(text);
  if (missing) {
    return new Hop3Error('BUILD_NIX_ATTR_MISSING', `${details.input} has no attribute "${details.attr}" (nix looked for '${missing[1]}').`, {
      ...common,
      hint: 'Set `[nix] attr` in hop3.toml to one that exists.',
    });
  }
  return new Hop3Error('BUILD_NIX_EVAL_FAILED', `Nix could not evaluate ${details.input}:\n${nixErrorMessage(text)}`, {
    ...common,
    file: details.input,
    hint: `Fix the Nix expression at the file and line above.`,
  });
}

/** Nix's message from its first `error:` on, without warnings or the --show-trace advice. */
function nixErrorMessage(text: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.startsWith('error:'));
  return lines
    .slice(start === -1 ? 0 : start)
    .filter((line) => !line.startsWith('warning:') && !line.startsWith("(use '--show-trace'"))
    .join('\n')
    .trimEnd();
}

/** Rewrite staged and store copies of the app's files to the user's own paths, so `file:line` points at their file. */
async function userPaths(text: string, details: NixFailureContext): Promise<string> {
  let result = text.replaceAll(`git+file://${details.stageDir}`, details.sourceDir).replaceAll(details.stageDir, details.sourceDir);
  // A flake is read from its store copy (`/nix/store/<hash>-source/`); map it back only when that file is the app's.
  const storeFiles = new Set(Array.from(result.matchAll(/\/nix\/store\/[0-9a-z]{32}-source\/([^\s:'"]+)/g), (m) => m[0]));
  for (const storeFile of storeFiles) {
    const relative = storeFile.replace(/^\/nix\/store\/[0-9a-z]{32}-source\//, '');
    const [inStore, inStage] = await Promise.all([readFile(storeFile).catch(() => undefined), readFile(path.join(details.stageDir, relative)).catch(() => undefined)]);
    if (inStore && inStage && inStore.equals(inStage)) result = result.replaceAll(storeFile, path.join(details.sourceDir, relative));
  }
  return result;
}
