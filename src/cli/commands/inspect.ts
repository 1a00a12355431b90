import { stat } from 'node:fs/promises';
import path from 'node:path';
import { loadArtifact, type Artifact } from '../../artifact/artifact-file.js';
import { SET_BY_HOP3 } from '../../config/app-settings.js';
import { appPaths } from '../../state/hop3-home.js';
import { printJson } from '../output.js';

interface Origin {
  source: string;
  file?: string;
}

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
    '',
  ].join('\n');
}

/** One line per runtime value with the layer it came from: hop3.toml > Procfile > toolchain > default. */
function explain(a: Artifact, provenance: Record<string, Origin>): string {
  const origin = (key: string) => {
    const o = provenance[key];
    return o ? `${o.source}${o.file && o.file !== o.source ? ` (${o.file})` : ''}` : 'unknown';
  };
  const lines = [`${a.app_name} build ${a.build_id} (${a.kind}, ${a.builder}) — value <- source`];
  for (const field of ['workers', 'env_vars', 'static_paths'] as const) {
    for (const [key, value] of Object.entries(a.runtime[field])) lines.push(`${field}.${key} = ${value}  <- ${origin(`${field}.${key}`)}`);
  }
  lines.push(`before_run = ${JSON.stringify(a.runtime.before_run)}  <- ${origin('before_run')}`);
  lines.push(`path_prepend = ${JSON.stringify(a.runtime.path_prepend)}  <- ${origin('path_prepend')}`);
  lines.push(`${Object.keys(SET_BY_HOP3).join(', ')}  <- hop3 when it runs (PATH = path_prepend + the host's PATH; not settable in [env])`);
  lines.push(`working_dir = ${a.runtime.working_dir}  <- ${origin('working_dir')}`);
  lines.push(`healthcheck_path = ${JSON.stringify(a.runtime.healthcheck_path)}  <- ${origin('healthcheck_path')}`);
  lines.push(`healthcheck_timeout = ${a.runtime.healthcheck_timeout}  <- ${origin('healthcheck_timeout')}`);
  if (typeof a.metadata.toolchain_reason === 'string') lines.push(`toolchain ${a.kind}: ${a.metadata.toolchain_reason}`);
  return `${lines.join('\n')}\n`;
}
