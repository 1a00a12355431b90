import { planSummary } from '../../../builders/plan-build.js';
import { planApp, type AppPlan } from '../../app/plan-app.js';
import { checkLines } from '../check-lines.js';
import { explainRuntime } from '../explain-runtime.js';
import { printable, printJson } from '../output.js';

export interface PlanFlags {
  name?: string;
  builder?: string;
  baseImage?: string;
  json?: boolean;
}

export async function run(dir: string, flags: PlanFlags): Promise<number> {
  const plan = await planApp({
    sourceDir: dir,
    ...(flags.name !== undefined ? { name: flags.name } : {}),
    ...(flags.builder ? { builder: flags.builder } : {}),
    ...(flags.baseImage ? { baseImage: flags.baseImage } : {}),
    env: process.env,
  });
  if (flags.json) printJson(plan);
  else process.stdout.write(printable(text(plan)));
  return 0;
}

/** The plan as text: the build's opening summary, then the manifest as `inspect --explain` shows it, config, warnings, host. */
function text(plan: AppPlan): string {
  const indent = (lines: readonly string[]) => lines.map((line) => `  ${line}`);
  const files = [plan.files.procfile, plan.files.hop3_toml, plan.files.staticfile].filter((file) => file !== null);
  const lines = [
    `plan for ${plan.app} (${plan.source_dir}): nothing is built or fetched`,
    `files      ${files.join(', ') || 'no Procfile or hop3.toml'}`,
    ...planSummary({ toolchain: plan.toolchain, builder: { name: plan.builder.name, chosenBy: plan.builder.chosen_by }, steps: plan.steps }),
    ...(plan.toolchain.detail ? [plan.toolchain.detail] : []),
    '',
    'runtime (value <- source):',
    ...indent(explainRuntime(plan.runtime, plan.provenance)),
  ];
  if (plan.procfile.length > 0) {
    lines.push('', `${plan.files.procfile}:`, ...indent(plan.procfile.map((entry) => `${`${entry.line}`.padStart(3)} ${entry.name}: ${entry.command}  -> ${entry.note}`)));
  }
  if (plan.hop3_toml.length > 0) {
    lines.push('', `${plan.files.hop3_toml}:`, ...indent(plan.hop3_toml.map((key) => `${key.status.padEnd(9)} ${key.key}${key.hop3 ? `  (Hop3 ${key.hop3})` : ''}`)));
  }
  if (plan.warnings.length > 0) lines.push('', 'warnings:', ...indent(plan.warnings));
  lines.push('', `host (${plan.missing.length > 0 ? `missing: ${plan.missing.join(', ')}` : 'nothing missing'}):`, ...indent(plan.host.flatMap(checkLines)));
  return `${lines.join('\n')}\n`;
}
