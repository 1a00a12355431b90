import { stat } from 'node:fs/promises';
import path from 'node:path';
import { loadArtifact, type Artifact } from '../../artifact/artifact-file.js';
import { appPaths } from '../../state/hop3-home.js';
import { explainRuntime, type Origin } from '../explain-runtime.js';
import { printJson } from '../output.js';

export async function run(target: string, flags: { json?: boolean; explain?: boolean }): Promise<number> {
  const isFile = (await stat(target).catch(() => undefined))?.isFile() ?? false;
  const artifact = await loadArtifact(isFile ? path.resolve(target) : appPaths(target).latestArtifact);
  const provenance = (artifact.metadata.provenance ?? {}) as Record<string, Origin>;
  if (flags.json) {
    printJson(flags.explain ? { artifact, provenance } : artifact);
    return 0;
  }
  process.stdout.write(flags.explain ? explain(artifact, provenance) : summary(artifact));
  return 0;
}

function summary(a: Artifact): string {
  const workers = Object.entries(a.runtime.workers).map(([name, cmd]) => `  ${name}: ${cmd}`);
  const jobs = Object.entries(a.runtime.scheduled ?? {}).map(([name, job]) => `  ${name}: ${job.schedule}  ${job.command}`);
  const release = a.runtime.release ?? [];
  return [
    `${a.app_name} build ${a.build_id}`,
    `kind:      ${a.kind}`,
    `builder:   ${a.builder}`,
    `location:  ${a.location}`,
    `built at:  ${a.built_at}`,
    `workdir:   ${a.runtime.working_dir}`,
    `health:    ${a.runtime.healthcheck_path || '(port only)'} within ${a.runtime.healthcheck_timeout} s`,
    'workers:',
    ...workers,
    ...(jobs.length > 0 ? ['scheduled jobs:', ...jobs] : []),
    ...(release.length > 0 ? ['release phase:', ...release.map((command) => `  ${command}`)] : []),
    '',
  ].join('\n');
}

/** One line per runtime value with the layer it came from: hop3.toml > Procfile > toolchain > default. */
function explain(a: Artifact, provenance: Record<string, Origin>): string {
  const lines = [`${a.app_name} build ${a.build_id} (${a.kind}, ${a.builder}) — value <- source`, ...explainRuntime(a.runtime, provenance)];
  if (typeof a.metadata.toolchain_reason === 'string') lines.push(`toolchain ${a.kind}: ${a.metadata.toolchain_reason}`);
  return `${lines.join('\n')}\n`;
}
