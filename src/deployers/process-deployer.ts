import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import type { Artifact } from '../artifact/artifact-file.js';
import { Hop3Error, tail, withOutputTail } from '../errors.js';
import { runCommand } from '../process/run-command.js';
import type { RunState, WorkerRecord } from '../state/run-state.js';
import { runState, selectWorkers, type Deployer, type DeployerContext, type DeployOptions, type LogOptions, type WorkerStatus } from './deployer.js';
import { followFiles, readTail } from './log-files.js';
import { checkGroup, spawnGroup, stopGroup, type GroupTrust, type SpawnedGroup } from './process-group.js';
import { forPort, waitForWorkers } from './readiness.js';
import { workerEnv } from './worker-env.js';

interface StartedWorker {
  record: WorkerRecord;
  group: SpawnedGroup;
  /** Size of the log before this start: failure reports show only this start's output. */
  logOffset: number;
}

/** How a record's `handle` says which process group hop3 started: private to this deployer. */
const GroupHandleSchema = z.object({ start_ticks: z.number().int().nonnegative(), marker: z.string().min(1) });

/** Trust in a recorded worker; a record without a well-formed handle is never signalled. */
function trustOf(worker: WorkerRecord): GroupTrust {
  const handle = GroupHandleSchema.safeParse(worker.handle);
  return checkGroup({ id: worker.id, ...(handle.success ? { startTicks: handle.data.start_ticks, marker: handle.data.marker } : {}) });
}

/** Runs host paths and store paths (local and nix builds) as process groups on this host, detached, logging to the app's logs dir. */
export class ProcessDeployer implements Deployer {
  readonly name = 'process';
  readonly publishes = 'host';

  async deploy(artifact: Artifact, options: DeployOptions): Promise<RunState> {
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
          const group = await spawnGroup(command, { cwd, env, logFd: handle.fd });
          started.push({ record: { name, id: String(group.pid), handle: { start_ticks: group.ticks, marker: group.marker }, log: logFile }, group, logOffset });
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
      return runState({ deployer: this.name, artifact, options, url, workers: started.map((s) => s.record) });
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
        if (trust.state === 'ours') await stopGroup(trust.identity);
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
