import path from 'node:path';
import type { Artifact } from '../artifact/artifact-file.js';
import { envProblems } from '../artifact/env-rules.js';
import { resolveEnv } from '../config/env-references.js';
import { Hop3Error } from '../errors.js';
import type { AppPaths } from '../state/hop3-home.js';
import { WEB_WORKER_NAMES } from '../config/procfile.js';

/** The web worker, if the artifact has one: `web` first, then the other web-facing names. */
export function webWorkerName(artifact: Artifact): string | undefined {
  return WEB_WORKER_NAMES.find((name) => artifact.runtime.workers[name] !== undefined);
}

/**
 * Every target's rule for the app's own variables: the artifact's env_vars (`defaults` under them), then the
 * generated values, with `$NAME`/`${NAME}` references expanded against those and hop3's variables (PORT...,
 * which win for their names); a reference to anything else is left as written. The host's environment is
 * not looked at: an app runs the same in a process and in a container.
 */
export function appVariables(artifact: Artifact, hop3: Readonly<Record<string, string>>, options: { generated?: Readonly<Record<string, string>> | undefined; defaults?: Readonly<Record<string, string>> }): Record<string, string> {
  const resolved = resolveEnv({ ...options.defaults, ...artifact.runtime.env_vars, ...options.generated }, hop3);
  // Each value was checked in the artifact; expanding `$A$A` can still make one no process can be started with.
  const [problem] = envProblems(resolved);
  if (problem) {
    throw new Hop3Error('DEPLOY_ENV_INVALID', `${artifact.app_name}: with its $references expanded, ${problem.name ? `${problem.name}: ` : ''}${problem.problem}.`, {
      hint: 'Shorten the [env] values that refer to other variables (or keep large data in a file the app reads).',
    });
  }
  return { ...resolved, ...hop3 };
}

/**
 * Hop3's worker environment: the host's, then the app's variables (appVariables), then what hop3 sets itself.
 * HOME/TMPDIR point at the app's writable data dir: Nix store paths and build dirs are not for writing.
 */
export function workerEnv(
  artifact: Artifact,
  options: { base: NodeJS.ProcessEnv; paths: AppPaths; worker: string; port: number; generated?: Readonly<Record<string, string>> | undefined },
): NodeJS.ProcessEnv {
  const basePath = options.base.PATH ?? '/usr/local/bin:/usr/bin:/bin';
  const hop3 = {
    APP: artifact.app_name,
    PROC_TYPE: options.worker,
    HOP3_DATA_DIR: options.paths.data,
    HOME: options.paths.data,
    TMPDIR: path.join(options.paths.data, 'tmp'),
    PATH: [...artifact.runtime.path_prepend, basePath].join(':'),
    PORT: String(options.port),
  };
  return { ...options.base, ...appVariables(artifact, hop3, { generated: options.generated, defaults: { BIND_ADDRESS: '127.0.0.1' } }) };
}
