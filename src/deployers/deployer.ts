import type { Artifact } from '../artifact/artifact-file.js';
import type { DockerClient } from '../engines/docker-client.js';
import { Hop3Error } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { AppPaths } from '../state/hop3-home.js';
import type { RunState, WorkerRecord } from '../state/releases.js';

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
  /** The release being started (labels, log lines). */
  release: number;
  /** Where the web worker listens (targets that publish on this host: 127.0.0.1:port). */
  port: number;
  /** The app's generated `[env]` values (state/generated-env.ts), for the workers' environment only. */
  generatedEnv?: Readonly<Record<string, string>>;
  /** Tasks per worker, for an orchestrated target (--replicas); absent: `[run] replicas`, else 1. */
  replicas?: number;
  /**
   * Persist a worker record as soon as it exists — before its process or container starts (with what
   * will identify it) and again once started — so a hop3 killed mid-deploy leaves a true record.
   */
  record(worker: WorkerRecord): Promise<void>;
}

/** What the release phase gets: where the release will run, and where its output goes (`log.output`). */
export interface ReleasePhaseOptions extends DeployerContext {
  paths: AppPaths;
  release: number;
  port: number;
  /** The app's generated `[env]` values, as for its workers. */
  generatedEnv?: Readonly<Record<string, string>>;
}

/** What a successful start gives the release record. */
export interface Started {
  url: string | null;
  workers: WorkerRecord[];
}

export interface WorkerStatus extends WorkerRecord {
  running: boolean;
  /** Why it is not running as it should (an untrusted record, a crash loop), when it is not. */
  problem?: string;
  /** Restarts after crashes, where the target restarts workers. */
  restarts?: number;
  /** The target's own word for it: running, restarting, failed, finished... */
  state?: string;
  /** An orchestrated target's task: its id, replica slot and the node it runs on. */
  task?: { id: string; slot: number | null; node: string };
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
  /**
   * Workers are services of an orchestrator (Swarm): a deploy updates them in place (the engine rolls
   * tasks over, and rolls a failed update back itself), each runs `replicas` tasks, and the engine
   * publishes the web port (no router). Then `stop` of a release leaves a service a later release took over.
   */
  readonly orchestrated?: boolean;
  /**
   * Refuse an artifact this deployer cannot start here (its directory or image is missing, the engine is
   * unreachable). Called before the running release is stopped, so a refusal leaves it serving. Reads only;
   * a deployer for which nothing can be missing leaves it out.
   */
  check?(artifact: Artifact, ctx: DeployerContext): Promise<void>;
  /**
   * Heroku's release phase: run the artifact's `runtime.release` commands to completion, in order, in
   * the release's environment, each line to `log.output`. Called once per new release (deploy, run,
   * rollback; not when hop3 restarts a release after a failed deploy), before any of its workers start
   * and while the running release still serves. A failure throws; nothing of it is left running.
   */
  releasePhase?(artifact: Artifact, options: ReleasePhaseOptions): Promise<void>;
  /** Start the artifact's workers and scheduled jobs; on failure, what was started is stopped before the error is thrown. */
  deploy(artifact: Artifact, options: DeployOptions): Promise<Started>;
  /** Stop every worker of that run; workers already gone are fine. */
  stop(state: RunState, ctx: DeployerContext): Promise<void>;
  status(state: RunState, ctx: DeployerContext): Promise<WorkerStatus[]>;
  /** Write the last lines of each worker's log; with `follow`, keep writing until the signal aborts. */
  logs(state: RunState, options: LogOptions): Promise<void>;
  /** Remove what only this artifact needed on the engine (an image), when its last kept release is pruned. */
  discard?(artifact: Artifact, ctx: DeployerContext): Promise<void>;
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
