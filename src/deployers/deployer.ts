import type { Artifact } from '../artifact/artifact-file.js';
import type { DockerClient } from '../engines/docker-client.js';
import { Hop3Error } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { AppPaths } from '../state/hop3-home.js';
import type { RunState, WorkerRecord } from '../state/run-state.js';

/** What the registry hands to the deployer it constructs: engine clients a test may replace. */
export interface DeployerEngines {
  docker?: DockerClient;
}

/** What every deployer call gets: the user's environment (DOCKER_HOST...) and where to report. */
export interface DeployerContext {
  env: NodeJS.ProcessEnv;
  log: Logger;
  signal?: AbortSignal;
}

export interface DeployOptions extends DeployerContext {
  paths: AppPaths;
  /** The app's public port (for targets that publish on this host: 127.0.0.1:port). */
  port: number;
}

export interface WorkerStatus extends WorkerRecord {
  running: boolean;
  /** Why the record was not trusted, when it was not. */
  problem?: string;
}

export interface LogOptions extends DeployerContext {
  worker?: string;
  lines: number;
  follow: boolean;
  write(chunk: string): void;
}

/** Runs artifacts of the location kinds its registry entry lists; never looks at the source dir or detects a language. */
export interface Deployer {
  /** The target name: process, container... */
  readonly name: string;
  /** `host`: workers listen on 127.0.0.1:<port> of this machine, so hop3 checks that port first. */
  readonly publishes: 'host';
  /** Start the artifact's workers; on failure, what was started is stopped before the error is thrown. */
  deploy(artifact: Artifact, options: DeployOptions): Promise<RunState>;
  /** Stop every worker of that run; workers already gone are fine. */
  stop(state: RunState, ctx: DeployerContext): Promise<void>;
  status(state: RunState, ctx: DeployerContext): Promise<WorkerStatus[]>;
  /** Write the last lines of each worker's log; with `follow`, keep writing until the signal aborts. */
  logs(state: RunState, options: LogOptions): Promise<void>;
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
    throw new Hop3Error('DEPLOY_UNKNOWN_WORKER', `App ${state.app} has no worker ${worker}.`, {
      usage: true,
      hint: `Workers: ${state.workers.map((w) => w.name).join(', ')}.`,
    });
  }
  return selected;
}
