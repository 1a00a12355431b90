import { createHash } from 'node:crypto';
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { Artifact } from '../../src/artifact/artifact-file.js';
import type { ContainerResources } from '../../src/artifact/container-resources.js';
import { Hop3Error, wrapError } from '../../src/errors.js';
import { runCommand } from '../../src/process/run-command.js';
import { shellQuote } from '../../src/process/shell-quote.js';
import { hooksNotRun } from '../../src/config/build-hooks.js';
import { packagesNotAdded } from '../../src/config/system-packages.js';
import type { Availability, Builder, BuildDifference, BuilderEngines, BuilderPlan, BuildContext, BuildOutput, PlanContext } from '../builder.js';
import { diffImageContents, imageContents } from './image-diff.js';
import { digestSourceTree } from '../source-tree.js';
import { contextEntries, contextEpoch, packContext } from './build-context.js';
import { followBuildStream } from './build-stream.js';
import { createDockerClient, daemonVersion, type DockerClient } from '../../src/engines/docker-client.js';
import { extraLabels, LABELS } from '../../src/engines/labels.js';
import { CONTAINER_APP_ROOT, resolveDockerfile } from './resolve-dockerfile.js';
import { networkStage } from './network-stage.js';
import { untrustedCertificate, untrustedCertificateError } from '../../src/config/network-profile.js';
import { normaliseImage, type NormaliseRequest } from './image-normalise.js';

/** Docker repository path component (stricter than hop3 app names: no leading/trailing/double separators). */
const REPOSITORY_NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;


/**
 * Builds an image through the Engine API: a normalised, streamed tar context, the app's Dockerfile
 * or a generated one, an immutable tag `hop3/<app>:<build_id>` where build_id is derived from
 * everything that goes into the build, so identical inputs give the same tag.
 */
export class DockerBuilder implements Builder {
  readonly name = 'docker' as const;
  /** Its reproducible builds are normalised images (seconds of export and load), plain builds not. */
  readonly reproducibleDiffers = true;
  /** The daemon client: injected, else one for DOCKER_HOST of the environment. */
  constructor(private readonly engines: BuilderEngines) {}

  async available(): Promise<Availability> {
    const { env } = this.engines;
    const docker = this.engines.docker ?? createDockerClient(env);
    try {
      return { usable: true, detail: `Docker Engine ${await daemonVersion(docker, env)}` };
    } catch (error) {
      return { usable: false, detail: (error as Error).message, ...((error as Hop3Error).hint ? { hint: (error as Hop3Error).hint } : {}) };
    }
  }

  /**
   * The classic builder has no secret mounts, and the Engine API gives BuildKit's (`version=2`) only to a
   * client that serves them over a gRPC session (/session), which hop3 does not open. Build args would
   * stay in the image's history, so secrets are refused rather than passed some other way.
   */
  refuseSecrets(ids: readonly string[]): Hop3Error {
    return new Hop3Error('BUILD_DOCKER_SECRETS_UNSUPPORTED', `The docker builder cannot use build secrets (${ids.join(', ')}): the Engine API gives secret mounts only to a BuildKit session, which hop3 does not open, and build args would stay in the image's history. Nothing was built.`, {
      hint: 'Build with --builder local, or fetch what needs the secret before the build (e.g. vendor private packages into the app) and build without --secret / [build] secrets.',
    });
  }

  async isCurrent(artifact: Artifact): Promise<boolean> {
    const docker = this.engines.docker ?? createDockerClient(this.engines.env);
    const bases = (artifact.metadata.base_images ?? {}) as Record<string, string>;
    try {
      // The tag must still name the image the build made (and normalised): the artifact pins its content.
      if ((await docker.getImage(artifact.location).inspect()).Id !== artifact.metadata.image_id) return false;
      const now = await inspectBaseImages(docker, Object.keys(bases));
      return Object.entries(bases).every(([ref, id]) => now[ref] === id);
    } catch {
      return false; // gone, or the engine is down: building again says which
    }
  }

  /** By image ID; when they differ, the files of the build's own layers and the config fields that differ. */
  async compareBuilds(first: Artifact, second: Artifact): Promise<BuildDifference> {
    const docker = this.engines.docker ?? createDockerClient(this.engines.env);
    const ids = [String(first.metadata.image_id), String(second.metadata.image_id)] as [string, string];
    if (ids[0] === ids[1]) return { compared: 'image id', values: ids, files: [], fields: [] };
    const bases = Object.values((first.metadata.base_images ?? {}) as Record<string, string>);
    const [a, b] = await Promise.all(ids.map((id) => imageContents(docker, id, bases)));
    const difference = diffImageContents(a!, b!);
    // The layers' digests follow from the files, already listed.
    return { compared: 'image id', values: ids, files: difference.files, fields: difference.config.filter((field) => !field.startsWith('rootfs')) };
  }

  /** The check build's tag goes; its image too unless it is the checked build's (then only the tag is removed). */
  async discardCheckBuild(artifact: Artifact): Promise<void> {
    const docker = this.engines.docker ?? createDockerClient(this.engines.env);
    await docker
      .getImage(artifact.location)
      .remove()
      .catch(() => undefined); // already gone
  }

  /** The Dockerfile it would build with, its base images and RUN steps; no engine call (`available()` says whether the daemon answers). */
  async plan(ctx: PlanContext): Promise<BuilderPlan> {
    const dockerfile = await resolveDockerfile(ctx, await contextEntries(ctx.sourceDir, ctx.sourceEntries));
    const own = ctx.config.settings.docker.dockerfile ? `[docker] dockerfile in ${ctx.config.settings.file}` : 'Dockerfile found';
    const hooks = hooksNotRun(ctx.config, 'docker');
    const instructions = dockerfileInstructions(dockerfile.text);
    return {
      appRoot: dockerfile.generated ? CONTAINER_APP_ROOT : (instructions.workdir ?? '/'),
      steps: [
        { run: `docker build -t ${imageRepository(ctx.appName)}:<build_id> with ${dockerfile.origin}`, because: dockerfile.generated ? `hop3's ${ctx.toolchain.name} template: the app has no Dockerfile` : own },
        {
          run: `base images: ${dockerfile.baseImages.join(', ') || 'none'}`,
          because: `${dockerfile.baseImageFrom ? `BASE_IMAGE from ${dockerfile.baseImageFrom}; ` : ''}hop3 never pulls: they must be on the Docker host`,
        },
        ...instructions.run.map((command) => ({ run: `RUN ${command}` })),
      ],
      warnings: [...(hooks ? [hooks] : []), ...(dockerfile.generated ? [] : packagesNotAdded(ctx.config, dockerfile.origin))],
      ...(dockerfile.generated ? {} : { runtimeFromBuild: `the image's WORKDIR, and its ENTRYPOINT/CMD as the web worker when the app names no worker` }),
    };
  }

  async build(ctx: BuildContext): Promise<BuildOutput> {
    const docker = this.engines.docker ?? createDockerClient(ctx.env);
    const repository = imageRepository(ctx.appName);
    const [serverVersion, entries, sourceLabels] = await Promise.all([daemonVersion(docker, ctx.env), contextEntries(ctx.sourceDir, ctx.sourceEntries), describeSource(ctx)]);
    const [sourceDigest, dockerfile] = await Promise.all([
      // The pipeline's digest covers the same files unless .dockerignore removed some.
      entries.length === ctx.sourceEntries.length ? ctx.sourceDigest : digestSourceTree(ctx.sourceDir, entries),
      resolveDockerfile(ctx, entries),
    ]);
    const baseImageIds = await inspectBaseImages(docker, dockerfile.baseImages);
    const { target } = ctx.config.settings.docker;

    const buildId = createHash('sha256')
      .update(
        JSON.stringify({
          v: 1,
          app: ctx.appName,
          source: sourceDigest,
          dockerfile: [dockerfile.path, dockerfile.text],
          extras: dockerfile.extras.map((extra) => [extra.path, createHash('sha256').update(extra.content).digest('hex')]),
          args: Object.entries(dockerfile.buildArgs).sort(([a], [b]) => a.localeCompare(b)),
          target: target ?? null,
          bases: baseImageIds,
          // Labels end up in the image, so they are inputs too.
          labels: sourceLabels,
        }),
      )
      .digest('hex')
      .slice(0, 16);
    // A check build (`hop3 build --check`) gets a tag of its own: the build it checks keeps its tag whatever happens.
    const mainTag = `${repository}:${buildId}`;
    const tag = ctx.fromScratch ? `${mainTag}-check` : mainTag;

    const labels: Record<string, string> = {
      'org.opencontainers.image.created': await createdTime(docker, mainTag, ctx),
      'org.opencontainers.image.title': ctx.appName,
      ...sourceLabels,
      ...extraLabels(ctx.env),
      [LABELS.app]: ctx.appName,
      [LABELS.buildId]: buildId,
    };

    const dependencies = dockerfile.dependencyFiles ? `, dependencies installed from ${dockerfile.dependencyFiles.join(', ')} first` : '';
    ctx.log.step(`docker build ${tag} (${dockerfile.origin}${dockerfile.generated ? `, base ${dockerfile.buildArgs.BASE_IMAGE}` : ''}, ${entries.length} context entries${dependencies})`);
    // The classic builder turns each label given through the API into a step of its own (a container
    // commit each); a generated Dockerfile carries them all in one LABEL instruction instead.
    // The network (CA, registries, proxy) is not in the build id: it changes how the build reaches its registries, not what it makes.
    const network = await networkStage(ctx.network, dockerfile);
    if (network.files.length > 0) ctx.log.info(`network settings for the build stage: ${network.files.map((file) => file.path).join(', ')} (not in the final image)`);
    const text = dockerfile.generated ? `${network.text}\nLABEL ${Object.entries(labels).map(([k, v]) => `${JSON.stringify(k)}=${JSON.stringify(v)}`).join(' ')}\n` : dockerfile.text;
    const extras = [...(dockerfile.sendText ? [{ path: dockerfile.path, content: Buffer.from(text) }] : []), ...dockerfile.extras, ...network.files];
    const context = packContext({ sourceDir: ctx.sourceDir, entries, extras, epoch: contextEpoch(ctx.env) });
    let contextError: Error | undefined;
    context.on('error', (error: Error) => {
      contextError = error;
    });
    let imageId: string;
    let cache: { steps: number; cached: number };
    try {
      const stream = await docker.buildImage(context, {
        t: tag,
        dockerfile: dockerfile.path,
        // Docker's predefined proxy args: used by RUN steps, kept out of the image's history and the artifact.
        buildargs: { ...dockerfile.buildArgs, ...network.buildArgs },
        ...(dockerfile.generated ? {} : { labels }),
        ...(target ? { target } : {}),
        rm: true,
        forcerm: true,
        ...(ctx.fromScratch ? { nocache: true } : {}),
        ...(ctx.signal ? { abortSignal: ctx.signal } : {}),
      });
      ({ imageId, cache } = await followBuildStream(stream, ctx.log, `${ctx.appName} (${dockerfile.origin})`));
    } catch (error) {
      throw buildError(error, contextError, ctx);
    }
    ctx.log.step(`docker build: ${cache.cached} of ${cache.steps} steps from cache`);
    const built = imageId;
    if (ctx.reproducible) imageId = await normaliseBuiltImage(docker, { imageId, tag, baseImageIds: Object.values(baseImageIds), epoch: contextEpoch(ctx.env) }, ctx);
    // A check build's own image, and the intermediate images only it has (no cache was used), are of no further use.
    if (ctx.fromScratch && built !== imageId) await docker.getImage(built).remove().catch(() => undefined);

    const config = dockerfile.generated ? undefined : (await docker.getImage(imageId).inspect()).Config;
    const workingDir = config ? config.WorkingDir || '/' : CONTAINER_APP_ROOT;
    const defaults = await ctx.toolchain.defaults(ctx.config, { appRoot: workingDir });
    // An own Dockerfile says how to start the app in its ENTRYPOINT/CMD, unless the app names its workers elsewhere.
    const command = [...(config?.Entrypoint ?? []), ...(config?.Cmd ?? [])];
    if (command.length > 0 && !namesWorkers(ctx) && Object.keys(defaults.workers).length === 0) defaults.workers.web = command.map(shellQuote).join(' ');
    ctx.log.step(`image ${imageId.slice(0, 19)} tagged ${tag}`);
    return {
      buildId,
      location: tag,
      workingDir,
      defaults,
      metadata: {
        image_id: imageId,
        docker_server_version: serverVersion,
        dockerfile: dockerfile.origin,
        base_images: baseImageIds,
        build_args: dockerfile.buildArgs,
        // How much came from the engine's cache describes this run, not the image: a build asked to be reproducible
        // (SOURCE_DATE_EPOCH) leaves it to the log, so that its artifact is the same bytes whatever the cache held.
        ...(ctx.builtAtSource === 'SOURCE_DATE_EPOCH' ? {} : { build_cache: { steps: cache.steps, cached_steps: cache.cached } }),
        ...containerResources(ctx),
      },
    };
  }
}

/** `[docker] memory` / `cpus`, recorded for the container deployer (the artifact is all it reads). */
function containerResources(ctx: BuildContext): { resources?: ContainerResources } {
  const { memoryBytes, cpus } = ctx.config.settings.docker;
  if (memoryBytes === undefined && cpus === undefined) return {};
  return { resources: { ...(memoryBytes !== undefined ? { memory_bytes: memoryBytes } : {}), ...(cpus !== undefined ? { nano_cpus: Math.round(cpus * 1e9) } : {}) } };
}

function namesWorkers(ctx: BuildContext): boolean {
  return Object.keys(ctx.config.procfile?.parsed.workers ?? {}).length > 0 || Object.keys(ctx.config.settings.run.workers).length > 0;
}

/** A Dockerfile's RUN commands and its last absolute WORKDIR (where the image's app lives), continuation lines joined. */
function dockerfileInstructions(text: string): { run: string[]; workdir?: string } {
  const run: string[] = [];
  let workdir: string | undefined;
  for (const raw of text.replace(/\\\r?\n/g, ' ').split(/\r?\n/)) {
    const line = raw.trim().replace(/\s+/g, ' ');
    const instruction = /^(RUN|WORKDIR)\s+(.*)$/i.exec(line);
    if (instruction?.[1]!.toUpperCase() === 'RUN') run.push(instruction[2]!);
    else if (instruction && instruction[2]!.startsWith('/') && !instruction[2]!.includes('$')) workdir = instruction[2]!;
  }
  return { run, ...(workdir ? { workdir } : {}) };
}

export function imageRepository(app: string): string {
  if (!REPOSITORY_NAME.test(app)) {
    throw new Hop3Error('BUILD_DOCKER_INVALID_NAME', `The app name ${JSON.stringify(app)} cannot be a Docker repository name (hop3/${app}).`, {
      hint: 'Docker names are lowercase letters and digits separated by single ".", "_" or "-" (e.g. --name my-app).',
    });
  }
  return `hop3/${app}`;
}

/** Base image reference -> image ID; hop3 never pulls implicitly, so a missing one is an error now, not a pull later. */
async function inspectBaseImages(docker: DockerClient, refs: readonly string[]): Promise<Record<string, string>> {
  const ids = await Promise.all(
    refs.map(async (ref) => {
      try {
        return [ref, (await docker.getImage(ref).inspect()).Id] as const;
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode !== 404) throw error;
        throw new Hop3Error('BUILD_DOCKER_BASE_IMAGE_MISSING', `The base image ${ref} is not on this Docker host (hop3 does not pull implicitly).`, {
          cause: error,
          hint: `Pull it (\`docker pull ${ref}\`), or build hop3's local images (\`bash docker/base-images.sh\`) and choose one with --base-image, [docker] base-image or HOP3_DOCKER_BASE_IMAGE (e.g. hop3/base-runtime:bookworm).`,
        });
      }
    }),
  );
  return Object.fromEntries(ids);
}

/** OCI source labels from git when the app is in a work tree: revision and remote URL. */
async function describeSource(ctx: BuildContext): Promise<Record<string, string>> {
  if (!(await insideGitWorkTree(ctx.sourceDir))) return {}; // spares two git processes per build
  const git = async (...args: string[]) => {
    const result = await runCommand('git', ['-C', ctx.sourceDir, ...args], { env: ctx.env, timeoutMs: 5000 });
    return result.failed ? '' : result.stdout.trim();
  };
  const [revision, source] = await Promise.all([git('rev-parse', 'HEAD'), git('config', '--get', 'remote.origin.url')]);
  if (!revision) return {};
  return { 'org.opencontainers.image.revision': revision, ...(source ? { 'org.opencontainers.image.source': source } : {}) };
}

async function insideGitWorkTree(dir: string): Promise<boolean> {
  for (let current = dir; ; current = path.dirname(current)) {
    if (await access(path.join(current, '.git')).then(() => true, () => false)) return true;
    if (path.dirname(current) === current) return false;
  }
}

/**
 * The build's time (built_at) when it comes from SOURCE_DATE_EPOCH or a clean checkout's commit; else the time
 * of the first build of this build_id, so that rebuilding identical inputs reuses every cached layer and yields the very same image.
 */
async function createdTime(docker: DockerClient, tag: string, ctx: BuildContext): Promise<string> {
  if (ctx.builtAtSource !== 'clock') return ctx.now.toISOString();
  const existing = await docker
    .getImage(tag)
    .inspect()
    .catch(() => undefined);
  return existing?.Config.Labels?.['org.opencontainers.image.created'] ?? ctx.now.toISOString();
}

/** The built image rewritten to be reproducible (image-normalise.ts); its new id, under the same tag. */
async function normaliseBuiltImage(docker: DockerClient, request: Omit<NormaliseRequest, 'docker'>, ctx: BuildContext): Promise<string> {
  const started = performance.now();
  const normalised = await normaliseImage({ docker, ...request }).catch((error: unknown) => {
    throw wrapError(error, 'BUILD_DOCKER_NORMALISE_FAILED', `Cannot make the image of ${ctx.appName} reproducible (save, rewrite, load)`, 'Check the daemon log and the free space of the temp dir and of Docker\'s data dir, then build again.');
  });
  const dropped = normalised.dropped.length > 0 ? `, ${normalised.dropped.length} cache/log files dropped` : '';
  ctx.log.step(`normalised image: ${normalised.rewritten} layers rewritten, times set to ${new Date(request.epoch * 1000).toISOString()}${dropped} (${Math.round(performance.now() - started)} ms)`);
  return normalised.imageId;
}

function buildError(error: unknown, contextError: Error | undefined, ctx: BuildContext): unknown {
  if (contextError) {
    return new Hop3Error('BUILD_DOCKER_CONTEXT', `Could not send the build context of ${ctx.sourceDir}: ${contextError.message}`, {
      cause: contextError,
      hint: 'A file changed or became unreadable while the context was sent; check permissions and retry.',
    });
  }
  if (error instanceof Hop3Error) {
    // A registry behind a TLS-intercepting proxy: say which settings fix it, not only what npm or pip printed.
    const tls = error.code === 'BUILD_DOCKER_BUILD_FAILED' ? untrustedCertificate(`${error.message}\n${error.outputTail ?? ''}`) : undefined;
    return tls ? untrustedCertificateError(tls, `Docker build of ${ctx.appName}`, ctx.network, error) : error;
  }
  return new Hop3Error('BUILD_DOCKER_BUILD_FAILED', `Docker build of ${ctx.appName} failed: ${(error as Error).message}`, {
    cause: error,
    hint: 'Check the Dockerfile and the daemon log.',
  });
}
