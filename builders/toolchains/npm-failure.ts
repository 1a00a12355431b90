import { Hop3Error, isHop3Error } from '../../src/errors.js';

/** The lines npm prefixes its error report with: `npm error` (npm 9+) or `npm ERR!` (npm 6-8). */
const ERROR_PREFIX = /^(?:npm error|npm ERR!)(?: |$)/;

/**
 * npm's own reason for a failure, from its output: the `npm error` lines without the error code, the log
 * file's path, and (for EUSAGE, e.g. `npm ci` with a lockfile out of sync) the usage text npm appends.
 * Undefined when npm printed no error report.
 */
export function npmFailureReason(output: string): string | undefined {
  const lines = output
    .split('\n')
    .map((line) => line.replace(/^\s+/, ''))
    .filter((line) => ERROR_PREFIX.test(line))
    .map((line) => line.replace(ERROR_PREFIX, '').trimEnd());
  // The usage text starts with a one-line description of the command, then "Usage:".
  const usage = lines.indexOf('Usage:');
  const kept = usage >= 0 ? lines.slice(0, Math.max(0, usage - 2)) : lines;
  const reason = kept.filter((line) => !/^code E[A-Z0-9_]+$/.test(line) && !/^A complete log of this run can be found in/.test(line) && !/^Run "npm help /.test(line));
  // A registry error starts each line with the HTTP status ("404 Not Found - GET …", "404  'x@*' is not in this registry."): said once.
  let status: string | undefined;
  for (const [i, line] of reason.entries()) {
    const match = /^(\d{3})(?:\s+|$)/.exec(line);
    if (!match) continue;
    if (status === match[1]) reason[i] = line.slice(match[0].length);
    status = match[1];
  }
  // Paragraphs (blank npm error lines) become one line each; repeats of the same line collapse.
  const paragraphs: string[] = [];
  let current: string[] = [];
  for (const line of [...reason, '']) {
    if (line.trim() === '') {
      if (current.length > 0) paragraphs.push(current.join(' '));
      current = [];
    } else if (current.at(-1) !== line.trim()) current.push(line.trim());
  }
  const text = paragraphs.join('\n');
  return text === '' ? undefined : text;
}

/** An npm step's failure with npm's own reason (from its whole output) in the message and as the output shown, not its usage text. */
export function withNpmReason(error: unknown, output: string): unknown {
  if (!isHop3Error(error, 'BUILD_NPM_FAILED')) return error;
  const reason = npmFailureReason(output);
  if (!reason) return error;
  const outOfSync = /in sync|Missing: .+ from lock file|Invalid: lock file/.test(reason);
  const [first, ...rest] = reason.split('\n');
  return new Hop3Error(error.code, `\`${error.command}\` failed: ${first}`, {
    ...error.options,
    // The rest of npm's reason ("Missing: x from lock file") where its usage text would have been.
    outputTail: rest.length > 0 ? rest.join('\n') : undefined,
    ...(outOfSync ? { hint: 'package.json and package-lock.json disagree: run `npm install` in the app to update package-lock.json, and commit it.' } : {}),
  });
}
