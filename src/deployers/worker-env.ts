import path from 'node:path';
import type { Artifact } from '../artifact/artifact-file.js';
import type { AppPaths } from '../state/hop3-home.js';
import { WEB_WORKER_NAMES } from '../config/procfile.js';

/** The web worker, if the artifact has one: `web` first, then the other web-facing names. */
export function webWorkerName(artifact: Artifact): string | undefined {
  return WEB_WORKER_NAMES.find((name) => artifact.runtime.workers[name] !== undefined);
}

/**
 * Hop3's worker environment: the host's, then the artifact's env_vars, then what hop3 sets itself.
 * HOME/TMPDIR point at the app's writable data dir: Nix store paths and build dirs are not for writing.
 */
export function workerEnv(
  artifact: Artifact,
  options: { base: NodeJS.ProcessEnv; paths: AppPaths; worker: string; port: number },
): NodeJS.ProcessEnv {
  const basePath = options.base.PATH ?? '/usr/local/bin:/usr/bin:/bin';
  return {
    ...options.base,
    ...artifact.runtime.env_vars,
    APP: artifact.app_name,
    PROC_TYPE: options.worker,
    BIND_ADDRESS: artifact.runtime.env_vars.BIND_ADDRESS ?? '127.0.0.1',
    HOP3_DATA_DIR: options.paths.data,
    HOME: options.paths.data,
    TMPDIR: path.join(options.paths.data, 'tmp'),
    PATH: [...artifact.runtime.path_prepend, basePath].join(':'),
    PORT: String(options.port),
  };
}
