import { Hop3Error, tail, type ErrorCode } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { runCommand } from '../process/run-command.js';

/**
 * Moving store paths between stores (`nix copy`), for `hop3 push` and for the run side of a pushed nix artifact.
 * The builder's own nix calls stay in builders/nix; this is the part both halves need.
 */

const COMMON_ARGS = ['--extra-experimental-features', 'nix-command flakes'];

/**
 * Why `uri` is not a store URI hop3 passes to `nix copy`, or undefined. Nix's forms: `file:///cache`, `http(s)://`,
 * `s3://`, `ssh://`, `ssh-ng://`, `local?root=/x`, `daemon`, an absolute path. Never an option (`-…`), never whitespace.
 */
export function storeUriProblem(uri: string): string | undefined {
  if (uri === '') return 'the store URI is empty';
  if (/[\s\u0000-\u001f\u007f]/.test(uri)) return `${JSON.stringify(uri)} contains whitespace or a control character`;
  if (/^(?:file|https?|s3|ssh|ssh-ng):\/\/[^/]*\/?\S*$/.test(uri) || /^(?:local|daemon|auto)(?:\?\S*)?$/.test(uri) || uri.startsWith('/')) return undefined;
  return `${JSON.stringify(uri)} is not a Nix store URI (file:///path, https://…, ssh://host, s3://bucket, or an absolute path)`;
}

/** The URI as recorded in an artifact: without `secret-key=` (a file on the pushing host, useless elsewhere). */
export function publicStoreUri(uri: string): string {
  const [base, query] = uri.split('?', 2) as [string, string | undefined];
  if (query === undefined) return uri;
  const kept = query.split('&').filter((pair) => !pair.startsWith('secret-key='));
  return kept.length > 0 ? `${base}?${kept.join('&')}` : base;
}

export interface NixCopyRequest {
  env: NodeJS.ProcessEnv;
  log: Logger;
  signal?: AbortSignal | undefined;
  /** Extra `nix` options (e.g. `--no-check-sigs`, `--option trusted-public-keys …`). */
  options?: readonly string[];
  code: ErrorCode;
}

/** `nix copy --to <uri> <path>`: the path and its closure (a `file://` cache signs them when the URI names a `secret-key`). */
export async function nixCopyTo(uri: string, storePath: string, request: NixCopyRequest): Promise<void> {
  await nixCopy(['--to', uri, storePath], `copy ${storePath} to ${publicStoreUri(uri)}`, request);
}

/** `nix copy --from <uri> <path>`: realise the path and its closure in this host's store. */
export async function nixCopyFrom(uri: string, storePath: string, request: NixCopyRequest): Promise<void> {
  await nixCopy(['--from', uri, storePath], `copy ${storePath} from ${uri}`, request);
}

async function nixCopy(args: readonly string[], what: string, request: NixCopyRequest): Promise<void> {
  const fullArgs = ['copy', ...args, ...COMMON_ARGS, ...(request.options ?? [])];
  const command = ['nix', ...fullArgs].map((arg) => (arg.includes('secret-key=') ? publicStoreUri(arg) : arg)).join(' ');
  request.log.output(`$ ${command}`);
  const result = await runCommand('nix', fullArgs, {
    env: request.env,
    cwd: '/',
    ...(request.signal ? { signal: request.signal } : {}),
    onLine: (line) => request.log.output(line),
  });
  if (!result.failed) return;
  if (result.notFound) {
    throw new Hop3Error(request.code, `Cannot ${what}: \`nix\` is not installed or not on PATH.`, { command, hint: 'Install Nix (Debian: apt-get install nix-bin).' });
  }
  const unsigned = /lacks a valid signature|no signature/i.test(result.stderr);
  throw new Hop3Error(request.code, `Cannot ${what}: nix copy failed (${result.reason}).`, {
    command,
    exitCode: result.exitCode,
    outputTail: tail(result.stderr || result.stdout),
    durationMs: result.durationMs,
    hint: unsigned
      ? 'The paths are not signed by a key this store trusts: push with --sign-key and give the public key here (HOP3_NIX_TRUSTED_PUBLIC_KEYS or trusted-public-keys in nix.conf), or set HOP3_NIX_NO_CHECK_SIGS=1 for a cache you trust by other means.'
      : 'Check that the store URI is right and reachable, and that the cache still holds the path.',
  });
}

/** Make `root` (a symlink) a GC root of a store path already in this store, so nix-collect-garbage keeps what runs. */
export async function nixAddRoot(root: string, storePath: string, request: Omit<NixCopyRequest, 'options' | 'log'>): Promise<void> {
  const args = ['build', storePath, '--out-link', root, '--option', 'substituters', '', ...COMMON_ARGS];
  const result = await runCommand('nix', args, { env: request.env, cwd: '/', ...(request.signal ? { signal: request.signal } : {}) });
  if (result.failed) {
    throw new Hop3Error(request.code, `Cannot make ${root} a GC root of ${storePath} (${result.reason}).`, { command: result.command, outputTail: tail(result.stderr), hint: 'Check that nix works here (hop3 doctor).' });
  }
}
