import { diffArtifacts, fieldName, resolveDiffOperand, type FieldDifference } from '../../app/diff-artifacts.js';
import { isHop3Error } from '../../errors.js';
import { printJson } from '../output.js';

/** Like diff(1): 0 when the artifacts are identical, 1 when they differ, 2 when one cannot be read. */
export async function run(a: string, b: string, flags: { json?: boolean }): Promise<number> {
  const [left, right] = await Promise.all([a, b].map((spec) => resolveDiffOperand(spec, process.env))).catch((error: unknown) => {
    throw isHop3Error(error) ? error.with({ usage: true }) : error; // exit 2: 1 means "they differ"
  });
  const differences = diffArtifacts(left!.artifact, right!.artifact);
  if (flags.json) {
    printJson({ a: left!.label, b: right!.label, identical: differences.length === 0, differences: differences.map((d) => ({ field: fieldName(d.path), ...d })) });
  } else if (differences.length === 0) {
    process.stdout.write(`${left!.label} and ${right!.label} are identical\n`);
  } else {
    process.stdout.write(`--- ${left!.label}\n+++ ${right!.label}\n${differences.map(line).join('')}`);
  }
  return differences.length === 0 ? 0 : 1;
}

function line(d: FieldDifference): string {
  const show = (value: unknown) => (value === undefined ? '(absent)' : JSON.stringify(value));
  return `${fieldName(d.path)}:\n  - ${show(d.a)}\n  + ${show(d.b)}\n`;
}
