import { lstat, open, readFile, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import * as z from 'zod';
import type { Artifact } from '../artifact/artifact-file.js';
import { locationKind } from '../artifact/location.js';
import { Hop3Error, isHop3Error, tail, withOutputTail, wrapError } from '../errors.js';
import { runCommand } from '../process/run-command.js';
import { nixAddRoot, nixCopyFrom, storeUriProblem } from '../engines/nix-store.js';
import { ensureAppDirs, PRIVATE_FILE_MODE } from '../state/app-dirs.js';
import type { RunState, WorkerRecord } from '../state/releases.js';
import { selectWorkers, type Deployer, type DeployerContext, type DeployOptions, type LogOptions, type ReleasePhaseOptions, type Started, type WorkerStatus } from './deployer.js';
import { followFiles, LOG_KEEP, logMaxBytes, readLogTail, readTail, type FilePosition } from './log-files.js';
import { checkGroup, findMarkedGroups, newMarker, spawnGroup, stopGroup, type GroupIdentity, type SpawnedGroup } from './process-group.js';
import { waitForWorkers } from './readiness.js';
import { workerEnv } from './worker-env.js';
import { packageRoot } from '../package-root.js';
import { releasePolicy, webPort } from './release-policy.js';
import { isWebWorker } from '../config/procfile.js';
import { CRON_OPTIONS } from '../config/cron-schedule.js';
import { prepareForUser, workerUser, type WorkerUser } from './worker-user.js';

interface StartedWorker {
  record: WorkerRecord;
  group: SpawnedGroup;
  /** Size of the log before this start: failure reports show only this start's output. */
  logOffset: number;
}

/** How a record's `handle` says which process group hop3 started, and where its supervisor reports: private to this deployer. */
const GroupHandleSchema = z.object({ start_ticks: z.number().int().nonnegative().optional(), marker: z.string().regex(/^[0-9a-f]{24}$/), status: z.string().optional() });

/** Each worker and scheduled job runs under a small supervisor (restarts or schedule, log rotation) that leads its process group. */
const SUPERVISOR = path.join(packageRoot, 'src', 'deployers', 'worker-supervisor.mjs');

/** What the supervisor writes to its status file. */
const SupervisorStatusSchema = z.object({
  /** scheduled: a scheduled job waiting for its next run (running while a run is under way). */
  state: z.enum(['running', 'restarting', 'failed', 'finished', 'stopped', 'scheduled']),
  restarts: z.number().int(),
  last_exit: z.string().optional(),
  reason: z.string().optional(),
});
type SupervisorStatus = z.infer<typeof SupervisorStatusSchema>;

async function readSupervisorStatus(worker: WorkerRecord): Promise<SupervisorStatus | undefined> {
  const file = typeof worker.handle?.status === 'string' ? worker.handle.status : undefined;
  if (!file) return undefined;
  const text = await readFile(file, 'utf8').catch(() => undefined);
  const parsed = SupervisorStatusSchema.safeParse(text === undefined ? undefined : safeJson(text));
  return parsed.success ? parsed.data : undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The restart policy: web workers always run; others that exit 0 are finished. A crash loop ends as failed.
 * A scheduled job (`schedule`) runs its command at those times instead, and is never restarted.
 */
function supervisorConfig(artifact: Artifact, worker: { name: string; command: string; schedule?: string; cwd: string; log: string; status: string }, env: NodeJS.ProcessEnv) {
  const policy = releasePolicy(artifact);
  return {
    ...worker,
    ...(worker.schedule !== undefined ? { cronOptions: CRON_OPTIONS } : {}),
    restart: isWebWorker(worker.name),
    maxRestarts: policy.max_restarts,
    windowMs: policy.restart_window * 1000,
    firstBackoffMs: 500,
    maxBackoffMs: 30_000,
    stableMs: 10_000,
    logMaxBytes: logMaxBytes(env),
    logKeep: LOG_KEEP,
  };
}

/** The supervisor's environment: the worker's, with NODE_* moved aside (an app's NODE_OPTIONS must not steer hop3's supervisor); it restores them for the worker. */
function supervisorEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key.startsWith('NODE_') ? `HOP3_STASH_${key}` : key, value]));
}

type Trust = { state: 'ours'; groups: GroupIdentity[] } | { state: 'gone' } | { state: 'refused'; reason: string };

/**
 * The groups of a recorded worker hop3 may signal. A record without a pid (hop3 died while starting it)
 * is found by its marker alone; any other record must pass checkGroup. Never signalled otherwise.
 */
async function trustOf(worker: WorkerRecord): Promise<Trust> {
  const handle = GroupHandleSchema.safeParse(worker.handle);
  if (worker.id === '' && handle.success) {
    const groups = await findMarkedGroups(handle.data.marker);
    return groups.length > 0 ? { state: 'ours', groups } : { state: 'gone' };
  }
  const trust = await checkGroup({ id: worker.id, ...(handle.success ? { startTicks: handle.data.start_ticks, marker: handle.data.marker } : {}) });
  return trust.state === 'ours' ? { state: 'ours', groups: [trust.identity] } : trust;
}

/**
 * `nix copy --from` the store the artifact was pushed to (`metadata.pushed.store`), or HOP3_NIX_COPY_FROM. Signatures are
 * checked as nix.conf says, with HOP3_NIX_TRUSTED_PUBLIC_KEYS added to its trusted keys; HOP3_NIX_NO_CHECK_SIGS=1 skips them.
 */
async function realiseStorePath(artifact: Artifact, ctx: DeployerContext): Promise<void> {
  const pushed = artifact.metadata.pushed as { store?: unknown } | undefined;
  const recorded = typeof pushed?.store === 'string' ? pushed.store : undefined;
  const uri = ctx.env.HOP3_NIX_COPY_FROM || recorded;
  if (!uri) return; // nowhere to copy from: the directory check says what is missing
  const problem = storeUriProblem(uri);
  if (problem) {
    throw new Hop3Error('DEPLOY_NIX_COPY_FAILED', `Cannot copy ${artifact.location} here: ${ctx.env.HOP3_NIX_COPY_FROM ? 'HOP3_NIX_COPY_FROM' : 'the artifact\'s metadata.pushed.store'}: ${problem}.`, {
      hint: 'Set HOP3_NIX_COPY_FROM to the store the build was pushed to (e.g. file:///srv/nix-cache).',
    });
  }
  const keys = ctx.env.HOP3_NIX_TRUSTED_PUBLIC_KEYS?.trim();
  const options = ctx.env.HOP3_NIX_NO_CHECK_SIGS === '1' ? ['--no-check-sigs'] : keys ? ['--option', 'extra-trusted-public-keys', keys] : [];
  ctx.log.step(`copying ${artifact.location} from ${uri} (not in this host's store)`);
  await nixCopyFrom(uri, artifact.location, { env: ctx.env, log: ctx.log, signal: ctx.signal, options, code: 'DEPLOY_NIX_COPY_FAILED' });
}

/**
 * A store path this app runs gets the app's GC root (`gcroots/<build_id>`, as a build here makes, pruned with its
 * releases): one copied in from a cache, or built under another HOP3_HOME, would otherwise be garbage to nix here.
 */
async function keepStorePath(artifact: Artifact, options: DeployOptions): Promise<void> {
  if (locationKind(artifact.location) !== 'store-path') return;
  const root = path.join(options.paths.gcroots, artifact.build_id);
  if (await lstat(root).catch(() => undefined)) return;
  try {
    await ensureAppDirs(options.paths, options.paths.gcroots);
    await nixAddRoot(root, artifact.location, { env: options.env, signal: options.signal, code: 'DEPLOY_NIX_COPY_FAILED' });
  } catch (error) {
    options.log.warn(`${artifact.location} has no GC root here (nix-collect-garbage could remove it while it runs): ${(error as Error).message}`);
  }
}

/** Runs host paths and store paths (local and nix builds) as process groups on this host, detached, logging to the app's logs dir. */
export class ProcessDeployer implements Deployer {
  readonly name = 'process';

  /**
   * The build's directories must be on this host: an artifact copied from elsewhere, or a deleted build, cannot run.
   * A missing store path of a pushed nix artifact is first copied in from the store it was pushed to.
   */
  async check(artifact: Artifact, ctx: DeployerContext): Promise<void> {
    if (locationKind(artifact.location) === 'store-path' && !(await stat(artifact.location).catch(() => undefined))) await realiseStorePath(artifact, ctx);
    const dirs = [['location', artifact.location], ['working_dir', artifact.runtime.working_dir]] as const;
    for (const [field, dir] of dirs) {
      if (!dir || (await stat(dir).catch(() => undefined))?.isDirectory()) continue;
      const store = locationKind(artifact.location) === 'store-path';
      throw new Hop3Error('DEPLOY_LOCATION_MISSING', `${artifact.app_name} build ${artifact.build_id} cannot run here: its ${field} ${dir} is not a directory on this host.`, {
        hint: store
          ? 'Push it from the build host (`hop3 push <app> --store file:///shared/cache`) and run the artifact that writes, or copy the store path here (`nix copy --to ssh://this-host <path>`), or set HOP3_NIX_COPY_FROM to a store that has it.'
          : 'Local builds run where they were built: rebuild here with `hop3 build <dir>` (or use the docker or nix builder to move builds between hosts).',
      });
    }
  }

  /** The release commands, run like before_run (same user, directory and environment), before anything of the release starts. */
  async releasePhase(artifact: Artifact, options: ReleasePhaseOptions): Promise<void> {
    const { cwd, user } = await this.prepare(artifact, options);
    await this.runOneOffs('release', artifact.runtime.release ?? [], artifact, options, cwd, user);
  }

  async deploy(artifact: Artifact, options: DeployOptions): Promise<Started> {
    const { paths, log } = options;
    await keepStorePath(artifact, options);
    const { cwd, user } = await this.prepare(artifact, options);
    if (!user && process.getuid?.() === 0) log.warn('workers run as root; set [run] user in hop3.toml (e.g. user = "nobody") to run them unprivileged');
    await this.runOneOffs('before_run', artifact.runtime.before_run, artifact, options, cwd, user);
    const declared = webPort(artifact);
    if (declared !== undefined && declared !== options.port) {
      log.info(`[port] web = ${declared} is the app's port in a container; as a process it shares this host's ports, so it gets PORT=${options.port} and must listen there`);
    }

    const started: StartedWorker[] = [];
    // Scheduled jobs run under the same supervisor, which waits for their times instead of starting at once.
    const entries: { name: string; command: string; schedule?: string }[] = [
      ...Object.entries(artifact.runtime.workers).map(([name, command]) => ({ name, command })),
      ...Object.entries(artifact.runtime.scheduled ?? {}).map(([name, job]) => ({ name, command: job.command, schedule: job.schedule })),
    ];
    try {
      for (const { name, command, schedule } of entries) {
        const logFile = paths.log(name);
        const handle = await open(logFile, 'a', PRIVATE_FILE_MODE);
        try {
          await handle.chmod(PRIVATE_FILE_MODE); // a log an older hop3 left readable: workers may print env values
          const logOffset = (await handle.stat()).size;
          await handle.write(`--- ${new Date().toISOString()} ${schedule ? 'scheduling' : 'starting'} ${name} (build ${artifact.build_id})${user ? ` as ${user.name}` : ''}: ${schedule ? `${schedule} ` : ''}${command}\n`);
          const env = workerEnv(artifact, { base: options.env, paths, worker: name, port: options.port, generated: options.generatedEnv });
          const marker = newMarker();
          const statusFile = path.join(paths.run, 'workers', `${options.release}-${name}.json`);
          await rm(statusFile, { force: true }); // a restored release reuses its number: its old supervisor's last word is not this one's
          await options.record({ name, id: '', handle: { marker, status: statusFile }, log: logFile });
          const supervisor = { ...supervisorConfig(artifact, { name, command, ...(schedule ? { schedule } : {}), cwd, log: logFile, status: statusFile }, options.env), ...(user ? { uid: user.uid, gid: user.gid } : {}) };
          const group = await spawnGroup(process.execPath, [SUPERVISOR, JSON.stringify(supervisor)], { cwd, env: supervisorEnv(env), logFd: handle.fd, marker }).catch((error: unknown) => {
            throw wrapError(error, 'DEPLOY_WORKER_START_FAILED', `Cannot start worker ${name} in ${cwd}`, (error as NodeJS.ErrnoException).code === 'ENOENT' ? `The working directory ${cwd} does not exist on this host: rebuild the app here, or run an artifact built on this host.` : 'Check the working directory and /bin/sh on this host.');
          });
          const record = { name, id: String(group.pid), handle: { start_ticks: group.ticks, marker, status: statusFile }, log: logFile };
          started.push({ record, group, logOffset });
          await options.record(record);
          log.info(schedule ? `scheduled ${name} (${schedule}; supervisor pid ${group.pid})` : `started ${name} (pid ${group.pid})`);
        } finally {
          await handle.close();
        }
      }
      const url = await waitForWorkers(artifact, options, {
        failed: async () => {
          for (const { record, group } of started) {
            // One restart is already a failure here: a deploy must not hide a crash loop behind the supervisor.
            const supervised = await readSupervisorStatus(record);
            // A non-web worker that exits 0 is finished (its supervisor leaves with it): done, not failed.
            if (supervised?.state === 'finished' && supervised.restarts === 0) continue;
            if (supervised && (supervised.restarts > 0 || !['running', 'scheduled'].includes(supervised.state))) return `Worker ${record.name} exited (${supervised.last_exit ?? supervised.state})`;
            if (group.exit !== undefined) return `Worker ${record.name}'s supervisor exited (${group.exit.signal ?? `code ${group.exit.code}`})`;
          }
          return undefined;
        },
      });
      return { url, workers: started.map((s) => s.record) };
    } catch (error) {
      const explained = await explainFixedPort(error, artifact, options.port); // while the workers still run
      await Promise.all(started.map(({ group }) => stopGroup(group, 3000)));
      throw withOutputTail(explained, await startOutput(started));
    }
  }

  /** Stops the groups hop3 can prove it started; refuses (and names) any other record, after stopping the rest. */
  async stop(state: RunState, { log }: DeployerContext): Promise<void> {
    const refused: string[] = [];
    await Promise.all(
      state.workers.map(async (worker) => {
        const trust = await trustOf(worker);
        if (trust.state === 'refused') {
          refused.push(`${worker.name}: ${trust.reason}`);
          return;
        }
        if (trust.state === 'ours') await Promise.all(trust.groups.map((group) => stopGroup(group)));
        log.info(`stopped ${worker.name} (pid ${worker.id})`);
      }),
    );
    if (refused.length > 0) {
      throw new Hop3Error('DEPLOY_WORKER_UNTRUSTED', `Refused to signal ${refused.length === 1 ? 'a worker' : 'workers'} of ${state.app} that hop3 cannot prove it started (${refused.join('; ')}).`, {
        hint: 'The run state was changed outside hop3 or is stale. Nothing was sent to those pids; check them by hand (ps -o pid,pgid,lstart,cmd -p <pid>).',
      });
    }
  }

  async status(state: RunState): Promise<WorkerStatus[]> {
    return Promise.all(
      state.workers.map(async (worker) => {
        const trust = await trustOf(worker);
        const supervised = await readSupervisorStatus(worker);
        return {
          ...worker,
          running: trust.state === 'ours' && supervised?.state !== 'failed',
          ...(supervised ? { restarts: supervised.restarts, state: supervised.state } : {}),
          ...(trust.state === 'refused' ? { problem: trust.reason } : supervised?.reason ? { problem: supervised.reason } : {}),
        };
      }),
    );
  }

  async logs(state: RunState, options: LogOptions): Promise<void> {
    const workers = selectWorkers(state, options.worker).filter((w) => w.log !== undefined);
    const names = workers.map((w) => w.name);
    const files = Object.fromEntries(workers.map((w) => [w.name, w.log!]));
    const from: Record<string, FilePosition | undefined> = {};
    for (const [name, file] of Object.entries(files)) {
      const { text, position } = await readLogTail(file, options.lines);
      from[name] = position;
      if (text) options.write(names.length > 1 ? `${text.replace(/^/gm, `${name} | `)}\n` : `${text}\n`);
    }
    // -f goes on exactly where each tail stopped: a line written in between is shown once.
    if (options.follow) await followFiles(files, options.write, { signal: options.signal, from });
  }

  /** The app's dirs, and the user its commands run as (its dirs handed to that user). */
  private async prepare(artifact: Artifact, options: ReleasePhaseOptions): Promise<{ cwd: string; user: WorkerUser | undefined }> {
    const { paths } = options;
    const cwd = artifact.runtime.working_dir || artifact.location;
    await ensureAppDirs(paths, paths.logs, paths.run, path.join(paths.run, 'workers'), paths.data, path.join(paths.data, 'tmp'));
    const user = await workerUser(artifact, options.env);
    if (user) await prepareForUser(user, paths, cwd, options.env);
    return { cwd, user };
  }

  /** Commands run to completion in order, output to the deploy log: before_run at every start, release once per new release. */
  private async runOneOffs(kind: 'before_run' | 'release', commands: readonly string[], artifact: Artifact, options: ReleasePhaseOptions, cwd: string, user: WorkerUser | undefined): Promise<void> {
    const env = workerEnv(artifact, { base: options.env, paths: options.paths, worker: kind, port: options.port, generated: options.generatedEnv });
    for (const command of commands) {
      options.log.step(`${kind === 'release' ? `release phase of release ${options.release}` : kind}: ${command}`);
      const result = await runCommand('/bin/sh', ['-c', command], {
        cwd,
        env,
        onLine: (line) => options.log.output(line),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(user ? { uid: user.uid, gid: user.gid } : {}),
      });
      if (result.failed) {
        const details = { command, ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}), outputTail: tail(result.all) };
        throw kind === 'release'
          ? new Hop3Error('DEPLOY_RELEASE_FAILED', `release command \`${command}\` failed (${result.reason}); release ${options.release} was not started.`, {
              ...details,
              hint: 'Fix the command (the Procfile release line) and deploy again; the running release, if any, keeps serving.',
            })
          : new Hop3Error('DEPLOY_BEFORE_RUN_FAILED', `before_run command \`${command}\` failed (${result.reason}); no worker was started.`, {
              ...details,
              hint: 'Fix the command ([run] before-run in hop3.toml or the Procfile prerun line) and rebuild; the previous release keeps running.',
            });
      }
    }
  }

}

/**
 * A web worker that never became ready while something answers on its declared `[port] web` has most
 * likely ignored $PORT (hard-coded its container port): the error says so, and what to do.
 */
async function explainFixedPort(error: unknown, artifact: Artifact, port: number): Promise<unknown> {
  const declared = webPort(artifact);
  if (declared === undefined || declared === port || !isHop3Error(error, 'DEPLOY_NOT_HEALTHY') || !(await accepts(declared))) return error;
  return error.with({
    hint: `Something listens on 127.0.0.1:${declared}, the app's [port] web, while hop3 gave it PORT=${port}: the process target runs apps on hop3's ports (two releases overlap during a swap, and apps share the host), so make the app read $PORT, or deploy with the container target (--builder docker), where [port] web is the container's port.`,
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:port (within a second). */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, timeout: 1000 });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/** What the workers printed during this start only, for a deploy failure (all of the current file if it was rotated since). */
async function startOutput(workers: StartedWorker[]): Promise<string> {
  const tails = await Promise.all(
    workers.map(async ({ record, logOffset }) => {
      const size = (await stat(record.log!).catch(() => undefined))?.size ?? 0;
      return `[${record.name}]\n${await readTail(record.log!, 15, size < logOffset ? 0 : logOffset)}`;
    }),
  );
  return tails.join('\n');
}
