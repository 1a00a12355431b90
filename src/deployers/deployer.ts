import type { Artifact } from '../artifact/artifact-file.js';
import { Hop3Error } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { AppPaths } from '../state/hop3-home.js';

export interface DeployOptions {
  paths: AppPaths;
  /** Host port for the web worker (127.0.0.1). */
  port: number;
  env: NodeJS.ProcessEnv;
  log: Logger;
  signal?: AbortSignal;
}

/** One started worker: a process group or a container. Same shape for every deployer (`status --json`). */
export interface WorkerRecord {
  name: string;
  /** Process id (process deployer) or container id (container deployer). */
  id: string;
  /** Linux start time of the pid, so a reused pid is never signalled by mistake. */
  startTicks?: number;
  /** Random value in the worker's environment, so a record cannot be pointed at another process. */
  marker?: string;
  log?: string;
}

/** What is running for an app, written atomically to `run/state.json`. */
export interface RunState {
  app: string;
  deployer: string;
  artifact: Artifact;
  port: number;
  url: string | null;
  started_at: string;
  workers: WorkerRecord[];
}

export interface WorkerStatus extends WorkerRecord {
  running: boolean;
  /** Why the record was not trusted, when it was not. */
  problem?: string;
}

export interface LogOptions {
  worker?: string;
  lines: number;
  follow: boolean;
  write(chunk: string): void;
  signal?: AbortSignal;
}

/** Runs artifacts. Picked by `accept(artifact)` alone; never looks at the source dir or detects a language. */
export interface Deployer {
  readonly name: string;
  accept(artifact: Artifact): boolean;
  /** Start the artifact's workers; on failure, what was started is stopped before the error is thrown. */
  deploy(artifact: Artifact, options: DeployOptions): Promise<RunState>;
  /** Stop every worker of that run; workers already gone are fine. */
  stop(state: RunState, log: Logger): Promise<void>;
  status(state: RunState): Promise<WorkerStatus[]>;
  /** Write the last lines of each worker's log; with `follow`, keep writing until the signal aborts. */
  logs(state: RunState, paths: AppPaths, options: LogOptions): Promise<void>;
}

/** The record of a successful start, the same for every deployer. */
export function runState(started: { deployer: string; artifact: Artifact; options: DeployOptions; url: string | null; workers: WorkerRecord[] }): RunState {
  return {
    app: started.options.paths.app,
    deployer: started.deployer,
    artifact: started.artifact,
    port: started.options.port,
    url: started.url,
    started_at: new Date().toISOString(),
    workers: started.workers,
  };
}

/** The workers `logs --worker` asks for (all by default); an unknown name is an error listing the real ones. */
export function selectWorkers(state: RunState, worker?: string): WorkerRecord[] {
  const selected = worker === undefined ? state.workers : state.workers.filter((w) => w.name === worker);
  if (selected.length === 0) {
    throw new Hop3Error('CLI_UNKNOWN_WORKER', `App ${state.app} has no worker ${worker}.`, {
      hint: `Workers: ${state.workers.map((w) => w.name).join(', ')}.`,
    });
  }
  return selected;
}
