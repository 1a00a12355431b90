import { spawn } from 'node:child_process';

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
export function runCommand(file: string, args: readonly string[], options: CommandOptions): Promise<CommandResult> {
  const started = performance.now();
  const command = [file, ...args].join(' ');
  return new Promise((resolve) => {
    const out = { stdout: '', stderr: '', all: '' };
    let timedOut = false;
    let canceled = false;
    let spawnError: NodeJS.ErrnoException | undefined;
    const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });

    for (const stream of ['stdout', 'stderr'] as const) {
      let pending = '';
      child[stream].setEncoding('utf8');
      child[stream].on('data', (text: string) => {
        out[stream] += text;
        out.all += text;
        if (!options.onLine) return;
        const lines = (pending + text).split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) options.onLine(line, stream);
      });
      child[stream].on('end', () => {
        if (pending && options.onLine) options.onLine(pending, stream);
      });
    }

    const stop = () => child.kill('SIGTERM');
    const onAbort = () => {
      canceled = true;
      stop();
    };
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => ((timedOut = true), stop()), options.timeoutMs);

    child.once('error', (error: NodeJS.ErrnoException) => {
      spawnError = error;
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      const notFound = spawnError?.code === 'ENOENT';
      const failed = spawnError !== undefined || code !== 0 || canceled || timedOut;
      const reason = notFound
        ? `${file} is not installed or not on PATH`
        : spawnError
          ? spawnError.message
          : timedOut
            ? `timed out after ${Math.round(options.timeoutMs! / 1000)} s`
            : canceled
              ? 'cancelled'
              : signal
                ? `killed by ${signal}`
                : `exit code ${code}`;
      resolve({
        command,
        failed,
        ...(code !== null ? { exitCode: code } : {}),
        ...(signal ? { signal } : {}),
        notFound,
        timedOut,
        canceled,
        reason,
        ...out,
        durationMs: performance.now() - started,
      });
    });
  });
}
