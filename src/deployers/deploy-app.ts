import { existsSync } from 'node:fs';
import type { Artifact } from '../artifact/artifact-file.js';
import { Hop3Error, isHop3Error } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { withAppLock } from '../state/app-lock.js';
import { appPaths, type AppPaths } from '../state/hop3-home.js';
import { activeReleases, listReleases, nextReleaseNumber, writeRelease, type Release, type WorkerRecord } from '../state/releases.js';
import type { Deployer, DeployerContext, LogOptions, WorkerStatus } from './deployer.js';
import { claimPort } from './port.js';
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
 * The run half of the pipeline, as one numbered release: recorded as starting (with each worker as it
 * is spawned) before anything is checked, live only once healthy. The port is claimed before the
 * running release is touched; if the new release fails, it is marked failed and the previous one
 * is brought back before the error is reported.
 */
export async function runArtifact(request: RunRequest): Promise<Release> {
  const paths = appPaths(request.app ?? request.artifact.app_name, request.env);
  const { log } = request;
  const load = request.deployers ?? deployerLoader();
  return withAppLock(paths, async () => {
    request.signal?.throwIfAborted(); // cancelled while building or waiting for the lock: leave what runs alone
    if (Object.keys(request.artifact.runtime.workers).length === 0) {
      throw new Hop3Error('DEPLOY_NO_WORKERS', `${request.artifact.app_name} build ${request.artifact.build_id} defines no worker to run.`, {
        hint: 'Add a Procfile line (`web: <command>`) or `[run] start = "<command>"` in hop3.toml, then rebuild.',
      });
    }
    const deployer = await load(targetFor(request.artifact, request.target));
    const active = await activeReleases(paths);
    const claim = deployer.publishes === 'host' ? await claimPort(paths, request.env, { ...(request.port ? { requested: request.port } : {}), heldByApp: active.map((r) => r.port) }) : undefined;
    const port = claim?.port ?? request.port ?? 0;

    const now = new Date().toISOString();
    const release: Release = { app: paths.app, release: await nextReleaseNumber(paths), status: 'starting', deployer: deployer.name, artifact: request.artifact, port, url: null, created_at: now, started_at: now, workers: [] };
    await writeRelease(paths, release);

    const previous = active.findLast((r) => r.status === 'live');
    for (const old of active) {
      log.step(old.status === 'live' ? `stopping the running release ${old.release} (build ${old.artifact.build_id})` : `stopping release ${old.release}, left starting by an interrupted deploy`);
      await stopRelease(old, load, request, old.status === 'live' ? `replaced by release ${release.release}` : 'interrupted while starting');
    }
    try {
      log.step(`starting ${paths.app} release ${release.release} (build ${request.artifact.build_id}) with the ${deployer.name} deployer${port ? ` on port ${port}` : ''}`);
      return await startRelease(release, deployer, paths, request);
    } catch (error) {
      await claim?.release();
      throw previous ? await restore(previous, paths, request, load, error) : error;
    }
  });
}

/** Start a recorded release's workers; on failure it is marked failed (its workers already stopped by the deployer). */
async function startRelease(release: Release, deployer: Deployer, paths: AppPaths, request: RunRequest): Promise<Release> {
  const record = recorder(release, paths);
  let started;
  try {
    started = await deployer.deploy(release.artifact, { paths, release: release.release, port: release.port, env: request.env, log: request.log, ...(request.signal ? { signal: request.signal } : {}), record: record.worker });
  } catch (error) {
    await record.end('failed', error instanceof Error ? error.message : String(error)).catch(() => {});
    throw error;
  }
  try {
    return await record.live(started.url, started.workers);
  } catch (error) {
    // Running but not recorded as live would be a lie: stop what started, then report the write failure.
    await deployer.stop({ ...release, workers: started.workers }, request).catch(() => {});
    await record.end('failed', 'its release record could not be written').catch(() => {});
    throw error;
  }
}

/** Persists one release's record as it changes: each worker as it starts, then live or failed. */
function recorder(release: Release, paths: AppPaths) {
  let current = release;
  let writes = Promise.resolve();
  const save = (next: Release) => {
    current = next;
    writes = writes.then(() => writeRelease(paths, next));
    return writes;
  };
  return {
    worker: (worker: WorkerRecord) => save({ ...current, workers: [...current.workers.filter((w) => w.name !== worker.name), worker] }),
    live: async (url: string | null, workers: WorkerRecord[]) => {
      await save({ ...current, status: 'live', url, workers, started_at: new Date().toISOString() });
      return current;
    },
    end: (status: 'failed' | 'retired', reason: string) => save({ ...current, status, reason, ended_at: new Date().toISOString() }),
  };
}

/** Stop a release's workers and mark it retired (or failed); refused records are reported after it is marked. */
async function stopRelease(release: Release, load: DeployerLoader, ctx: DeployerContext, reason: string, status: 'retired' | 'failed' = 'retired'): Promise<void> {
  let refusal: unknown;
  try {
    await (await load(release.deployer)).stop(release, ctx);
  } catch (error) {
    // Records hop3 refused to signal are not its workers: forget them, and still say so.
    if (!isHop3Error(error, 'DEPLOY_WORKER_UNTRUSTED')) throw error;
    refusal = error;
  }
  await writeRelease(appPaths(release.app, ctx.env), { ...release, status, reason, ended_at: new Date().toISOString() });
  if (refusal) throw refusal;
}

/** Best effort: the error that made us restore is the one the user must see, saying whether the old release is back. */
async function restore(previous: Release, paths: AppPaths, request: RunRequest, load: DeployerLoader, error: unknown): Promise<unknown> {
  request.log.warn(`new release failed; restarting release ${previous.release} (build ${previous.artifact.build_id})`);
  try {
    const deployer = await load(previous.deployer);
    const again: Release = { ...previous, status: 'starting', workers: [], url: null, started_at: new Date().toISOString() };
    delete again.reason;
    delete again.ended_at;
    await writeRelease(paths, again);
    const { signal: _cancelled, ...unsignalled } = request; // restoring must finish even after Ctrl-C
    await startRelease(again, deployer, paths, unsignalled);
    return isHop3Error(error) ? error.with({ restoredBuild: previous.artifact.build_id }) : error;
  } catch (restoreError) {
    request.log.warn(`could not restart the previous release: ${(restoreError as Error).message}`);
    return error;
  }
}

/** Stop every release of the app that may run (live, or left starting by a crash). */
export async function stopApp(app: string, ctx: DeployerContext, load: DeployerLoader = deployerLoader()): Promise<Release | undefined> {
  const paths = appPaths(app, ctx.env);
  if (!existsSync(paths.root)) return undefined; // unknown app: nothing runs, and nothing is created for it
  return withAppLock(paths, async () => {
    const active = await activeReleases(paths);
    for (const release of active) await stopRelease(release, load, ctx, 'stopped by hop3 stop');
    return active.findLast((r) => r.status === 'live') ?? active.at(-1);
  });
}

export interface AppStatus {
  app: string;
  running: boolean;
  release: number | null;
  /** live, or starting: a deploy in progress, or one a crash interrupted. */
  status: 'live' | 'starting' | null;
  deployer: string | null;
  build_id: string | null;
  builder: string | null;
  url: string | null;
  port: number | null;
  started_at: string | null;
  workers: WorkerStatus[];
}

/** What runs for the app, as the deployers see it now (not as the records last said). */
export async function appStatus(app: string, ctx: DeployerContext, load: DeployerLoader = deployerLoader()): Promise<AppStatus> {
  const active = await activeReleases(appPaths(app, ctx.env));
  const shown = active.findLast((r) => r.status === 'live') ?? active.at(-1);
  if (!shown) return { app, running: false, release: null, status: null, deployer: null, build_id: null, builder: null, url: null, port: null, started_at: null, workers: [] };
  const workers = (await Promise.all(active.map(async (r) => (await load(r.deployer)).status(r, ctx)))).flat();
  return {
    app,
    running: shown.status === 'live' && workers.length > 0 && workers.every((w) => w.running),
    release: shown.release,
    status: shown.status as 'live' | 'starting',
    deployer: shown.deployer,
    build_id: shown.artifact.build_id,
    builder: shown.artifact.builder,
    url: shown.url,
    port: shown.port,
    started_at: shown.started_at,
    workers,
  };
}

/** Every release of the app, oldest first, for `hop3 releases`. */
export async function appReleases(app: string, env: NodeJS.ProcessEnv): Promise<Release[]> {
  return listReleases(appPaths(app, env));
}

/** The app's worker logs through the deployer that runs it (files for processes, the engine for containers). */
export async function appLogs(app: string, options: LogOptions, load: DeployerLoader = deployerLoader()): Promise<void> {
  const paths = appPaths(app, options.env);
  const active = await activeReleases(paths);
  const release = active.findLast((r) => r.status === 'live') ?? active.at(-1);
  if (!release) {
    throw new Hop3Error('DEPLOY_NOT_RUNNING', `App ${app} is not running, so hop3 has no worker list for it.`, {
      hint: `Log files stay in ${paths.logs}; start the app with \`hop3 run ${app}\`.`,
    });
  }
  await (await load(release.deployer)).logs(release, options);
}
