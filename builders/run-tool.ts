import { execa } from 'execa';
import { Hop3Error, tail } from '../src/errors.js';
import type { Logger } from '../src/log/logger.js';

export interface ToolRun {
  cwd: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  signal?: AbortSignal;
  /** Error code when the tool fails, e.g. BUILD_PIP_FAILED. */
  errorCode: string;
  hint: string;
}

/** Run a build tool with live output; a failure becomes a Hop3Error carrying the command, exit code and output tail. */
export async function runTool(file: string, args: readonly string[], run: ToolRun): Promise<string> {
  const command = [file, ...args].join(' ');
  run.log.output(`$ ${command}`);
  const child = execa(file, args, {
    cwd: run.cwd,
    env: run.env,
    extendEnv: false,
    all: true,
    reject: false,
    stdin: 'ignore',
    ...(run.signal ? { cancelSignal: run.signal } : {}),
    lines: false,
  });
  let output = '';
  let pending = '';
  child.all?.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    output += text;
    const lines = (pending + text).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) run.log.output(line);
  });
  const result = await child;
  if (pending) run.log.output(pending);
  if (result.failed) {
    const reason = result.code === 'ENOENT' ? `${file} is not installed or not on PATH` : result.shortMessage;
    throw new Hop3Error(run.errorCode, `\`${command}\` failed in ${run.cwd}: ${reason}`, {
      hint: run.hint,
      command,
      ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
      outputTail: tail(output),
      durationMs: result.durationMs,
      cause: result.cause,
    });
  }
  return output;
}
