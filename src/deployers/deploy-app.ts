import { existsSync } from 'node:fs';
import type { Artifact } from '../artifact/artifact-file.js';
import { Hop3Error, isHop3Error } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { withAppLock } from '../state/app-lock.js';
import { appPaths, type AppPaths } from '../state/hop3-home.js';
import { clearRunState, readRunState, writeRunState, type RunState } from '../state/run-state.js';
import type { DeployerContext, LogOptions, WorkerStatus } from './deployer.js';
import { choosePort, portInUse } from './port.js';
import { deployerLoader, targetFor, type DeployerLoader } from './registry.js';

export interface RunRequest {
  artifact: Artifact;
  /** Name to run it under; defaults to the artifact's app_name. */
  app?: string;
  port?: number;
  /** --target; else `[deploy] target` recorded in the artifact; else the default for its location. */
  target?: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  signal?: AbortSignal;
  /** The deployer registry; tests inject one to give faults no real engine gives on demand. */
  deployers?: DeployerLoader;
}

/**
 * The run half of the pipeline: pick the deployer from the artifact alone, replace what runs,
 * and if the new release fails, bring the previous one back before reporting the error.
 */
export async function runArtifact(request: RunRequest): Promise<RunState> {
  const paths = appPaths(request.app ?? request.artifact.app_name, request.env);
  const { log } = request;
  return withAppLock(paths, async () => {
    request.signal?.throwIfAborted(); // cancelled while building or waiting for the lock: leave what runs alone
    if (Object.keys(request.artifact.runtime.workers).length === 0) {
      throw new Hop3Error('DEPLOY_NO_WORKERS', `${request.artifact.app_name} build ${request.artifact.build_id} defines no worker to run.`, {
        hint: 'Add a Procfile line (`web: <command>`) or `[run] start = "<command>"` in hop3.toml, then rebuild.',
      });
    }
    const load = request.deployers ?? deployerLoader();
    const deployer = await load(targetFor(request.artifact, request.target));
    const previous = await readRunState(paths);
    if (previous) {
      log.step(`stopping the running release (build ${previous.artifact.build_id})`);
      await (await load(previous.deployer)).stop(previous, request);
      await clearRunState(paths);
    }
    const port = await choosePort(paths, request.port);
    try {
      if (deployer.publishes === 'host' && (await portInUse(port))) {
        throw new Hop3Error('DEPLOY_PORT_IN_USE', `Port ${port} on 127.0.0.1 is already in use by another program.`, {
          hint: 'Pick another port with --port N.',
        });
      }
      log.step(`starting ${paths.app} build ${request.artifact.build_id} with the ${deployer.name} deployer on port ${port}`);
      const state = await deployer.deploy(request.artifact, { paths, port, env: request.env, log, ...(request.signal ? { signal: request.signal } : {}) });
      await writeRunState(paths, state);
      return state;
    } catch (error) {
      throw previous ? await restore(previous, paths, request, error) : error;
    }
  });
}

/** Best effort: the error that made us restore is the one the user must see, saying whether the old release is back. */
async function restore(previous: RunState, paths: AppPaths, request: RunRequest, error: unknown): Promise<unknown> {
  request.log.warn(`new release failed; restarting the previous one (build ${previous.artifact.build_id})`);
  try {
    const deployer = await (request.deployers ?? deployerLoader())(previous.deployer);
    const state = await deployer.deploy(previous.artifact, { paths, port: previous.port, env: request.env, log: request.log });
    await writeRunState(paths, state);
    return isHop3Error(error) ? error.with({ restoredBuild: previous.artifact.build_id }) : error;
  } catch (restoreError) {
    request.log.warn(`could not restart the previous release: ${(restoreError as Error).message}`);
    return error;
  }
}

export async function stopApp(app: string, ctx: DeployerContext, load: DeployerLoader = deployerLoader()): Promise<RunState | undefined> {
  const paths = appPaths(app, ctx.env);
  if (!existsSync(paths.root)) return undefined; // unknown app: nothing runs, and nothing is created for it
  return withAppLock(paths, async () => {
    const state = await readRunState(paths);
    if (!state) return undefined;
    try {
      await (await load(state.deployer)).stop(state, ctx);
    } catch (error) {
      // Records hop3 refused to signal are not its workers: forget them, and still say so.
      if (isHop3Error(error, 'DEPLOY_WORKER_UNTRUSTED')) await clearRunState(paths);
      throw error;
    }
    await clearRunState(paths);
    return state;
  });
}

export interface AppStatus {
  app: string;
  running: boolean;
  deployer: string | null;
  build_id: string | null;
  builder: string | null;
  url: string | null;
  port: number | null;
  started_at: string | null;
  workers: WorkerStatus[];
}

export async function appStatus(app: string, ctx: DeployerContext, load: DeployerLoader = deployerLoader()): Promise<AppStatus> {
  const state = await readRunState(appPaths(app, ctx.env));
  if (!state) return { app, running: false, deployer: null, build_id: null, builder: null, url: null, port: null, started_at: null, workers: [] };
  const workers = await (await load(state.deployer)).status(state, ctx);
  return {
    app,
    running: workers.length > 0 && workers.every((w) => w.running),
    deployer: state.deployer,
    build_id: state.artifact.build_id,
    builder: state.artifact.builder,
    url: state.url,
    port: state.port,
    started_at: state.started_at,
    workers,
  };
}

/** The app's worker logs through the deployer that runs it (files for processes, the engine for containers). */
export async function appLogs(app: string, options: LogOptions, load: DeployerLoader = deployerLoader()): Promise<void> {
  const paths = appPaths(app, options.env);
  const state = await readRunState(paths);
  if (!state) {
    throw new Hop3Error('DEPLOY_NOT_RUNNING', `App ${app} is not running, so hop3 has no worker list for it.`, {
      hint: `Log files stay in ${paths.logs}; start the app with \`hop3 run ${app}\`.`,
    });
  }
  await (await load(state.deployer)).logs(state, options);
}
