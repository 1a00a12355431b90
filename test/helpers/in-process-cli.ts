import { main } from '../../src/cli/main.js';

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * The real `main(argv)` in this process, with stdout/stderr captured, for commands that touch no engine.
 * Signal listeners a command adds (cliContext) are removed afterwards, so thousands of runs leak none;
 * a call to process.exit is turned into an error (main must return its exit code, never exit).
 */
export async function runCliInProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = { stdout: process.stdout.write, stderr: process.stderr.write, exit: process.exit, env: { ...process.env } };
  const listeners = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
  const capture = (into: string[]) => ((chunk: string | Uint8Array) => {
    into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = capture(out);
  process.stderr.write = capture(err);
  process.exit = ((code?: number) => {
    throw new Error(`process.exit(${code}) called from main`);
  }) as typeof process.exit;
  Object.assign(process.env, env);
  try {
    const exitCode = await main(['node', 'hop3', ...args]);
    return { exitCode, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = saved.stdout;
    process.stderr.write = saved.stderr;
    process.exit = saved.exit;
    for (const key of Object.keys(process.env)) if (!(key in saved.env)) delete process.env[key];
    Object.assign(process.env, saved.env);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      for (const listener of process.listeners(signal)) if (!listeners[signal].includes(listener)) process.removeListener(signal, listener);
    }
  }
}
