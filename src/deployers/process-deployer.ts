import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import type { Artifact } from '../artifact/artifact-file.js';
import { Hop3Error, tail, withOutputTail, wrapError } from '../errors.js';
import { runCommand } from '../process/run-command.js';
import type { RunState, WorkerRecord } from '../state/releases.js';
import { selectWorkers, type Deployer, type DeployerContext, type DeployOptions, type LogOptions, type Started, type WorkerStatus } from './deployer.js';
import { followFiles, readTail } from './log-files.js';
import { checkGroup, findMarkedGroups, newMarker, spawnGroup, stopGroup, type GroupIdentity, type SpawnedGroup } from './process-group.js';
import { forPort, waitForWorkers } from './readiness.js';
import { workerEnv } from './worker-env.js';

interface StartedWorker {
  record: WorkerRecord;
  group: SpawnedGroup;
  /** Size of the log before this start: failure reports show only this start's output. */
  logOffset: number;
}

/** How a record's `handle` says which process group hop3 started: private to this deployer. */
const GroupHandleSchema = z.object({ start_ticks: z.number().int().nonnegative().optional(), marker: z.string().regex(/^[0-9a-f]{24}$/) });

type Trust = { state: 'ours'; groups: GroupIdentity[] } | { state: 'gone' } | { state: 'refused'; reason: string };

/**
 * The groups of a recorded worker hop3 may signal. A record without a pid (hop3 died while starting it)
 * is found by its marker alone; any other record must pass checkGroup. Never signalled otherwise.
 */
function trustOf(worker: WorkerRecord): Trust {
  const handle = GroupHandleSchema.safeParse(worker.handle);
  if (worker.id === '' && handle.success) {
    const groups = findMarkedGroups(handle.data.marker);
    return groups.length > 0 ? { state: 'ours', groups } : { state: 'gone' };
  }
  const trust = checkGroup({ id: worker.id, ...(handle.success ? { startTicks: handle.data.start_ticks, marker: handle.data.marker } : {}) });
  return trust.state === 'ours' ? { state: 'ours', groups: [trust.identity] } : trust;
}

/** Runs host paths and store paths (local and nix builds) as process groups on this host, detached, logging to the app's logs dir. */
export class ProcessDeployer implements Deployer {
  readonly name = 'process';
  readonly publishes = 'host';

  async deploy(artifact: Artifact, options: DeployOptions): Promise<Started> {
    const { paths, log } = options;
    const cwd = artifact.runtime.working_dir || artifact.location;
    await Promise.all([paths.logs, paths.run, path.join(paths.data, 'tmp')].map((dir) => mkdir(dir, { recursive: true })));
    await this.runBeforeRun(artifact, options, cwd);

    const started: StartedWorker[] = [];
    try {
      for (const [name, command] of Object.entries(artifact.runtime.workers)) {
        const logFile = paths.log(name);
        const handle = await open(logFile, 'a');
        try {
          const logOffset = (await handle.stat()).size;
          await handle.write(`--- ${new Date().toISOString()} starting ${name} (build ${artifact.build_id}): ${command}\n`);
          const env = workerEnv(artifact, { base: options.env, paths, worker: name, port: options.port });
          const marker = newMarker();
          await options.record({ name, id: '', handle: { marker }, log: logFile });
          const group = await spawnGroup(command, { cwd, env, logFd: handle.fd, marker }).catch((error: unknown) => {
            throw wrapError(error, 'DEPLOY_WORKER_START_FAILED', `Cannot start worker ${name} in ${cwd}`, (error as NodeJS.ErrnoException).code === 'ENOENT' ? `The working directory ${cwd} does not exist on this host: rebuild the app here, or run an artifact built on this host.` : 'Check the working directory and /bin/sh on this host.');
          });
          const record = { name, id: String(group.pid), handle: { start_ticks: group.ticks, marker }, log: logFile };
          started.push({ record, group, logOffset });
          await options.record(record);
          log.info(`started ${name} (pid ${group.pid})`);
        } finally {
          await handle.close();
        }
      }
      const url = await waitForWorkers(artifact, options, {
        failed: async () => {
          const dead = started.find(({ group }) => group.exit !== undefined);
          if (!dead) return undefined;
          const { code, signal } = dead.group.exit!;
          return `Worker ${dead.record.name} exited (${signal ? `signal ${signal}` : `code ${code}`})`;
        },
        listening: () => forPort('127.0.0.1', options.port),
      });
      return { url, workers: started.map((s) => s.record) };
    } catch (error) {
      await Promise.all(started.map(({ group }) => stopGroup(group, 3000)));
      throw withOutputTail(error, await startOutput(started));
    }
  }

  /** Stops the groups hop3 can prove it started; refuses (and names) any other record, after stopping the rest. */
  async stop(state: RunState, { log }: DeployerContext): Promise<void> {
    const refused: string[] = [];
    await Promise.all(
      state.workers.map(async (worker) => {
        const trust = trustOf(worker);
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
    return state.workers.map((worker) => {
      const trust = trustOf(worker);
      return { ...worker, running: trust.state === 'ours', ...(trust.state === 'refused' ? { problem: trust.reason } : {}) };
    });
  }

  async logs(state: RunState, options: LogOptions): Promise<void> {
    const workers = selectWorkers(state, options.worker).filter((w) => w.log !== undefined);
    const names = workers.map((w) => w.name);
    const files = Object.fromEntries(workers.map((w) => [w.name, w.log!]));
    for (const [name, file] of Object.entries(files)) {
      const text = await readTail(file, options.lines);
      if (text) options.write(names.length > 1 ? `${text.replace(/^/gm, `${name} | `)}\n` : `${text}\n`);
    }
    if (options.follow) await followFiles(files, options.write, options.signal);
  }

  private async runBeforeRun(artifact: Artifact, options: DeployOptions, cwd: string): Promise<void> {
    const env = workerEnv(artifact, { base: options.env, paths: options.paths, worker: 'before_run', port: options.port });
    for (const command of artifact.runtime.before_run) {
      options.log.step(`before_run: ${command}`);
      const result = await runCommand('/bin/sh', ['-c', command], { cwd, env, onLine: (line) => options.log.output(line), ...(options.signal ? { signal: options.signal } : {}) });
      if (result.failed) {
        throw new Hop3Error('DEPLOY_BEFORE_RUN_FAILED', `before_run command \`${command}\` failed (${result.reason}); no worker was started.`, {
          command,
          ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
          outputTail: tail(result.all),
          hint: 'Fix the command ([run] before-run in hop3.toml or the Procfile prerun line) and rebuild; the previous release keeps running.',
        });
      }
    }
  }

}

/** What the workers printed during this start only, for a deploy failure. */
async function startOutput(workers: StartedWorker[]): Promise<string> {
  const tails = await Promise.all(workers.map(async ({ record, logOffset }) => `[${record.name}]\n${await readTail(record.log!, 15, logOffset)}`));
  return tails.join('\n');
}
