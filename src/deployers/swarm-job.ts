import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import type { DockerClient } from '../engines/docker-client.js';
import type { RegistryAuth } from '../engines/docker-registry.js';
import { Hop3Error, wrapError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { leastPrivilege, oneOffFailed } from './container-deployer.js';
import { engineLogTail } from './log-frames.js';
import { engineLogsOf, POLL_MS, removeService, type Task } from './swarm-services.js';

/** A task no node takes (constraints, resources, an image no node may pull) fails the job after this long. */
const PENDING_LIMIT_S = 120;
/** Task states before a node has taken the task. */
const UNPLACED = new Set(['new', 'allocated', 'pending', 'assigned']);
/** The job's output shown in the deploy log, at most. */
const OUTPUT_LINES = 1000;

/** A one-off command of a release (before_run, release) run on the cluster. */
export interface SwarmJob {
  kind: 'before_run' | 'release';
  /** The job service's name, unique to the release and command. */
  name: string;
  command: string;
  image: { ref: string; auth?: RegistryAuth | undefined };
  env: string[];
  labels: Record<string, string>;
  workingDir?: string | undefined;
  log: Logger;
  signal?: AbortSignal | undefined;
}

/**
 * Run the command to completion as a Swarm job (a replicated-job service of one task, API 1.41): on whichever node
 * the manager picks, with the image and credentials the workers get. Its output goes to the log; a failure throws
 * like a one-off container's. The job service is removed either way.
 */
export async function runSwarmJob(docker: DockerClient, job: SwarmJob): Promise<void> {
  const spec = {
    Name: job.name,
    Labels: job.labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: job.image.ref,
        Command: ['/bin/sh', '-c', job.command],
        Env: job.env,
        ...(job.workingDir ? { Dir: job.workingDir } : {}),
        Labels: job.labels,
        Init: true,
        CapabilityDrop: leastPrivilege().CapDrop,
      },
      RestartPolicy: { Condition: 'none' },
    },
    Mode: { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } },
  };
  const created = (await docker.createService(job.image.auth as Docker.AuthConfig, spec as never).catch((error: unknown) => {
    throw wrapError(error, 'DEPLOY_SWARM_SERVICE_FAILED', `The manager refused to create job ${job.name}`, 'Check the image and the command; the engine\'s reason is above.');
  })) as { id?: string; ID?: string };
  const id = created.id ?? created.ID ?? '';
  try {
    const outcome = await jobOutcome(docker, id, job);
    const output = await engineLogTail(engineLogsOf(docker), id, OUTPUT_LINES);
    for (const line of output.split('\n').filter(Boolean)) job.log.output(line);
    if (outcome.exitCode !== 0) throw oneOffFailed({ kind: job.kind, command: job.command, image: job.image.ref }, { where: 'a Swarm job', ...outcome, output });
  } finally {
    await removeService(docker, id).catch(() => job.log.warn(`could not remove job service ${job.name}: remove it with \`docker service rm ${job.name}\``));
  }
}

/** Wait until the job's task has ended: its exit code, or why it never ran. */
async function jobOutcome(docker: DockerClient, id: string, job: SwarmJob): Promise<{ exitCode?: number | undefined; reason?: string | undefined }> {
  let pendingSince = Date.now();
  for (;;) {
    job.signal?.throwIfAborted();
    const [task] = (await docker.listTasks({ filters: JSON.stringify({ service: [id] }) })) as Task[];
    const state = task?.Status?.State;
    if (state === 'complete') return { exitCode: 0 };
    if (state === 'failed') return { exitCode: task?.Status?.ContainerStatus?.ExitCode, reason: task?.Status?.Err };
    if (state === 'rejected' || state === 'orphaned' || state === 'remove') return { reason: task?.Status?.Err ?? state };
    // Accepted by a node (pulling, starting, running): it is under way, however long that takes.
    if (state && !UNPLACED.has(state)) pendingSince = Date.now();
    else if (Date.now() - pendingSince > PENDING_LIMIT_S * 1000) {
      throw new Hop3Error('DEPLOY_SWARM_NOT_CONVERGED', `No node ran ${job.kind} job ${job.name} within ${PENDING_LIMIT_S} s (its task is ${state ?? 'not created'}${task?.Status?.Err ? `: ${task.Status.Err}` : ''}).`, {
        hint: `See why with \`docker service ps --no-trunc ${job.name}\` (constraints, resources, an image the nodes cannot pull).`,
      });
    }
    await sleep(POLL_MS);
  }
}
