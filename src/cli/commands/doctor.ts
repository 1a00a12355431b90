import { runDoctor } from '../../app/doctor.js';
import { printJson } from '../output.js';

export async function run(flags: { json?: boolean }): Promise<number> {
  const checks = await runDoctor(process.env);
  if (flags.json) {
    printJson(checks);
    return 0;
  }
  for (const check of checks) {
    process.stdout.write(`${check.warning ? 'WARN' : check.usable ? 'ok  ' : 'MISS'} ${check.name.padEnd(16)} ${check.detail}\n`);
    if ((check.warning || !check.usable) && check.hint) process.stdout.write(`     ${''.padEnd(16)} -> ${check.hint}\n`);
  }
  return 0;
}
