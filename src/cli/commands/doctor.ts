import { runDoctor } from '../../app/doctor.js';
import { checkLines } from '../check-lines.js';
import { printJson } from '../output.js';

export async function run(flags: { json?: boolean }): Promise<number> {
  const checks = await runDoctor(process.env);
  if (flags.json) {
    printJson(checks);
    return 0;
  }
  for (const check of checks) process.stdout.write(`${checkLines(check).join('\n')}\n`);
  return 0;
}
