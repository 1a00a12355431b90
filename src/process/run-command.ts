import { statSync } from 'node:fs';
import path from 'node:path';

export interface CommandOptions {
  cwd?: string;
  /** The child's whole environment (nothing is added from process.env). */
  env: NodeJS.ProcessEnv;
  /** Aborting sends SIGTERM to the tool's whole process group, SIGKILL after a grace period; the result says `canceled`. */
  signal?: AbortSignal;
  /** Stops the tool like a cancellation; the result says `timedOut`. */
  timeoutMs?: number;
  /** Each complete line of output as it arrives, for live logs. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Run as this user, its watcher too (hop3 must be root to switch); supplementary groups are dropped. */
  uid?: number;
  gid?: number;
}

export interface CommandResult {
  /** The command as a user would type it, for messages. */
  command: string;
  failed: boolean;
  exitCode?: number;
  signal?: NodeJS.Signals;
  /** The program does not exist (ENOENT). */
  notFound: boolean;
  timedOut: boolean;
  canceled: boolean;
  /** Why it failed, in words: "exit code 3", "killed by SIGKILL", "timed out after 5 s", "not found". */
  reason: string;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they arrived. */
  all: string;
  durationMs: number;
}

/** How long a stopped tool has between SIGTERM and SIGKILL. */
const GRACE_MS = 5000;

/**
 * hop3 starts this shell detached, so it leads a new process group, with a pipe as stdin that only
 * hop3 holds. It forks a watcher into that group (deaf to the group's SIGTERM: one sent during that
 * fork is lost, and the grace's SIGKILL ends the tool), then becomes the tool ("$@", stdin /dev/null,
 * default signal handling). The group's id is the tool's pid, not reusable while the watcher is in
 * the group: it signals only that group, never a pid, and hop3 signals no group itself.
 * - hop3 writes "stop" (cancelled, timed out): the watcher SIGTERMs the group, and once the pipe closes
 *   (hop3 reaped the tool, which execa SIGKILLs after the grace) SIGKILLs what is left.
 * - The pipe closes while the tool is still there (alive, or dead but not reaped): hop3 died, even by
 *   SIGKILL. The watcher SIGKILLs the whole group.
 * - The pipe closes once hop3 reaped the tool: the watcher leaves what the tool left running (a daemon, as nginx).
 * Before the exec: $1 restorations of what sh changed in the environment.
 */
const LAUNCHER = `exec 3<&0 </dev/null
trap '' TERM INT HUP
{
  if read -r stop <&3; then kill -s TERM -- "-$$"; read -r _ <&3; fi
  if [ -n "$stop" ] || kill -0 "$$"; then kill -s KILL -- "-$$"; fi
} >/dev/null 2>&1 &
trap - TERM INT HUP
exec 3<&-
n=$1; shift
while [ "$n" -gt 0 ]; do case $1 in -*) unset "\${1#-}" ;; *) export "$1" ;; esac; n=$((n - 1)); shift; done
exec "$@"`;

/**
 * Variables sh sets itself (PWD even when absent): the launcher puts back what the caller gave, or
 * unsets PWD. sh cannot pass on names that are not identifiers (bash's exported functions, BASH_FUNC_f%%).
 */
const SHELL_OWNED = ['PWD', 'IFS', 'OPTIND', 'PPID'];

function restorations(env: NodeJS.ProcessEnv): string[] {
  const given = SHELL_OWNED.filter((name) => env[name] !== undefined).map((name) => `${name}=${env[name]}`);
  const changes = env.PWD === undefined ? [...given, '-PWD'] : given;
  return [String(changes.length), ...changes];
}

/**
 * Run a program to completion; never rejects, the result says how it ended. Every external tool
 * hop3 runs (pip, npm, nix, git, shells) goes through here: one place for output, cancellation and timeouts,
 * and for the rule that nothing a tool started outlives it, or outlives hop3.
 */
export async function runCommand(file: string, args: readonly string[], options: CommandOptions): Promise<CommandResult> {
  const started = performance.now();
  const command = [file, ...args].join(' ');
  // The launcher execs the tool, so a missing one is found here to keep execa's ENOENT answer.
  if (!findProgram(file, options)) return notStarted(command, started, { notFound: true, canceled: false, reason: `${file} is not installed or not on PATH` });

  // execa's own `timeout` would stop only the tool, not its group: one signal drives both.
  const timeout = options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs);
  const inputs = [options.signal, timeout].filter((signal) => signal !== undefined);
  const stop = inputs.length > 1 ? AbortSignal.any(inputs) : inputs[0];
  if (stop?.aborted) return notStarted(command, started, { notFound: false, canceled: true, reason: 'cancelled' });
  const lines = options.onLine ? { stdout: [lineTap(options.onLine, 'stdout')], stderr: [lineTap(options.onLine, 'stderr')] } : {};

  // Loaded on first use: execa costs tens of ms to load, which `hop3 status` or the start of a build need not pay.
  const { execa } = await import('execa');
  const subprocess = execa('/bin/sh', ['-c', LAUNCHER, 'hop3', ...restorations(options.env), file, ...args], {
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    env: options.env,
    extendEnv: false,
    detached: true,
    ...(options.uid !== undefined ? { uid: options.uid, ...(options.gid !== undefined ? { gid: options.gid } : {}) } : {}),
    stdin: 'pipe',
    ...lines,
    all: true,
    reject: false,
    stripFinalNewline: false,
    maxBuffer: Infinity,
    verbose: 'none',
    ...(stop ? { cancelSignal: stop } : {}),
    forceKillAfterDelay: GRACE_MS,
  });
  // execa SIGTERMs the tool (then SIGKILLs it after the grace); the watcher SIGTERMs its children too.
  const stopGroup = () => {
    // Once node has seen the tool exit, the watcher is on its way out: nothing to tell.
    if (subprocess.exitCode !== null || subprocess.signalCode !== null) return;
    subprocess.stdin.write('stop\n', () => {});
  };
  stop?.addEventListener('abort', stopGroup, { once: true });
  const result = await subprocess;
  stop?.removeEventListener('abort', stopGroup);

  const timedOut = result.isCanceled && timeout !== undefined && stop!.reason === timeout.reason;
  const canceled = result.isCanceled && !timedOut;
  const notFound = result.code === 'ENOENT';
  const signal = result.signal as NodeJS.Signals | undefined;
  // Failed without an exit status to blame: the spawn itself, or reading the output, went wrong.
  const error = result.failed && !signal && !result.exitCode ? result.originalMessage || result.shortMessage : undefined;
  const reason = notFound
    ? `${file} is not installed or not on PATH`
    : timedOut
      ? `timed out after ${Math.round(options.timeoutMs! / 1000)} s`
      : canceled
        ? 'cancelled'
        : signal
          ? `killed by ${signal}`
          : (error ?? `exit code ${result.exitCode}`);
  return {
    command,
    failed: result.failed,
    ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
    ...(signal ? { signal } : {}),
    notFound,
    timedOut,
    canceled,
    reason,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
    all: result.all ?? '',
    durationMs: performance.now() - started,
  };
}

/** The result for a tool that was never started. */
function notStarted(command: string, started: number, why: Pick<CommandResult, 'notFound' | 'canceled' | 'reason'>): CommandResult {
  return { command, failed: true, timedOut: false, ...why, stdout: '', stderr: '', all: '', durationMs: performance.now() - started };
}

/** An execa transform that hands each line to `onLine` (without its "\n") and passes it through unchanged. */
function lineTap(onLine: NonNullable<CommandOptions['onLine']>, stream: 'stdout' | 'stderr') {
  return {
    // Lines arrive as strings (utf8, not binary), each with its own "\n" if it had one.
    *transform(line: unknown) {
      const text = String(line);
      onLine(text.endsWith('\n') ? text.slice(0, -1) : text, stream);
      yield text;
    },
    preserveNewlines: true,
  };
}

/** Whether `file` names something that exists, looked up the way exec does: a path from `cwd`, else each PATH entry. */
function findProgram(file: string, options: Pick<CommandOptions, 'cwd' | 'env'>): boolean {
  const cwd = options.cwd ?? process.cwd();
  const candidates = file.includes('/') ? [file] : (options.env.PATH ?? '/usr/bin:/bin').split(':').map((dir) => path.join(dir, file));
  return candidates.some((candidate) => {
    try {
      statSync(path.resolve(cwd, candidate));
      return true;
    } catch {
      // Absent, or behind a PATH entry that is not a readable directory: exec would skip it too.
      return false;
    }
  });
}
