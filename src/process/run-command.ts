import { execa } from 'execa';

export interface CommandOptions {
  cwd?: string;
  /** The child's whole environment (nothing is added from process.env). */
  env: NodeJS.ProcessEnv;
  /** Aborting sends SIGTERM; the result says `canceled`. */
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Each complete line of output as it arrives, for live logs. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
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

/**
 * Run a program to completion; never rejects, the result says how it ended. Every external tool
 * hop3 runs (pip, npm, nix, git, shells) goes through here: one place for output, cancellation and timeouts.
 */
export async function runCommand(file: string, args: readonly string[], options: CommandOptions): Promise<CommandResult> {
  const started = performance.now();
  const command = [file, ...args].join(' ');
  const lines = options.onLine ? { stdout: [lineTap(options.onLine, 'stdout')], stderr: [lineTap(options.onLine, 'stderr')] } : {};

  const result = await execa(file, args, {
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    env: options.env,
    extendEnv: false,
    stdin: 'ignore',
    ...lines,
    all: true,
    reject: false,
    stripFinalNewline: false,
    maxBuffer: Infinity,
    verbose: 'none',
    ...(options.signal ? { cancelSignal: options.signal } : {}),
    ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
  });

  const { timedOut, isCanceled: canceled } = result;
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
