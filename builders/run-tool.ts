import { Hop3Error, tail, type ErrorCode } from '../src/errors.js';
import type { Logger } from '../src/log/logger.js';
import { runCommand } from '../src/process/run-command.js';

export interface ToolRun {
  cwd: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  signal?: AbortSignal;
  /** Error code when the tool fails, e.g. BUILD_PIP_FAILED. */
  errorCode: ErrorCode;
  hint: string;
}

/** Run a build tool with live output; a failure becomes a Hop3Error carrying the command, exit code and output tail. */
export async function runTool(file: string, args: readonly string[], run: ToolRun): Promise<string> {
  run.log.output(`$ ${[file, ...args].join(' ')}`);
  const result = await runCommand(file, args, {
    cwd: run.cwd,
    env: run.env,
    ...(run.signal ? { signal: run.signal } : {}),
    onLine: (line) => run.log.output(line),
  });
  if (result.failed) {
    throw new Hop3Error(run.errorCode, `\`${result.command}\` failed in ${run.cwd}: ${result.reason}`, {
      hint: run.hint,
      command: result.command,
      ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
      outputTail: tail(result.all),
      durationMs: result.durationMs,
    });
  }
  return result.all;
}
