import { existsSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import writeFileAtomic from 'write-file-atomic';
import { locationKind } from '../artifact/location.js';
import { serializeArtifact, type Artifact } from '../artifact/artifact-file.js';
import { Hop3Error, isHop3Error } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { withAppLock } from '../state/app-lock.js';
import { ensureAppDirs, PRIVATE_FILE_MODE } from '../state/app-dirs.js';
import { buildDirOf } from '../state/build-dirs.js';
import { loadGeneratedEnv } from '../state/generated-env.js';
import { appPaths, type AppPaths } from '../state/hop3-home.js';
import { activeReleases, listReleases, nextReleaseNumber, removeRelease, writeRelease, type Release, type WorkerRecord } from '../state/releases.js';
import type { Deployer, DeployerContext, LogOptions, WorkerStatus } from './deployer.js';
import { readTail } from './log-files.js';
import { NginxRouter } from './nginx-router.js';
import { claimPort, freePort, portInUse } from './port.js';
import { generatedEnvSpecs, releasePolicy } from './release-policy.js';
import { deployerLoader, targetFor, type DeployerLoader } from './registry.js';

export interface RunRequest {
  artifact: Artifact;
  /** Name to run it under; defaults to the artifact's app_name. */
  app?: string;
  port?: number;
  /** --target; else `[deploy] target` recorded in the artifact; else the default for its location. */
  target?: string;
  /** --replicas: tasks per worker, on an orchestrated target (swarm); else `[run] replicas`. */
  replicas?: number;
  env: NodeJS.ProcessEnv;
  log: Logger;
  signal?: AbortSignal;
  /** The deployer registry; tests inject one to give faults no real engine gives on demand. */
  deployers?: DeployerLoader;
  /** Set by rollback: the release this one brings back. */
  rollbackOf?: number;
}

/**
 * The run half of the pipeline, as one numbered release: recorded as starting (with each worker as it
 * is spawned) before anything is checked, live only once healthy. The public port is claimed before
 * the running release is touched. Behind the router (nginx), the new release starts on the app's idle
 * slot while the old one serves, the route covers both, and the old one stops after a drain: no
 * request is refused. Without nginx, the old release stops first; if the new one then fails, it is
 * marked failed and the previous one is brought back before the error is reported.
 */
export async function runArtifact(request: RunRequest): Promise<Release> {
  const paths = appPaths(request.app ?? request.artifact.app_name, request.env);
  const { log } = request;
  const load = request.deployers ?? deployerLoader();
  return withAppLock(paths, async () => {
    request.signal?.throwIfAborted(); // cancelled while building or waiting for the lock: leave what runs alone
    if (Object.keys(request.artifact.runtime.workers).length === 0 && Object.keys(request.artifact.runtime.scheduled ?? {}).length === 0) {
      throw new Hop3Error('DEPLOY_NO_WORKERS', `${request.artifact.app_name} build ${request.artifact.build_id} defines no worker to run.`, {
        hint: 'Add a Procfile line (`web: <command>`) or `[run] start = "<command>"` in hop3.toml, then rebuild.',
      });
    }
    const deployer = await load(targetFor(request.artifact, request.target));
    if (request.replicas !== undefined && request.replicas !== 1 && !deployer.orchestrated) {
      throw new Hop3Error('DEPLOY_REPLICAS_UNSUPPORTED', `The ${deployer.name} target runs one copy of each worker; --replicas ${request.replicas} needs an orchestrated target.`, {
        usage: true,
        hint: 'Run it with --target swarm (a Docker Swarm manager), or leave out --replicas.',
      });
    }
    const active = await activeReleases(paths);
    const router = deployer.orchestrated ? undefined : await NginxRouter.find(request.env);
    const unchanged = await alreadyLive(active, deployer, router, request);
    if (unchanged) {
      log.step(`unchanged: release ${unchanged.release} already runs build ${unchanged.artifact.build_id} and is healthy; nothing restarted`);
      return unchanged;
    }
    await deployer.check?.(request.artifact, request); // a release that cannot start here never stops (or claims the port of) the one that runs
    const held = active.flatMap((r) => (r.public_port === undefined ? [r.port] : [r.port, r.public_port]));
    const claim = await claimPort(paths, request.env, { ...(request.port ? { requested: request.port } : {}), heldByApp: held });
    const now = new Date().toISOString();
    const release: Release = {
      app: paths.app,
      release: await nextReleaseNumber(paths),
      status: 'starting',
      deployer: deployer.name,
      artifact: request.artifact,
      port: claim.port,
      url: null,
      created_at: now,
      started_at: now,
      ...(request.rollbackOf !== undefined ? { rollback_of: request.rollbackOf } : {}),
      ...(deployer.orchestrated ? { replicas: request.replicas ?? releasePolicy(request.artifact).replicas } : {}),
      workers: [],
    };
    if (deployer.orchestrated) {
      try {
        return await updateInPlace(release, { deployer, active, paths, request, load });
      } catch (error) {
        await claim.release();
        throw error;
      }
    }
    if (router) {
      try {
        return await swapBehindRouter(release, { deployer, router, active, paths, request, load });
      } catch (error) {
        await claim.release();
        const live = active.findLast((r) => r.status === 'live');
        throw live && isHop3Error(error) ? error.with({ keptBuild: live.artifact.build_id }) : error;
      }
    }
    log.warn('nginx is not installed (or HOP3_ROUTER=off): the running release stops before the new one starts, so this deploy is not zero-downtime. Install nginx (Debian: apt-get install nginx-light).');
    await writeRelease(paths, release);
    try {
      await releasePhase(release, deployer, paths, request); // while the running release still serves
    } catch (error) {
      await claim.release();
      throw error;
    }
    const previous = active.findLast((r) => r.status === 'live');
    for (const old of active) {
      log.step(old.status === 'live' ? `stopping the running release ${old.release} (build ${old.artifact.build_id})` : `stopping release ${old.release}, left starting by an interrupted deploy`);
      await stopRelease(old, load, request, old.status === 'live' ? `replaced by release ${release.release}` : 'interrupted while starting');
    }
    try {
      log.step(`starting ${paths.app} release ${release.release} (build ${request.artifact.build_id}) with the ${deployer.name} deployer on port ${release.port}`);
      const live = await startRelease(release, deployer, paths, request);
      await pruneReleases(paths, request, load);
      return live;
    } catch (error) {
      await claim.release();
      throw previous ? await restore(previous, paths, request, load, error) : error;
    }
  });
}

/**
 * The live release when deploying this artifact again would change nothing: the same artifact, target,
 * port and routing, and every worker up. A redeploy of unchanged source then restarts nothing.
 */
async function alreadyLive(active: readonly Release[], deployer: Deployer, router: NginxRouter | undefined, request: RunRequest): Promise<Release | undefined> {
  const [live, ...others] = active;
  if (!live || others.length > 0 || live.status !== 'live' || request.rollbackOf !== undefined) return undefined;
  if (live.deployer !== deployer.name || serializeArtifact(live.artifact) !== serializeArtifact(request.artifact)) return undefined;
  if (request.port !== undefined && request.port !== (live.public_port ?? live.port)) return undefined;
  if (deployer.orchestrated && (request.replicas ?? releasePolicy(request.artifact).replicas) !== live.replicas) return undefined;
  const routed = router !== undefined && router.masterPid() !== undefined;
  if (routed !== (live.public_port !== undefined)) return undefined;
  const workers = await deployer.status(live, request);
  return workers.length > 0 && workers.every((w) => w.running || w.state === 'finished') ? live : undefined;
}

/**
 * An orchestrated target's deploy: the engine updates the app's services in place, rolling tasks over
 * (and rolling a failed update back itself, so the running release keeps serving). Releases of another
 * target stop first (the engine publishes the same port); the releases it replaces are retired after, their
 * stop removing only what the new release did not take over (a worker it no longer has).
 */
async function updateInPlace(release: Release, { deployer, active, paths, request, load }: Omit<SwapContext, 'router'>): Promise<Release> {
  const { log } = request;
  const [same, other] = [active.filter((r) => r.deployer === deployer.name), active.filter((r) => r.deployer !== deployer.name)];
  for (const old of other) {
    log.step(`stopping release ${old.release} (${old.deployer} target) before the ${deployer.name} target takes the app over`);
    await stopRelease(old, load, request, `replaced by release ${release.release} (${deployer.name} target)`);
  }
  if (other.some((r) => r.public_port !== undefined)) await (await NginxRouter.find(request.env))?.unroute(paths.app);
  await writeRelease(paths, release);
  await releasePhase(release, deployer, paths, request);
  const live = same.findLast((r) => r.status === 'live');
  log.step(`${live ? 'updating' : 'creating'} ${paths.app}'s services to release ${release.release} (build ${release.artifact.build_id}, ${release.replicas ?? 1} replica${release.replicas === 1 ? '' : 's'} per worker) with the ${deployer.name} deployer on port ${release.port}`);
  let started: Release;
  try {
    started = await startRelease(release, deployer, paths, request);
  } catch (error) {
    throw live && isHop3Error(error) ? error.with({ keptBuild: live.artifact.build_id }) : error;
  }
  for (const old of same) await stopRelease(old, load, request, old.status === 'live' ? `replaced by release ${release.release}` : 'interrupted while starting');
  await pruneReleases(paths, request, load);
  return started;
}

/** Long enough for nginx to apply a reload and its old workers to finish what they sent to the old release. */
const MIN_DRAIN_S = 1;

interface SwapContext {
  deployer: Deployer;
  router: NginxRouter;
  active: Release[];
  paths: AppPaths;
  request: RunRequest;
  load: DeployerLoader;
}

/** Start the new release on the idle slot, route the public port to it once it is ready, then drain and stop the old one. */
async function swapBehindRouter(release: Release, { deployer, router, active, paths, request, load }: SwapContext): Promise<Release> {
  const { log } = request;
  const publicPort = release.port;
  const live = active.findLast((r) => r.status === 'live');
  for (const stale of active.filter((r) => r.status === 'starting')) {
    log.step(`stopping release ${stale.release}, left starting by an interrupted deploy`);
    await stopRelease(stale, load, request, 'interrupted while starting', 'failed');
  }
  const slots = await appSlots(paths, live?.public_port !== undefined ? live.port : undefined);
  const slot = slots.find((port) => port !== live?.port)!;
  const routed: Release = { ...release, port: slot, public_port: publicPort };
  await writeRelease(paths, routed);
  await releasePhase(routed, deployer, paths, request);
  log.step(`starting ${paths.app} release ${routed.release} (build ${routed.artifact.build_id}) with the ${deployer.name} deployer on slot port ${slot}${live ? ` while release ${live.release} serves` : ''}`);
  const started = await startRelease(routed, deployer, paths, request, async (up) => {
    const staticPaths = routedStatic(up.artifact);
    await router.route({ app: paths.app, publicPort, port: slot, staticPaths });
    return `http://127.0.0.1:${publicPort}/`;
  });
  if (live) {
    // The reload is graceful and asynchronous: old nginx workers may still send a request or two to the old release.
    const drain = Math.max(releasePolicy(routed.artifact).drain, MIN_DRAIN_S);
    log.step(`routed 127.0.0.1:${publicPort} to release ${routed.release}; draining release ${live.release} for ${drain} s`);
    await sleep(drain * 1000);
    await stopRelease(live, load, request, `replaced by release ${routed.release}`);
  }
  await pruneReleases(paths, request, load);
  return started;
}

/**
 * The static folders nginx serves itself, from this host: never `/` (the app's server decides what is hidden),
 * none in an image, and none when the app's server applies rules nginx would bypass (metadata.static_rules:
 * Staticfile basic auth, index fallback); every path then goes to the app.
 */
function routedStatic(artifact: Artifact): Record<string, string> {
  const rules = artifact.metadata.static_rules;
  if (locationKind(artifact.location) === 'image' || (Array.isArray(rules) && rules.length > 0)) return {};
  return Object.fromEntries(Object.entries(artifact.runtime.static_paths).filter(([prefix]) => prefix !== '/'));
}

/** The app's two internal ports; a slot whose port another program took (and no release of ours uses) gets a new one. */
async function appSlots(paths: AppPaths, livePort: number | undefined): Promise<[number, number]> {
  const file = path.join(paths.run, 'slots');
  const saved = (await readFile(file, 'utf8').catch(() => '')).trim().split(/\s+/).map(Number);
  const slots: [number, number] = saved.length === 2 && saved.every((port) => Number.isInteger(port) && port > 0) ? [saved[0]!, saved[1]!] : [0, 0];
  for (const index of [0, 1] as const) {
    if (slots[index] !== 0 && (slots[index] === livePort || !(await portInUse(slots[index])))) continue;
    slots[index] = await freePort();
  }
  if (slots.join(' ') !== saved.join(' ')) {
    await ensureAppDirs(paths, paths.run);
    await writeFileAtomic(file, `${slots.join(' ')}\n`, { mode: PRIVATE_FILE_MODE });
  }
  return slots;
}

/**
 * Keep the last `[run] keep-releases` releases (the live one always among them); the others' records
 * go, with what no kept release uses: build dirs, Nix GC roots, images.
 */
async function pruneReleases(paths: AppPaths, ctx: DeployerContext, load: DeployerLoader): Promise<void> {
  const releases = await listReleases(paths);
  const live = releases.findLast((r) => r.status === 'live');
  if (!live) return;
  const { keep_releases: keep } = releasePolicy(live.artifact);
  const others = releases.filter((r) => r !== live && r.status !== 'starting');
  const kept = new Set([live, ...others.slice(Math.max(0, others.length - (keep - 1)))]);
  const pruned = releases.filter((r) => !kept.has(r) && r.status !== 'starting');
  // A build dir is one build (a forced rebuild of an id has its own, `<build_id>.2`); a GC root or an image is shared by every build of an id.
  const keptDirs = new Set([...kept].map((r) => buildDirOf(paths, r.artifact)));
  const keptBuilds = new Set([...kept].map((r) => r.artifact.build_id));
  for (const release of pruned) {
    await removeRelease(paths, release.release);
    await rm(paths.releaseLog(release.release), { force: true });
    const dir = buildDirOf(paths, release.artifact);
    if (keptDirs.has(dir)) continue;
    keptDirs.add(dir); // once per build
    ctx.log.info(`pruning release ${release.release} (build ${release.artifact.build_id})`);
    await rm(dir, { recursive: true, force: true });
    if (keptBuilds.has(release.artifact.build_id)) continue;
    keptBuilds.add(release.artifact.build_id);
    await rm(path.join(paths.gcroots, release.artifact.build_id), { force: true });
    await (await load(release.deployer)).discard?.(release.artifact, ctx);
  }
}

/** Make a kept release live again, without rebuilding, through the same swap as a deploy. */
export async function rollbackApp(app: string, request: Omit<RunRequest, 'artifact' | 'app'> & { to?: number }): Promise<Release> {
  const releases = await listReleases(appPaths(app, request.env));
  const live = releases.findLast((r) => r.status === 'live');
  const target =
    request.to !== undefined
      ? releases.find((r) => r.release === request.to)
      : releases.findLast((r) => r !== live && r.status === 'retired' && r.artifact.build_id !== live?.artifact.build_id);
  if (!target) {
    throw new Hop3Error('DEPLOY_NO_RELEASE', request.to !== undefined ? `${app} has no kept release ${request.to}.` : `${app} has no earlier release to roll back to.`, {
      usage: request.to !== undefined,
      hint: `See \`hop3 releases ${app}\`; releases beyond [run] keep-releases are pruned.`,
    });
  }
  request.log.step(`rolling ${app} back to release ${target.release} (build ${target.artifact.build_id})`);
  // The app keeps its scale: a rollback changes the build, not how many tasks run it.
  const replicas = request.replicas ?? live?.replicas ?? target.replicas;
  return runArtifact({ ...request, app, artifact: target.artifact, target: target.deployer, rollbackOf: target.release, ...(replicas !== undefined ? { replicas } : {}) });
}

/**
 * Heroku's release phase, once per new release, before its workers start (and before a running release
 * is stopped). Output goes to the deploy log and to `logs/release/<n>.log`; a failure marks the release
 * failed and aborts the deploy.
 */
async function releasePhase(release: Release, deployer: Deployer, paths: AppPaths, request: RunRequest): Promise<void> {
  const commands = release.artifact.runtime.release ?? [];
  if (commands.length === 0) return;
  const file = paths.releaseLog(release.release);
  await ensureAppDirs(paths, paths.logs, path.dirname(file));
  const handle = await open(file, 'a', PRIVATE_FILE_MODE);
  let writes = Promise.resolve();
  // In order, and never failing the phase: a full disk loses log lines, not the deploy.
  const append = (text: string) => {
    writes = writes.then(() => handle.write(text)).then(
      () => undefined,
      () => undefined,
    );
  };
  append(`--- ${new Date().toISOString()} release phase of release ${release.release} (build ${release.artifact.build_id}): ${commands.join(' && ')}\n`);
  const log: Logger = {
    step: (message) => request.log.step(message),
    info: (message) => request.log.info(message),
    warn: (message) => request.log.warn(message),
    output: (line) => {
      request.log.output(line);
      append(`${line}\n`);
    },
  };
  try {
    if (!deployer.releasePhase) {
      throw new Hop3Error('DEPLOY_RELEASE_FAILED', `The ${deployer.name} target cannot run release commands; release ${release.release} was not started.`, {
        hint: 'Deploy with the process or container target, or move the command to [run] before-run.',
      });
    }
    const generatedEnv = await loadGeneratedEnv(paths, generatedEnvSpecs(release.artifact), request.log);
    await deployer.releasePhase(release.artifact, { paths, release: release.release, port: release.port, generatedEnv, env: request.env, log, ...(request.signal ? { signal: request.signal } : {}) });
    append(`--- release phase done\n`);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    append(`--- release phase failed: ${reason}\n`);
    await recorder(release, paths).end('failed', reason).catch(() => {});
    throw error;
  } finally {
    await writes;
    await handle.close();
  }
}

/** Start a recorded release's workers; on failure it is marked failed (its workers already stopped by the deployer). */
async function startRelease(release: Release, deployer: Deployer, paths: AppPaths, request: RunRequest, activate?: (started: Release) => Promise<string>): Promise<Release> {
  const record = recorder(release, paths);
  let started;
  try {
    const generatedEnv = await loadGeneratedEnv(paths, generatedEnvSpecs(release.artifact), request.log);
    started = await deployer.deploy(release.artifact, { paths, release: release.release, port: release.port, generatedEnv, ...(release.replicas !== undefined ? { replicas: release.replicas } : {}), env: request.env, log: request.log, ...(request.signal ? { signal: request.signal } : {}), record: record.worker });
  } catch (error) {
    await record.end('failed', error instanceof Error ? error.message : String(error)).catch(() => {});
    throw error;
  }
  try {
    const url = activate ? await activate({ ...release, workers: started.workers }) : started.url;
    return await record.live(started.url === null ? null : url, started.workers);
  } catch (error) {
    // Running but not routed, or not recorded as live, would be a lie: stop what started, then report why.
    await deployer.stop({ ...release, workers: started.workers }, request).catch(() => {});
    await record.end('failed', error instanceof Error ? error.message : String(error)).catch(() => {});
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
    await (await NginxRouter.find(ctx.env))?.unroute(paths.app);
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
  /** The app's public port. */
  port: number | null;
  /** Behind the router: the internal port the live release listens on. */
  slot_port?: number;
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
    running: shown.status === 'live' && workers.length > 0 && workers.every((w) => w.running || w.state === 'finished'),
    release: shown.release,
    status: shown.status as 'live' | 'starting',
    deployer: shown.deployer,
    build_id: shown.artifact.build_id,
    builder: shown.artifact.builder,
    url: shown.url,
    port: shown.public_port ?? shown.port,
    ...(shown.public_port !== undefined ? { slot_port: shown.port } : {}),
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
  // The release phase's output is the app's too: shown first, and alone with --worker release.
  const phase = (release.artifact.runtime.release ?? []).length > 0 && !release.workers.some((w) => w.name === 'release') ? paths.releaseLog(release.release) : undefined;
  if (phase && (options.worker === undefined || options.worker === 'release')) {
    const text = await readTail(phase, options.lines);
    const alone = options.worker === 'release';
    // Prefixed like the workers' lines when the deployer prefixes them (more than one worker).
    if (text) options.write(`${alone || release.workers.length < 2 ? text : text.replace(/^/gm, 'release | ')}\n`);
    if (alone) return;
  }
  await (await load(release.deployer)).logs(release, options);
}
