import { Hop3Error } from '../errors.js';

/** `hop3: what went wrong`, the tool output tail, and a hint line; the stack only with HOP3_DEBUG=1. */
export function formatError(error: unknown, env: NodeJS.ProcessEnv = process.env): string {
  const lines: string[] = [];
  if (error instanceof Hop3Error) {
    lines.push(`hop3: ${printable(error.message)} [${error.code}]`);
    if (error.outputTail) lines.push('', ...error.outputTail.split('\n').map((line) => `  | ${line}`), '');
    if (error.restoredBuild) lines.push(`The previous release (build ${error.restoredBuild}) was restarted and keeps serving.`);
    if (error.keptBuild) lines.push(`The live release (build ${error.keptBuild}) was not touched and keeps serving.`);
    if (error.hint) lines.push(`hint: ${printable(error.hint)}`);
  } else {
    lines.push(`hop3: unexpected error: ${error instanceof Error ? error.message : String(error)} [INTERNAL]`);
    lines.push('hint: this is a bug in hop3; rerun with HOP3_DEBUG=1 for the stack trace and report it.');
  }
  if (env.HOP3_DEBUG === '1' && error instanceof Error && error.stack) lines.push('', error.stack);
  return `${lines.join('\n')}\n`;
}

/**
 * Messages quote files, keys and arguments: their control characters reach the terminal escaped,
 * so a hostile file cannot move the cursor or recolour the screen. Newlines and tabs stay.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * `--port`: a plain decimal 1-65535. `Number()` would take ` 80`, `1e4`, `0x10` and `80.0`; leading zeros are
 * refused too (`080` reads as octal to some tools), so the port used is always the digits the user typed.
 */
export function parsePort(value: string): number {
  if (!/^[1-9][0-9]{0,4}$/.test(value) || Number(value) > 65535) {
    throw new Hop3Error('CLI_INVALID_OPTION', `--port must be a whole number from 1 to 65535, in plain digits (got ${JSON.stringify(value)}).`, { usage: true, hint: 'Example: --port 8080' });
  }
  return Number(value);
}

/** A count such as `--lines`: plain decimal digits (0, 50; not 5e1, 0x32, -1 or 050), at least `min`. */
export function parseCount(option: string, { min = 0, example = 50 } = {}) {
  return (value: string): number => {
    if (!/^(?:0|[1-9][0-9]{0,14})$/.test(value) || Number(value) < min) {
      const least = min > 0 ? `, at least ${min},` : '';
      throw new Hop3Error('CLI_INVALID_OPTION', `${option} must be a whole number${least} of at most 15 digits, in plain digits (got ${JSON.stringify(value)}).`, { usage: true, hint: `Example: ${option} ${example}` });
    }
    return Number(value);
  };
}
