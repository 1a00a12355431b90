import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import type { Artifact } from '../artifact/artifact-file.js';
import { containerLimits } from '../artifact/container-resources.js';
import { createDockerClient, daemonVersion, dockerHostOf, type DockerClient } from '../engines/docker-client.js';
import { registryAuthFor, registryHostOf, type RegistryAuth } from '../engines/docker-registry.js';
import { extraLabels, LABELS } from '../engines/labels.js';
import { Hop3Error, isHop3Error, withOutputTail, wrapError } from '../errors.js';
import type { RunState, WorkerRecord } from '../state/releases.js';
import { containerEnv, DEFAULT_PATH, leastPrivilege, oneOffLabels, removeImage } from './container-deployer.js';
import { selectWorkers, type Deployer, type DeployerContext, type DeployerEngines, type DeployOptions, type LogOptions, type ReleasePhaseOptions, type Started, type WorkerStatus } from './deployer.js';
import { healthCommand } from './health-command.js';
import { runSwarmJob } from './swarm-job.js';
import { engineLogsOf, POLL_MS, removeService, type Task } from './swarm-services.js';
import { engineLogTail, writeEngineLogs } from './log-frames.js';
import { healthProbe, releasePolicy, startTimeout, webPort } from './release-policy.js';
import { webWorkerName } from './worker-env.js';

const NS = 1_000_000_000;
/** Seconds Swarm watches each updated task for a failure before it moves on (it is healthy by then). */
const MONITOR_S = 2;
/** Seconds a task gets to stop on SIGTERM before SIGKILL. */
const STOP_GRACE_S = 5;
/** Seconds `stop` waits for a removed service's containers to go (its port is then free again). */
const REMOVE_WAIT_S = 30;

/** How the engine publishes the web port: Swarm's routing mesh (every node answers), or each task on its own node. */
export type PublishMode = 'ingress' | 'host';

/**
 * Runs image artifacts as Docker Swarm services, one per worker (`hop3-<app>-<worker>`), through the manager
 * DOCKER_HOST names. A deploy creates the services or updates them in place: Swarm rolls the tasks over one at
 * a time, each healthy (the health check runs in the task) before the next, and rolls the update back itself
 * when a task fails. The service's labels say which release it runs now.
 */
export class SwarmDeployer implements Deployer {
  readonly name = 'swarm';
  readonly orchestrated = true;

  /** The manager's client: injected, else one for DOCKER_HOST of each call's environment. */
  constructor(private readonly engines: DeployerEngines = {}) {}

  /** The manager answers, and the image is there (or pinned by digest, for the nodes to pull). */
  async check(artifact: Artifact, ctx: DeployerContext): Promise<void> {
    publishMode(ctx.env);
    await serviceImage(await this.connect(ctx.env), artifact, ctx.env);
  }

  /** The release commands, each a Swarm job on the cluster, before any service changes. */
  async releasePhase(artifact: Artifact, options: ReleasePhaseOptions): Promise<void> {
    const docker = await this.connect(options.env);
    const image = await serviceImage(docker, artifact, options.env);
    await runJobs(docker, 'release', artifact, image, options);
  }

  async deploy(artifact: Artifact, options: DeployOptions): Promise<Started> {
    const docker = await this.connect(options.env);
    const image = await serviceImage(docker, artifact, options.env);
    // Once per deploy, before the services change (a task Swarm restarts later does not run them again).
    await runJobs(docker, 'before_run', artifact, image, options);
    const publish = publishMode(options.env);
    const replicas = options.replicas ?? releasePolicy(artifact).replicas;
    const web = webWorkerName(artifact);
    if (web && publish === 'host') await refuseHostOverflow(docker, replicas);
    const jobs = Object.keys(artifact.runtime.scheduled ?? {});
    if (jobs.length > 0) options.log.warn(`scheduled jobs are not run by the swarm target yet: ${jobs.join(', ')} (use the process target, or a cron service of your own)`);
    if (image.pinned === false) options.log.warn(`image ${artifact.location} is not pinned by digest: only nodes that have image ${image.ref.slice(0, 19)} can run its tasks (push it to a registry for a cluster)`);

    const changes: Change[] = [];
    try {
      for (const name of Object.keys(artifact.runtime.workers)) {
        const spec = serviceSpec(artifact, options, { worker: name, image, publish, replicas, web: name === web });
        const existing = await findService(docker, spec.Name);
        if (existing) {
          const labels = existing.Spec?.Labels ?? {};
          if (labels[LABELS.app] !== options.paths.app || labels[LABELS.worker] !== name) {
            throw new Hop3Error('DEPLOY_WORKER_UNTRUSTED', `A Swarm service named ${spec.Name} exists and is not labelled as ${options.paths.app}'s ${name} worker; hop3 leaves it alone.`, {
              hint: `Remove or rename it (docker service rm ${spec.Name}), or run the app under another name.`,
            });
          }
          const from = labels[LABELS.release] ?? '?';
          spec.TaskTemplate.ForceUpdate = (existing.Spec?.TaskTemplate?.ForceUpdate ?? 0) + 1;
          await updateService(docker, existing, spec, { auth: image.auth });
          changes.push({ worker: name, id: existing.ID!, created: false, from, startedBefore: existing.UpdateStatus?.StartedAt });
          options.log.info(`updating service ${spec.Name} from release ${from} (${replicas} task${replicas === 1 ? '' : 's'}, ${spec.UpdateConfig.Order})`);
        } else {
          // The user's registry credentials go with the request (as `docker service create --with-registry-auth`): the nodes pull with them.
          const created = (await docker.createService(image.auth as Docker.AuthConfig, spec).catch((error: unknown) => {
            throw wrapError(error, 'DEPLOY_SWARM_SERVICE_FAILED', `The manager refused to create service ${spec.Name}`, 'Check the image and the artifact\'s runtime; the engine\'s reason is above.');
          })) as { id?: string; ID?: string };
          const id = created.id ?? created.ID ?? '';
          changes.push({ worker: name, id, created: true });
          options.log.info(`created service ${spec.Name} (${replicas} task${replicas === 1 ? '' : 's'})`);
        }
        await options.record({ name, id: changes.at(-1)!.id, handle: { service: spec.Name } });
      }
      if (web) options.log.step(`waiting until Swarm reports every task running and healthy (GET ${artifact.runtime.healthcheck_path || '/'} inside each task)`);
      // The first failure ends every wait: nothing keeps polling behind the error.
      const done = new AbortController();
      const signal = options.signal ? AbortSignal.any([options.signal, done.signal]) : done.signal;
      await Promise.all(
        changes.map((change) =>
          converge(docker, change, { artifact, options: { ...options, signal }, replicas }).catch((error: unknown) => {
            done.abort();
            throw error;
          }),
        ),
      );
    } catch (error) {
      const tails = await Promise.all(changes.map(async (c) => ({ worker: c.worker, text: await engineLogTail(engineLogsOf(docker), c.id, 15) })));
      await undo(docker, changes, options);
      throw withOutputTail(error, tails.filter((t) => t.text).map((t) => `[${t.worker}]\n${t.text}`).join('\n'));
    }
    const workers: WorkerRecord[] = changes.map((c) => ({ name: c.worker, id: c.id, handle: { service: serviceName(options.paths.app, c.worker) } }));
    return { url: web ? `http://${engineHost(options.env)}:${options.port}/` : null, workers };
  }

  /** Remove the services this release still owns; one a later release took over (updated) stays. */
  async stop(state: RunState, { env, log }: DeployerContext): Promise<void> {
    const docker = await this.connect(env);
    const refused: string[] = [];
    const removed: string[] = [];
    for (const worker of state.workers) {
      const info = worker.id ? await inspectService(docker, worker.id) : undefined;
      if (!info) continue; // gone already
      const labels = info.Spec?.Labels ?? {};
      if (labels[LABELS.app] !== state.app || labels[LABELS.worker] !== worker.name) {
        refused.push(`${worker.name}: service ${worker.id.slice(0, 12)} is not labelled as this app's ${worker.name} worker`);
        continue;
      }
      if (labels[LABELS.release] !== String(state.release)) continue; // release N+1 runs it now
      await removeService(docker, info.ID!);
      removed.push(info.ID!);
      log.info(`removed service ${info.Spec?.Name ?? worker.id.slice(0, 12)}`);
    }
    // A hop3 killed between creating a service and recording it leaves one only its labels name.
    const orphans = await docker.listServices({ filters: JSON.stringify({ label: [`${LABELS.app}=${state.app}`, `${LABELS.release}=${state.release}`] }) });
    for (const orphan of orphans.filter((s) => !state.workers.some((w) => w.id === s.ID))) {
      await removeService(docker, orphan.ID!);
      removed.push(orphan.ID!);
    }
    await waitContainersGone(docker, removed);
    if (refused.length > 0) {
      throw new Hop3Error('DEPLOY_WORKER_UNTRUSTED', `Refused to remove services of ${state.app} that hop3 did not create (${refused.join('; ')}).`, {
        hint: 'The run state was changed outside hop3 or is stale. Those services were left alone; check them with docker service ls.',
      });
    }
  }

  /** One entry per task that should run (replica), with its node; a service that is gone is one entry, down. */
  async status(state: RunState, { env }: DeployerContext): Promise<WorkerStatus[]> {
    const docker = this.engines.docker ?? createDockerClient(env);
    const nodes = new Map(((await docker.listNodes().catch(() => [])) as NodeInfo[]).map((n) => [n.ID ?? '', n.Description?.Hostname ?? n.ID ?? '']));
    const entries = await Promise.all(
      state.workers.map(async (worker): Promise<WorkerStatus[]> => {
        const info = worker.id ? await inspectService(docker, worker.id).catch(() => undefined) : undefined;
        if (!info) return [{ ...worker, running: false, state: 'missing', problem: 'its Swarm service is gone' }];
        const tasks = (await docker.listTasks({ filters: JSON.stringify({ service: [info.ID], 'desired-state': ['running'] }) })) as Task[];
        if (tasks.length === 0) return [{ ...worker, running: false, state: 'no task' }];
        return tasks
          .sort((a, b) => (a.Slot ?? 0) - (b.Slot ?? 0))
          .map((task) => {
            const taskState = task.Status?.State ?? 'unknown';
            const shown = taskState === 'complete' ? 'finished' : taskState;
            return {
              ...worker,
              running: taskState === 'running',
              state: shown,
              task: { id: task.ID ?? '', slot: task.Slot ?? null, node: nodes.get(task.NodeID ?? '') ?? task.NodeID ?? '(unassigned)' },
              ...(task.Status?.Err ? { problem: task.Status.Err } : {}),
            };
          });
      }),
    );
    return entries.flat();
  }

  async logs(state: RunState, options: LogOptions): Promise<void> {
    const docker = await this.connect(options.env);
    await writeEngineLogs(selectWorkers(state, options.worker), options, engineLogsOf(docker));
  }

  /** The image of a pruned release, on the manager; one still used (or another tag) stays. */
  async discard(artifact: Artifact, { env, log }: DeployerContext): Promise<void> {
    await removeImage(this.engines.docker ?? createDockerClient(env), artifact.location, log);
  }

  /** The manager's client: the daemon answers, and it manages a swarm. */
  private async connect(env: NodeJS.ProcessEnv): Promise<DockerClient> {
    const docker = this.engines.docker ?? createDockerClient(env);
    await daemonVersion(docker, env, 'DEPLOY_SWARM_DAEMON_UNREACHABLE');
    const { Swarm } = (await docker.info()) as { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } };
    if (Swarm?.LocalNodeState !== 'active' || !Swarm.ControlAvailable) {
      const where = env.DOCKER_HOST ? `DOCKER_HOST=${dockerHostOf(env)}` : 'the local Docker Engine';
      throw new Hop3Error('DEPLOY_SWARM_NOT_MANAGER', `${where} is not a Swarm manager (swarm ${Swarm?.LocalNodeState ?? 'unknown'}${Swarm?.LocalNodeState === 'active' ? ', this node is a worker' : ''}).`, {
        hint: 'Point DOCKER_HOST at a manager (tcp://HOST:2376 or ssh://user@HOST), or make this engine one: docker swarm init --advertise-addr <address>.',
      });
    }
    return docker;
  }
}

type NodeInfo = { ID?: string; Description?: { Hostname?: string }; Status?: { State?: string }; Spec?: { Availability?: string } };
type ServiceInfo = Docker.Service & { ID?: string; Version?: { Index?: number }; Spec?: SwarmServiceSpec; UpdateStatus?: { State?: string; StartedAt?: string; Message?: string } };

/** What deploy changed on the manager, to wait for and to undo. */
interface Change {
  worker: string;
  id: string;
  created: boolean;
  /** The release it ran before (updates). */
  from?: string;
  /** UpdateStatus.StartedAt before our update: a different one is ours. */
  startedBefore?: string | undefined;
}

interface ServiceImage {
  /** What the service runs: the pinned reference, else the image ID on this manager. */
  ref: string;
  pinned: boolean;
  /** The image's PATH, for PATH with path_prepend. */
  path: string;
  /** The user's credentials for the registry a pinned reference names, for the nodes' pulls. */
  auth?: RegistryAuth | undefined;
}

/** Pinned by digest: nodes pull exactly it. Else the image ID here: exactly this build, on nodes that have it. */
async function serviceImage(docker: DockerClient, artifact: Artifact, env: NodeJS.ProcessEnv): Promise<ServiceImage> {
  const pinned = /@sha256:[0-9a-f]{64}$/.test(artifact.location);
  const auth = pinned ? await registryAuthFor(artifact.location, env) : undefined;
  try {
    const info = await docker.getImage(artifact.location).inspect();
    const path = info.Config.Env?.find((entry) => entry.startsWith('PATH='))?.slice('PATH='.length) || DEFAULT_PATH;
    return { ref: pinned ? artifact.location : info.Id, pinned, path, auth };
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    if (pinned) return { ref: artifact.location, pinned, path: DEFAULT_PATH, auth };
    throw new Hop3Error('DEPLOY_SWARM_IMAGE_MISSING', `The image ${artifact.location} is not on the Swarm manager, and is not pinned by digest for the nodes to pull.`, {
      cause: error,
      hint: 'Build it on the manager (`hop3 build <dir> --builder docker` with the same DOCKER_HOST), or push it to a registry the nodes reach and run the pushed artifact.',
    });
  }
}

/** The artifact's before_run or release commands, in order, each a Swarm job of the release's image and environment. */
async function runJobs(docker: DockerClient, kind: 'before_run' | 'release', artifact: Artifact, image: ServiceImage, options: ReleasePhaseOptions): Promise<void> {
  const commands = kind === 'release' ? (artifact.runtime.release ?? []) : artifact.runtime.before_run;
  const env = containerEnv(artifact, kind, { port: webPort(artifact) ?? options.port, imagePath: image.path, generated: options.generatedEnv });
  for (const [index, command] of commands.entries()) {
    options.log.step(`${kind === 'release' ? `release phase of release ${options.release}` : 'before_run'} (Swarm job): ${command}`);
    await runSwarmJob(docker, {
      kind,
      name: `${serviceName(options.paths.app, kind.replace('_', '-'))}-${options.release}-${index + 1}`,
      command,
      image,
      env,
      labels: oneOffLabels(artifact, options, kind),
      workingDir: artifact.runtime.working_dir || undefined,
      log: options.log,
      signal: options.signal,
    });
  }
}

/** HOP3_SWARM_PUBLISH: ingress (Swarm's default: every node answers) or host (each task publishes on its own node). */
export function publishMode(env: NodeJS.ProcessEnv): PublishMode {
  const mode = env.HOP3_SWARM_PUBLISH || 'ingress';
  if (mode === 'ingress' || mode === 'host') return mode;
  throw new Hop3Error('DEPLOY_SWARM_PUBLISH_INVALID', `HOP3_SWARM_PUBLISH=${mode} is not a publish mode.`, {
    usage: true,
    hint: 'Use ingress (the routing mesh, for real clusters) or host (each node publishes its own task; works where the mesh does not).',
  });
}

/** In host mode each node binds the port once: more web replicas than ready nodes would wait forever. */
async function refuseHostOverflow(docker: DockerClient, replicas: number): Promise<void> {
  const nodes = (await docker.listNodes()) as NodeInfo[];
  const usable = nodes.filter((n) => n.Status?.State === 'ready' && n.Spec?.Availability === 'active').length;
  if (replicas > usable) {
    throw new Hop3Error('DEPLOY_SWARM_UNSUPPORTED', `${replicas} web replicas need ${replicas} nodes with HOP3_SWARM_PUBLISH=host (each node publishes the port once); this swarm has ${usable} ready, active node${usable === 1 ? '' : 's'}.`, {
      usage: true,
      hint: 'Lower --replicas ([run] replicas), add nodes, or publish through the routing mesh (HOP3_SWARM_PUBLISH=ingress).',
    });
  }
}

export const serviceName = (app: string, worker: string) => `hop3-${app}-${worker}`;

/** Where the published port answers from here: this host for a local engine, else DOCKER_HOST's host. */
function engineHost(env: NodeJS.ProcessEnv): string {
  const host = dockerHostOf(env);
  if (host.startsWith('unix://')) return '127.0.0.1';
  try {
    return new URL(host.includes('://') ? host.replace(/^[a-z]+:\/\//i, 'tcp://') : `tcp://${host}`).hostname || '127.0.0.1';
  } catch {
    return '127.0.0.1';
  }
}

interface SwarmServiceSpec {
  Name: string;
  Labels: Record<string, string>;
  TaskTemplate: {
    ContainerSpec: Record<string, unknown>;
    Resources?: { Limits?: { MemoryBytes?: number; NanoCPUs?: number } };
    RestartPolicy: Record<string, unknown>;
    ForceUpdate?: number;
  };
  Mode: { Replicated: { Replicas: number } };
  UpdateConfig: { Parallelism: number; Delay: number; FailureAction: string; Monitor: number; MaxFailureRatio: number; Order: 'stop-first' | 'start-first' };
  RollbackConfig: { Parallelism: number; Delay: number; FailureAction: string; Monitor: number; MaxFailureRatio: number; Order: 'stop-first' | 'start-first' };
  EndpointSpec: { Mode: 'vip'; Ports?: Array<{ Protocol: 'tcp'; TargetPort: number; PublishedPort: number; PublishMode: PublishMode }> };
}

/**
 * One worker's service. The release label sits on the tasks too, so every release rolls the tasks over.
 * Updates go one task at a time and roll back on the first failure; with host publishing the web worker's
 * old task stops first (one node binds its port once), otherwise the new task starts first.
 */
function serviceSpec(artifact: Artifact, options: DeployOptions, s: { worker: string; image: ServiceImage; publish: PublishMode; replicas: number; web: boolean }): SwarmServiceSpec {
  const listen = webPort(artifact) ?? options.port;
  const policy = releasePolicy(artifact);
  const labels = {
    ...extraLabels(options.env),
    [LABELS.app]: options.paths.app,
    [LABELS.worker]: s.worker,
    [LABELS.buildId]: artifact.build_id,
    [LABELS.release]: String(options.release),
  };
  const { Memory, NanoCpus } = containerLimits(artifact);
  const { CapDrop, CapAdd } = leastPrivilege(s.web ? listen : undefined);
  const order = s.web && s.publish === 'host' ? 'stop-first' : 'start-first';
  const command = artifact.runtime.workers[s.worker]!;
  return {
    Name: serviceName(options.paths.app, s.worker),
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: s.image.ref,
        Command: ['/bin/sh', '-c', command],
        // docker-init (tini) passes SIGTERM to the whole group: the app, not only the `sh -c` that waits for it, stops at once.
        Env: [...containerEnv(artifact, s.worker, { port: listen, imagePath: s.image.path, generated: options.generatedEnv }), 'TINI_KILL_PROCESS_GROUP=1'],
        ...(artifact.runtime.working_dir ? { Dir: artifact.runtime.working_dir } : {}),
        Labels: labels,
        // docker-init as PID 1: signals reach the app although `sh -c` runs it.
        Init: true,
        StopGracePeriod: STOP_GRACE_S * NS,
        CapabilityDrop: CapDrop,
        ...(CapAdd ? { CapabilityAdd: CapAdd } : {}),
        ...(s.web ? { Healthcheck: healthCheck(artifact, listen) } : {}),
      },
      ...(Memory || NanoCpus ? { Resources: { Limits: { ...(Memory ? { MemoryBytes: Memory } : {}), ...(NanoCpus ? { NanoCPUs: NanoCpus } : {}) } } } : {}),
      // Swarm restarts a crashed task up to max-restarts times within restart-window seconds.
      RestartPolicy: { Condition: 'on-failure', Delay: 1 * NS, MaxAttempts: policy.max_restarts, Window: Math.round(policy.restart_window * NS) },
    },
    Mode: { Replicated: { Replicas: s.replicas } },
    UpdateConfig: { Parallelism: 1, Delay: 0, FailureAction: 'rollback', Monitor: MONITOR_S * NS, MaxFailureRatio: 0, Order: order },
    RollbackConfig: { Parallelism: 0, Delay: 0, FailureAction: 'pause', Monitor: MONITOR_S * NS, MaxFailureRatio: 0, Order: order },
    EndpointSpec: { Mode: 'vip', ...(s.web ? { Ports: [{ Protocol: 'tcp', TargetPort: listen, PublishedPort: options.port, PublishMode: s.publish }] } : {}) },
  };
}

/**
 * The readiness rule of every deployer, run by the engine in each task: healthcheck_path answers 2xx
 * (containing `[healthcheck] contains`), else `/` answers below 500; failures in the first healthcheck_timeout
 * seconds (plus `[run] start-timeout`) do not count, then `[healthcheck] retries` failures make the task unhealthy.
 */
function healthCheck(artifact: Artifact, listen: number): Record<string, unknown> {
  const { healthcheck_path: path, healthcheck_timeout: timeout } = artifact.runtime;
  const { contains, interval = 2, retries = 3 } = healthProbe(artifact);
  const url = `http://127.0.0.1:${listen}${path ? (path.startsWith('/') ? path : `/${path}`) : '/'}`;
  const probeTimeout = Math.max(1, Math.min(interval, 5));
  return {
    Test: ['CMD-SHELL', healthCommand({ url, requireOk: Boolean(path), ...(contains !== undefined ? { contains } : {}), timeoutS: probeTimeout })],
    Interval: interval * NS,
    Timeout: (probeTimeout + 1) * NS,
    Retries: Math.max(1, retries),
    StartPeriod: ((startTimeout(artifact) ?? 0) + timeout) * NS,
  };
}

/** Describes the health check for messages. */
function healthDescription(artifact: Artifact): string {
  const { contains, interval = 2, retries = 3 } = healthProbe(artifact);
  const path = artifact.runtime.healthcheck_path;
  return `the health check (GET ${path || '/'} inside each task${path ? ` answering 2xx${contains ? ` containing ${JSON.stringify(contains)}` : ''}` : ' answering below 500'}, every ${interval} s, ${Math.max(1, retries)} failures after ${artifact.runtime.healthcheck_timeout} s)`;
}

async function findService(docker: DockerClient, name: string): Promise<ServiceInfo | undefined> {
  const found = (await docker.listServices({ filters: JSON.stringify({ name: [name] }) })) as ServiceInfo[];
  // The name filter matches prefixes.
  return found.find((s) => s.Spec?.Name === name);
}

async function inspectService(docker: DockerClient, id: string): Promise<ServiceInfo | undefined> {
  try {
    return (await docker.getService(id).inspect()) as ServiceInfo;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
}

/** POST /services/{id}/update at the version we read (a concurrent change is refused, not overwritten). */
async function updateService(docker: DockerClient, existing: ServiceInfo, spec: SwarmServiceSpec | undefined, { auth, rollback }: { auth?: RegistryAuth | undefined; rollback?: 'previous' }): Promise<void> {
  const query = { version: existing.Version?.Index, ...(rollback ? { rollback } : {}) };
  try {
    await docker.getService(existing.ID!).update(auth as Docker.AuthConfig, { _query: query, _body: spec ?? existing.Spec } as never);
  } catch (error) {
    throw wrapError(error, 'DEPLOY_SWARM_SERVICE_FAILED', `The manager refused to ${rollback ? 'roll back' : 'update'} service ${existing.Spec?.Name ?? existing.ID}`, 'Check the image and the artifact\'s runtime; the engine\'s reason is above.');
  }
}

/** How a task's error reads when its node could not pull the image (a refused login reads as a missing image). */
const PULL_FAILURE = /No such image|pull access denied|unauthorized|manifest unknown|not found: manifest/i;

interface ConvergeContext {
  artifact: Artifact;
  options: DeployOptions;
  replicas: number;
}

/** Wait until Swarm has done what the change asked: the update completed (or rolled back) and every task runs. */
async function converge(docker: DockerClient, change: Change, { artifact, options, replicas }: ConvergeContext): Promise<void> {
  const { healthcheck_timeout: timeout } = artifact.runtime;
  const { interval = 2, retries = 3 } = healthProbe(artifact);
  // One task after another: each may take the start period and its failed checks, then Swarm's monitor.
  const perTask = (startTimeout(artifact) ?? 0) + timeout + interval * (retries + 1) + MONITOR_S + STOP_GRACE_S + 10;
  const budgetMs = perTask * replicas * 1000;
  const deadline = Date.now() + budgetMs;
  const name = serviceName(options.paths.app, change.worker);
  const timedOut = (what: string) =>
    new Hop3Error('DEPLOY_SWARM_NOT_CONVERGED', `Service ${name} did not converge within ${Math.round((perTask * replicas))} s: ${what}.`, {
      timedOut: true,
      hint: 'See the tasks with `docker service ps --no-trunc ' + name + '`; a pending task may lack a node (constraints, host-mode port, resources).',
    });
  if (!change.created) {
    for (;;) {
      options.signal?.throwIfAborted();
      const info = await inspectService(docker, change.id);
      const update = info?.UpdateStatus;
      if (update?.StartedAt && update.StartedAt !== change.startedBefore) {
        if (update.State === 'completed') break;
        if (update.State?.startsWith('rollback') || update.State === 'paused') {
          // Reported once the previous release's tasks run again (healthy), so that it serves when hop3 says so.
          // The rollback stops the failed tasks and starts the previous ones (measured: 12 s of a 23 s budget on an idle
          // host): it gets a budget of its own, twice the update's, not what the failed update left of it.
          const rollbackMs = 2 * budgetMs;
          const unfinished = await waitRolledBack(docker, change.id, { replicas, deadline: Date.now() + rollbackMs, signal: options.signal });
          const failures = await failedTasks(docker, change.id, options.release);
          throw new Hop3Error(
            'DEPLOY_SWARM_ROLLED_BACK',
            `Swarm ${unfinished ? 'is rolling' : 'rolled'} service ${name} back to release ${change.from}: a task of release ${options.release} failed${change.worker === webWorkerName(artifact) ? ` ${healthDescription(artifact)}` : ''}${failures ? ` (${failures})` : ''}. Swarm said: ${update.Message ?? update.State}${unfinished ? `; after ${Math.round(rollbackMs / 1000)} s ${unfinished}` : ''}.`,
            { hint: `${unfinished ? `Swarm goes on rolling back to release ${change.from} (follow it with \`docker service ps --no-trunc ${name}\`).` : `Release ${change.from} keeps serving.`} Fix the app or its health check ([run] healthcheck / [healthcheck]), then deploy again; the task log tail is below.` },
          );
        }
      }
      if (Date.now() > deadline) throw timedOut(`the update is ${update?.State ?? 'not started'}`);
      await sleep(POLL_MS);
    }
  }
  for (;;) {
    options.signal?.throwIfAborted();
    const tasks = (await docker.listTasks({ filters: JSON.stringify({ service: [change.id] }) })) as Task[];
    const current = tasks.filter((t) => t.Spec?.ContainerSpec?.Labels?.[LABELS.release] === String(options.release));
    const up = current.filter((t) => t.DesiredState === 'running' && (t.Status?.State === 'running' || t.Status?.State === 'complete'));
    if (up.length >= replicas) return;
    const failed = current.find((t) => t.Status?.State === 'failed' || t.Status?.State === 'rejected');
    if (failed && change.created) {
      const reason = failed.Status?.Err ?? failed.Status?.State ?? 'failed';
      if (PULL_FAILURE.test(reason)) {
        throw new Hop3Error('DEPLOY_IMAGE_PULL_FAILED', `A node could not get the image of service ${name} (${reason}).`, {
          hint: `Check that every node reaches the registry, and that your Docker config (DOCKER_CONFIG, \`docker login ${registryHostOf(artifact.location) ?? '<registry>'}\`) has credentials for it: hop3 passes them to the nodes.`,
        });
      }
      throw new Hop3Error('DEPLOY_WORKER_EXITED', `A task of service ${name} failed before it was ${change.worker === webWorkerName(artifact) ? `healthy: ${healthDescription(artifact)} did not pass` : 'running'} (${failed.Status?.Err ?? failed.Status?.State}).`, {
        hint: 'Check the worker command and the log tail below.',
      });
    }
    if (Date.now() > deadline) {
      const states = current.filter((t) => t.DesiredState === 'running').map((t) => `${t.Status?.State}${t.Status?.Err ? ` (${t.Status.Err})` : ''}`);
      throw timedOut(`${up.length} of ${replicas} tasks running${states.length ? `; tasks: ${states.join(', ')}` : ''}`);
    }
    await sleep(POLL_MS);
  }
}

/** Wait (bounded) until Swarm's rollback is over and the previous release's tasks run; what is still unfinished otherwise. */
async function waitRolledBack(docker: DockerClient, id: string, { replicas, deadline, signal }: { replicas: number; deadline: number; signal?: AbortSignal | undefined }): Promise<string | undefined> {
  let state: string | undefined;
  while (Date.now() < deadline && !signal?.aborted) {
    state = (await inspectService(docker, id))?.UpdateStatus?.State;
    if (state === 'rollback_completed') break;
    if (state === 'rollback_paused' || state === 'paused') return `the rollback is ${state}`;
    await sleep(POLL_MS);
  }
  if (state !== 'rollback_completed') return `the rollback is still ${state ?? 'unknown'}`;
  let running = 0;
  while (Date.now() < deadline) {
    const tasks = (await docker.listTasks({ filters: JSON.stringify({ service: [id], 'desired-state': ['running'] }) }).catch(() => [])) as Task[];
    running = tasks.filter((t) => t.Status?.State === 'running').length;
    if (running >= replicas && running === tasks.length) return undefined;
    await sleep(POLL_MS);
  }
  return `${running} of ${replicas} tasks run again`;
}

/** Why the tasks of a release failed, as Swarm recorded it ("task: non-zero exit (137): dockerexec: unhealthy container"). */
async function failedTasks(docker: DockerClient, id: string, release: number): Promise<string> {
  const tasks = (await docker.listTasks({ filters: JSON.stringify({ service: [id] }) }).catch(() => [])) as Task[];
  const errors = tasks.filter((t) => t.Spec?.ContainerSpec?.Labels?.[LABELS.release] === String(release) && t.Status?.Err).map((t) => t.Status!.Err!);
  return [...new Set(errors)].join('; ');
}

/** After a failure: remove what this deploy created, and roll back what it updated unless Swarm already did. */
async function undo(docker: DockerClient, changes: readonly Change[], options: DeployOptions): Promise<void> {
  for (const change of changes) {
    try {
      if (change.created) {
        await removeService(docker, change.id);
        continue;
      }
      const info = await inspectService(docker, change.id);
      if (!info || info.UpdateStatus?.State?.startsWith('rollback')) continue;
      options.log.warn(`rolling service ${info.Spec?.Name} back to release ${change.from}`);
      await updateService(docker, info, undefined, { rollback: 'previous' });
      await waitRolledBack(docker, change.id, { replicas: info.Spec?.Mode?.Replicated?.Replicas ?? 1, deadline: Date.now() + 120_000 });
    } catch (error) {
      options.log.warn(`could not undo the change to service ${serviceName(options.paths.app, change.worker)}: ${isHop3Error(error) ? error.message : (error as Error).message}`);
    }
  }
  await waitContainersGone(docker, changes.filter((c) => c.created).map((c) => c.id));
}


/** Swarm removes a service's containers after the call returns: wait (bounded) so its port is free again. */
async function waitContainersGone(docker: DockerClient, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const deadline = Date.now() + REMOVE_WAIT_S * 1000;
  while (Date.now() < deadline) {
    // Label filters are ANDed: one query per service.
    const left = await Promise.all(ids.map((id) => docker.listContainers({ all: true, filters: JSON.stringify({ label: [`com.docker.swarm.service.id=${id}`] }) }).catch(() => [])));
    const tasks = (await docker.listTasks({ filters: JSON.stringify({ service: [...ids] }) }).catch(() => [])) as Task[];
    if (left.every((list) => list.length === 0) && tasks.length === 0) return;
    await sleep(POLL_MS);
  }
}
