import type { Artifact } from '../artifact/artifact-file.js';
import { SET_BY_HOP3 } from '../config/app-settings.js';

export interface Origin {
  source: string;
  file?: string;
}

/** One line per runtime value with the layer it came from (hop3.toml > Procfile > toolchain > default): `inspect --explain`, `plan`. */
export function explainRuntime(runtime: Artifact['runtime'], provenance: Readonly<Record<string, Origin>>): string[] {
  const origin = (key: string) => {
    const o = provenance[key];
    return o ? `${o.source}${o.file && o.file !== o.source ? ` (${o.file})` : ''}` : 'unknown';
  };
  const lines: string[] = [];
  for (const field of ['workers', 'env_vars', 'static_paths'] as const) {
    for (const [key, value] of Object.entries(runtime[field])) lines.push(`${field}.${key} = ${value}  <- ${origin(`${field}.${key}`)}`);
  }
  for (const [name, job] of Object.entries(runtime.scheduled ?? {})) lines.push(`scheduled.${name} = ${job.schedule} ${job.command}  <- ${origin(`scheduled.${name}`)}`);
  lines.push(`release = ${JSON.stringify(runtime.release ?? [])}  <- ${origin('release')}`);
  lines.push(`before_run = ${JSON.stringify(runtime.before_run)}  <- ${origin('before_run')}`);
  lines.push(`path_prepend = ${JSON.stringify(runtime.path_prepend)}  <- ${origin('path_prepend')}`);
  lines.push(`${Object.keys(SET_BY_HOP3).join(', ')}  <- hop3 when it runs (PATH = path_prepend + the host's PATH; not settable in [env])`);
  lines.push(`working_dir = ${runtime.working_dir}  <- ${origin('working_dir')}`);
  lines.push(`healthcheck_path = ${JSON.stringify(runtime.healthcheck_path)}  <- ${origin('healthcheck_path')}`);
  lines.push(`healthcheck_timeout = ${runtime.healthcheck_timeout}  <- ${origin('healthcheck_timeout')}`);
  return lines;
}
