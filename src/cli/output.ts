import { Hop3Error } from '../errors.js';

/** `hop3: what went wrong`, the tool output tail, and a hint line; the stack only with HOP3_DEBUG=1. */
export function formatError(error: unknown, env: NodeJS.ProcessEnv = process.env): string {
  const lines: string[] = [];
  if (error instanceof Hop3Error) {
    lines.push(`hop3: ${error.message} [${error.code}]`);
    if (error.outputTail) lines.push('', ...error.outputTail.split('\n').map((line) => `  | ${line}`), '');
    if (error.restoredBuild) lines.push(`The previous release (build ${error.restoredBuild}) was restarted and keeps serving.`);
    if (error.keptBuild) lines.push(`The live release (build ${error.keptBuild}) was not touched and keeps serving.`);
    if (error.hint) lines.push(`hint: ${error.hint}`);
  } else {
    lines.push(`hop3: unexpected error: ${error instanceof Error ? error.message : String(error)} [INTERNAL]`);
    lines.push('hint: this is a bug in hop3; rerun with HOP3_DEBUG=1 for the stack trace and report it.');
  }
  if (env.HOP3_DEBUG === '1' && error instanceof Error && error.stack) lines.push('', error.stack);
  return `${lines.join('\n')}\n`;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Hop3Error('CLI_INVALID_OPTION', `--port must be a whole number from 1 to 65535 (got ${JSON.stringify(value)}).`, { hint: 'Example: --port 8080' });
  }
  return port;
}

export function parseCount(option: string) {
  return (value: string): number => {
    const count = Number(value);
    if (!Number.isInteger(count) || count < 0) {
      throw new Hop3Error('CLI_INVALID_OPTION', `${option} must be a whole number (got ${JSON.stringify(value)}).`, { hint: `Example: ${option} 50` });
    }
    return count;
  };
}
