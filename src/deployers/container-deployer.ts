import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { createDockerClient, daemonVersion, type DockerClient } from '../engines/docker-client.js';
import { pinnedDigest, pullImage, registryAuthFor } from '../engines/docker-registry.js';
import { extraLabels, LABELS } from '../engines/labels.js';
import type { Artifact } from '../artifact/artifact-file.js';
import { Hop3Error, tail, withOutputTail, wrapError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { RunState, WorkerRecord } from '../state/releases.js';
import { selectWorkers, type Started, type Deployer, type DeployerContext, type DeployerEngines, type DeployOptions, type LogOptions, type ReleasePhaseOptions, type WorkerStatus } from './deployer.js';
import { containerLimits } from '../artifact/container-resources.js';
import { decodeLogFrames, engineLogTail, writeEngineLogs, type EngineLogs } from './log-frames.js';
import { waitForWorkers } from './readiness.js';
import { releasePolicy, webPort } from './release-policy.js';
import { appVariables, webWorkerName } from './worker-env.js';

/** Seconds a container gets to stop on SIGTERM before SIGKILL. */
const STOP_TIMEOUT_S = 5;
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Runs image references: one container per worker, the web port published on 127.0.0.1. */
export class ContainerDeployer implements Deployer {
  readonly name = 'container';

  /** The daemon client: injected, else one for DOCKER_HOST of each call's environment. */
  constructor(private readonly engines: DeployerEngines = {}) {}

  /** The daemon answers and has the image; one pinned by digest (a pushed artifact) is pulled when missing, and must be the build's image. */
  async check(artifact: Artifact, ctx: DeployerContext): Promise<void> {
    await ensureImage(await this.connect(ctx.env), artifact, ctx);
  }

  /** The release commands, each in a one-off container of the image, like before_run. */
  async releasePhase(artifact: Artifact, options: ReleasePhaseOptions): Promise<void> {
    const docker = await this.connect(options.env);
    const imagePath = await ensureImage(docker, artifact, options);
    for (const command of artifact.runtime.release ?? []) {
      options.log.step(`release phase of release ${options.release} (one-off container): ${command}`);
      await runOnce(docker, { kind: 'release', image: artifact.location, command, env: containerEnv(artifact, 'release', { port: webPort(artifact) ?? options.port, imagePath, generated: options.generatedEnv }), labels: oneOffLabels(artifact, options, 'release'), workingDir: artifact.runtime.working_dir || undefined, log: options.log });
    }
  }

  async deploy(artifact: Artifact, options: DeployOptions): Promise<Started> {
    const docker = await this.connect(options.env);
    const imagePath = await ensureImage(docker, artifact, options);
    // The app listens on its own port inside the container when it names one ([port] web); the host side is hop3's.
    const listen = webPort(artifact) ?? options.port;
    const env = (worker: string) => containerEnv(artifact, worker, { port: listen, imagePath, generated: options.generatedEnv });
    const labels = (worker: string) => oneOffLabels(artifact, options, worker);
    const workingDir = artifact.runtime.working_dir || undefined;
    const limits = containerLimits(artifact);

    for (const command of artifact.runtime.before_run) {
      options.log.step(`before_run (one-off container): ${command}`);
      await runOnce(docker, { kind: 'before_run', image: artifact.location, command, env: env('before_run'), labels: labels('before_run'), workingDir, log: options.log });
    }
    const jobs = Object.keys(artifact.runtime.scheduled ?? {});
    // Running them would need hop3's supervisor (node) in every image: said at each deploy instead of silently dropped.
    if (jobs.length > 0) options.log.warn(`scheduled jobs are not run by the container target yet: ${jobs.join(', ')} (use the process target, or the host's cron with \`docker exec\`)`);

    const web = webWorkerName(artifact);
    const started: WorkerRecord[] = [];
    try {
      for (const [name, command] of Object.entries(artifact.runtime.workers)) {
        const port = `${listen}/tcp`;
        const container = await createContainer(docker, name, {
          name: `hop3-${options.paths.app}-${name}-${randomBytes(3).toString('hex')}`,
          Image: artifact.location,
          Cmd: ['/bin/sh', '-c', command],
          Env: env(name),
          ...(workingDir ? { WorkingDir: workingDir } : {}),
          Labels: labels(name),
          ...(name === web ? { ExposedPorts: { [port]: {} } } : {}),
          HostConfig: {
            // docker-init as PID 1: signals reach the app and `stop` is quick even though `sh -c` runs it.
            Init: true,
            // The engine supervises: a crash is restarted (with its own backoff) up to max-restarts times.
            RestartPolicy: { Name: 'on-failure', MaximumRetryCount: releasePolicy(artifact).max_restarts },
            ...leastPrivilege(name === web ? listen : undefined),
            ...limits,
            ...(name === web ? { PortBindings: { [port]: [{ HostIp: '127.0.0.1', HostPort: String(options.port) }] } } : {}),
          },
        });
        started.push({ name, id: container.id });
        await options.record({ name, id: container.id });
        await container.start().catch((error: unknown) => {
          throw wrapError(error, 'DEPLOY_CONTAINER_START_FAILED', `The engine could not start worker ${name} from ${artifact.location}`, 'Check that the image has /bin/sh and the working directory the artifact names; the engine\'s reason is above.');
        });
        options.log.info(`started ${name} (container ${container.id.slice(0, 12)})`);
      }
      const url = await waitForWorkers(artifact, options, {
        failed: async () => {
          for (const worker of started) {
            const { State, RestartCount } = await docker.getContainer(worker.id).inspect();
            // A non-web worker that exits 0 is finished (on-failure does not restart it): done, not failed.
            if (!State.Running && !State.Restarting && State.ExitCode === 0 && RestartCount === 0 && worker.name !== web) continue;
            // The restart policy would hide a crash loop: one restart is already a failure.
            if (!State.Running || State.Restarting || RestartCount > 0) return `Worker ${worker.name} exited (code ${State.ExitCode})`;
          }
          return undefined;
        },
      });
      return { url, workers: started };
    } catch (error) {
      const tails = await Promise.all(started.map(async (w) => `[${w.name}]\n${await engineLogTail(engineLogsOf(docker), w.id, 15)}`));
      await Promise.all(started.map((w) => removeContainer(docker, w.id)));
      throw withOutputTail(error, tails.join('\n'));
    }
  }

  async stop(state: RunState, { env, log }: DeployerContext): Promise<void> {
    const docker = await this.connect(env);
    const refused: string[] = [];
    await Promise.all(
      state.workers.map(async (worker) => {
        const labels = await docker
          .getContainer(worker.id)
          .inspect()
          .then((info) => info.Config.Labels ?? {})
          .catch(() => undefined);
        if (labels === undefined) return; // gone already
        if (labels[LABELS.app] !== state.app || labels[LABELS.worker] !== worker.name) {
          refused.push(`${worker.name}: container ${worker.id.slice(0, 12)} is not labelled as this app's ${worker.name} worker`);
          return;
        }
        await removeContainer(docker, worker.id);
        log.info(`stopped ${worker.name} (container ${worker.id.slice(0, 12)})`);
      }),
    );
    // A hop3 killed between creating a container and recording it leaves one only its labels name.
    const orphans = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABELS.app}=${state.app}`, `${LABELS.release}=${state.release}`] }) });
    await Promise.all(orphans.filter((c) => !state.workers.some((w) => w.id === c.Id)).map((c) => removeContainer(docker, c.Id)));
    if (refused.length > 0) {
      throw new Hop3Error('DEPLOY_WORKER_UNTRUSTED', `Refused to stop containers of ${state.app} that hop3 did not start (${refused.join('; ')}).`, {
        hint: 'The run state was changed outside hop3 or is stale. Those containers were left alone; check them with docker ps.',
      });
    }
  }

  /** The image of a pruned release; one still used by a container (or another tag) stays. */
  async discard(artifact: Artifact, { env, log }: DeployerContext): Promise<void> {
    await removeImage(this.engines.docker ?? createDockerClient(env), artifact.location, log);
  }

  async status(state: RunState, { env }: DeployerContext): Promise<WorkerStatus[]> {
    const docker = this.engines.docker ?? createDockerClient(env);
    return Promise.all(
      state.workers.map(async (worker) => {
        const info = await docker
          .getContainer(worker.id)
          .inspect()
          .catch(() => undefined);
        if (!info) return { ...worker, running: false };
        const { State, RestartCount } = info;
        const state = State.Running ? (State.Restarting ? 'restarting' : 'running') : State.ExitCode === 0 ? 'finished' : 'failed';
        return {
          ...worker,
          running: state === 'running',
          restarts: RestartCount,
          state,
          ...(state === 'failed' ? { problem: `exited (code ${State.ExitCode}) after ${RestartCount} restarts` } : {}),
        };
      }),
    );
  }

  async logs(state: RunState, options: LogOptions): Promise<void> {
    const docker = await this.connect(options.env);
    await writeEngineLogs(selectWorkers(state, options.worker), options, engineLogsOf(docker));
  }


  private async connect(env: NodeJS.ProcessEnv): Promise<DockerClient> {
    const docker = this.engines.docker ?? createDockerClient(env);
    await daemonVersion(docker, env, 'DEPLOY_CONTAINER_DAEMON_UNREACHABLE');
    return docker;
  }

}

/**
 * Least privilege for every container hop3 starts: never privileged, no capability (a web app needs
 * none; NET_BIND_SERVICE comes back only to listen on a port below 1024), and no privilege gained
 * through setuid binaries. Ports are published on 127.0.0.1 only (see deploy).
 */
export function leastPrivilege(listenPort?: number): { Privileged: false; CapDrop: string[]; CapAdd?: string[]; SecurityOpt: string[] } {
  return {
    Privileged: false,
    CapDrop: ['ALL'],
    ...(listenPort !== undefined && listenPort < 1024 ? { CapAdd: ['NET_BIND_SERVICE'] } : {}),
    SecurityOpt: ['no-new-privileges'],
  };
}

/**
 * Hop3's worker environment, inside a container: the app's variables (appVariables), then what hop3 sets.
 * BIND_ADDRESS is 0.0.0.0 because the published port reaches the container from outside its
 * loopback; the host side is bound to 127.0.0.1, so the app is still not exposed beyond this host.
 * PORT is the port the app listens on in the container (`[port] web`, else the host port).
 */
export function containerEnv(artifact: Artifact, worker: string, options: { port: number; imagePath: string; generated: Readonly<Record<string, string>> | undefined }): string[] {
  const hop3 = {
    APP: artifact.app_name,
    PROC_TYPE: worker,
    BIND_ADDRESS: '0.0.0.0',
    PATH: [...artifact.runtime.path_prepend, options.imagePath].join(':'),
    PORT: String(options.port),
  };
  return Object.entries(appVariables(artifact, hop3, { generated: options.generated })).map(([key, value]) => `${key}=${value}`);
}

/**
 * The image's own PATH (path_prepend goes in front of it). A missing image pinned by digest (`hop3 push` wrote the
 * artifact) is pulled by that digest; any other missing image is a clear error (tags are never pulled: they move).
 */
async function ensureImage(docker: DockerClient, artifact: Artifact, ctx: DeployerContext): Promise<string> {
  const image = artifact.location;
  let info = await inspectImage(docker, image);
  const digest = pinnedDigest(image);
  if (!info && digest) {
    ctx.log.step(`pulling ${image} (not on this Docker host)`);
    await pullImage(docker, image, { auth: await registryAuthFor(image, ctx.env), log: ctx.log, code: 'DEPLOY_IMAGE_PULL_FAILED' });
    info = await inspectImage(docker, image);
    if (!info) throw new Hop3Error('DEPLOY_IMAGE_PULL_FAILED', `Pulled ${image}, yet the Docker host does not have it.`, { hint: 'Retry; if it persists, check the daemon\'s logs.' });
  }
  if (!info) {
    throw new Hop3Error('DEPLOY_CONTAINER_IMAGE_MISSING', `The image ${image} is not on this Docker host.`, {
      hint: 'Build it here (`hop3 build <dir> --builder docker`), push it from the build host (`hop3 push <app> --registry <host>`) and run the pushed artifact, or load it (`docker save` there, `docker load` here).',
    });
  }
  if (digest) checkDigest(artifact, info, digest);
  return info.Config.Env?.find((entry) => entry.startsWith('PATH='))?.slice('PATH='.length) || DEFAULT_PATH;
}

async function inspectImage(docker: DockerClient, image: string): Promise<Docker.ImageInspectInfo | undefined> {
  try {
    return await docker.getImage(image).inspect();
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw wrapError(error, 'DEPLOY_CONTAINER_DAEMON_UNREACHABLE', `Cannot inspect the image ${image}`, 'Check the Docker daemon (hop3 doctor).');
  }
}

/**
 * The image under a pinned reference is the build's: the engine holds it under that repo digest, and its ID is the
 * image_id the build recorded (a location edited to another digest of the same registry is refused, not run).
 */
function checkDigest(artifact: Artifact, info: Docker.ImageInspectInfo, digest: string): void {
  const repository = artifact.location.slice(0, artifact.location.lastIndexOf('@'));
  const expectedId = typeof artifact.metadata.image_id === 'string' ? artifact.metadata.image_id : undefined;
  const held = (info.RepoDigests ?? []).includes(`${repository}@${digest}`);
  if (held && (!expectedId || info.Id === expectedId)) return;
  throw new Hop3Error(
    'DEPLOY_IMAGE_DIGEST_MISMATCH',
    held
      ? `${artifact.location} is image ${info.Id}, not the image ${expectedId} that build ${artifact.build_id} made: the artifact's location does not match its build.`
      : `The image found for ${artifact.location} is not held under that digest (its repo digests: ${(info.RepoDigests ?? []).join(', ') || 'none'}).`,
    { hint: 'Do not edit artifacts by hand: push the build again (`hop3 push`) and run the artifact it writes.' },
  );
}

/** Labels of every container of a release: the worker (or one-off: before_run, release) it runs. */
export function oneOffLabels(artifact: Artifact, options: ReleasePhaseOptions, worker: string): Record<string, string> {
  return {
    ...extraLabels(options.env),
    [LABELS.app]: options.paths.app,
    [LABELS.worker]: worker,
    [LABELS.buildId]: artifact.build_id,
    [LABELS.release]: String(options.release),
  };
}

interface OneOff {
  kind: 'before_run' | 'release';
  image: string;
  command: string;
  env: string[];
  labels: Record<string, string>;
  workingDir: string | undefined;
  log: Logger;
}

/** A one-off command of an image failed (in a container, or a Swarm job): the deploy stops, the running release serves. */
export function oneOffFailed(run: Pick<OneOff, 'kind' | 'command' | 'image'>, outcome: { where: string; exitCode?: number | undefined; reason?: string | undefined; output: string }): Hop3Error {
  const how = outcome.exitCode !== undefined ? `exit code ${outcome.exitCode}` : (outcome.reason ?? 'it did not run');
  const details = { command: run.command, ...(outcome.exitCode !== undefined ? { exitCode: outcome.exitCode } : {}), outputTail: tail(outcome.output) };
  return run.kind === 'release'
    ? new Hop3Error('DEPLOY_CONTAINER_RELEASE_FAILED', `release command \`${run.command}\` failed in ${outcome.where} of ${run.image} (${how}); the release was not started.`, {
        ...details,
        hint: 'Fix the command (the Procfile release line) and deploy again; the running release, if any, keeps serving.',
      })
    : new Hop3Error('DEPLOY_CONTAINER_BEFORE_RUN_FAILED', `before_run command \`${run.command}\` failed in ${outcome.where} of ${run.image} (${how}); no worker was started.`, {
        ...details,
        hint: 'Fix the command ([run] before-run in hop3.toml or the Procfile prerun line) and rebuild; the previous release keeps running.',
      });
}

/** Run a command to completion in a throwaway container of the image; a non-zero exit fails the deploy. */
async function runOnce(docker: DockerClient, run: OneOff): Promise<void> {
  const container = await docker.createContainer({
    Image: run.image,
    Cmd: ['/bin/sh', '-c', run.command],
    Env: run.env,
    ...(run.workingDir ? { WorkingDir: run.workingDir } : {}),
    Labels: run.labels,
    HostConfig: { Init: true, ...leastPrivilege() },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const output = decodeLogFrames(await container.logs({ stdout: true, stderr: true, follow: false }));
    for (const line of output.split('\n').filter(Boolean)) run.log.output(line);
    if (StatusCode !== 0) throw oneOffFailed(run, { where: 'a container', exitCode: StatusCode, output });
  } finally {
    await removeContainer(docker, container.id);
  }
}


/** Create a worker's container; the engine refusing (bad image config, name clash) is a coded error. */
async function createContainer(docker: DockerClient, worker: string, spec: Docker.ContainerCreateOptions): Promise<Docker.Container> {
  try {
    return await docker.createContainer(spec);
  } catch (error) {
    throw wrapError(error, 'DEPLOY_CONTAINER_START_FAILED', `The engine refused to create worker ${worker} from ${spec.Image}`, 'Check the image and the artifact\'s runtime; the engine\'s reason is above.');
  }
}

/** Stop and remove; a container that is already gone is fine. */
async function removeContainer(docker: DockerClient, id: string): Promise<void> {
  const container = docker.getContainer(id);
  await container.stop({ t: STOP_TIMEOUT_S }).catch(() => undefined);
  await container.remove({ force: true }).catch((error: { statusCode?: number }) => {
    if (error.statusCode !== 404) throw error;
  });
}

/** The engine's logs of a container (dockerode types each `follow` its own way). */
function engineLogsOf(docker: DockerClient): EngineLogs {
  return (id, { follow, ...options }) => (follow ? docker.getContainer(id).logs({ ...options, follow: true }) : docker.getContainer(id).logs({ ...options, follow: false }));
}

/** Remove a pruned release's image; the engine keeps one a container still uses (or another tag names), and says why. */
export async function removeImage(docker: DockerClient, image: string, log: Logger): Promise<void> {
  await docker
    .getImage(image)
    .remove()
    .then(
      () => log.info(`removed image ${image}`),
      (error: { statusCode?: number; message?: string }) => {
        if (error.statusCode !== 404) log.warn(`kept image ${image}: ${error.message ?? error}`);
      },
    );
}
