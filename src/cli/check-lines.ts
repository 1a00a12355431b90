import type { Check } from '../app/doctor.js';

/** A host check as `hop3 doctor` prints it: status, name, detail, and on a problem what to do. */
export function checkLines(check: Check): string[] {
  const lines = [`${check.warning ? 'WARN' : check.usable ? 'ok  ' : 'MISS'} ${check.name.padEnd(16)} ${check.detail}`];
  if ((check.warning || !check.usable) && check.hint) lines.push(`     ${''.padEnd(16)} -> ${check.hint}`);
  return lines;
}
