import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { checkArtifactTarget, parseArtifact, saveArtifact, ARTIFACT_FILE_NAME, type Artifact } from '../src/artifact/artifact-file.js';
import { ARTIFACT_SCHEMA_VERSION } from '../src/artifact/schema.js';
import { loadAppConfig, type AppConfig } from '../src/config/app-config.js';
import { notActedOnWarning } from '../src/config/app-settings.js';
import { staticfileWarning } from '../src/config/staticfile.js';
import { Hop3Error } from '../src/errors.js';
import type { Logger } from '../src/log/logger.js';
import { redactor, type Redactor } from '../src/log/redactor.js';
import { mergeManifest } from '../src/manifest/merge-manifest.js';
import { networkEnv, resolveNetworkProfile, type NetworkOptions } from '../src/config/network-profile.js';
import { withAppLock } from '../src/state/app-lock.js';
import { ensureAppDirs } from '../src/state/app-dirs.js';
import { homeOf, homeWriteError, isDiskFault } from '../src/state/home-write-error.js';
import { appNameFromDir, appPaths, validateAppName, type AppPaths } from '../src/state/hop3-home.js';
import type { Builder } from './builder.js';
import { buildKey, findBuild, hop3Version } from './build-key.js';
import { buildTime, gitState, sourceDateEpoch } from './build-time.js';
import { provenanceInputs } from './provenance-inputs.js';
import { createBuildDir } from '../src/state/build-dirs.js';
import { planBuild, plannedSummary } from './plan-build.js';
import { resolveBuildSecrets, secretRequests, type SecretRequest } from './secrets/build-secrets.js';
import { effectiveSource } from './source-fetch.js';
import { digestSourceTree, listSourceTree } from './source-tree.js';
import type { Detection } from './toolchains/registry.js';

export interface BuildRequest {
  sourceDir: string;
  /** App name; defaults to the directory name. */
  name?: string;
  /** Overrides `[build] builder`; default local. */
  builder?: string;
  /** Also write the artifact here. */
  output?: string;
  baseImage?: string;
  /** `--secret`; added to `[build] secrets`, and wins for the same id. */
  secrets?: readonly SecretRequest[];
  /** `--ca-bundle`, `--proxy`: over `[build] ca-bundle`/`proxy` and the environment. */
  network?: NetworkOptions;
  /** Build even when a finished build of the same inputs exists (`--force`). */
  force?: boolean;
  /** No engine cache and no reused dependencies either (`hop3 build --check`'s second build); implies force. */
  fromScratch?: boolean;
  /** Reproducibility asked for without SOURCE_DATE_EPOCH (`hop3 build --check`, both builds). */
  reproducible?: boolean;
  /** The command line that asked for the build, as recorded in metadata.provenance_inputs (no paths, no secret sources). */
  commandLine?: readonly string[];
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** The clock, for builds whose time no SOURCE_DATE_EPOCH or clean git checkout gives. */
  now?: () => Date;
  signal?: AbortSignal;
}

export interface BuildResult {
  artifact: Artifact;
  /** The artifact inside the build's state dir. */
  artifactFile: string;
  detection: Detection;
  /** Masks the build's secrets, for what the caller prints next (a deploy's output and errors). */
  redact: Redactor;
  /** The build already existed (same key): nothing was copied, installed or written. */
  reused: boolean;
}

/** The build half of the pipeline: config -> toolchain -> builder -> manifest merge -> frozen, saved artifact. */
export async function buildApp(request: BuildRequest): Promise<BuildResult> {
  const appDir = await resolveSourceDir(request.sourceDir);
  const outputFile = request.output === undefined ? undefined : await checkArtifactTarget(request.output);
  const appConfig = await loadAppConfig(appDir);
  const appName = request.name !== undefined ? validateAppName(request.name) : appNameFromDir(appDir);
  const paths = appPaths(appName, request.env);
  const unacted = notActedOnWarning(appConfig.settings);
  if (unacted) request.log.warn(unacted);
  // The network profile is resolved once, from the app's own files: [source] downloads and every builder and tool of this build see the same CA, proxy and registries.
  const network = await resolveNetworkProfile({ env: request.env, appDir, settings: appConfig.settings.build, ...(appConfig.settings.file ? { settingsFile: appConfig.settings.file } : {}), ...(request.network ? { options: request.network } : {}) });
  const env = { ...request.env, ...networkEnv(network) };
  // With [source], the build reads the upstream code with the app's files over it (its digest covers both).
  await using source = await effectiveSource(appDir, appConfig.settings.source, { env, log: request.log, network, ...(request.signal ? { signal: request.signal } : {}) });
  const sourceDir = source.dir;
  const config = sourceDir === appDir ? appConfig : await loadAppConfig(sourceDir);
  const staticfile = staticfileWarning(config.staticfile);
  if (staticfile) request.log.warn(staticfile);
  // The source is digested while the plan loads the builder and detects the toolchain: together, they cost the longest one.
  const listing = listSourceTree(sourceDir, config.settings.build.ignore);
  const digest = listing.then((entries) => digestSourceTree(sourceDir, entries));
  digest.catch(() => undefined); // awaited below; a plan that fails first must not leave it unhandled
  const planned = await planBuild({
    sourceDir,
    config,
    appName,
    ...(request.builder !== undefined ? { builder: request.builder } : {}),
    ...(request.baseImage ? { baseImage: request.baseImage } : {}),
    env,
    sourceEntries: listing,
  });
  const sourceDigest = await digest;
  const { builder, detection, sourceEntries } = planned;
  const builderName = planned.choice.name;
  const requests = secretRequests(request.secrets ?? [], config);
  if (requests.length > 0) refuseSecrets(builder, requests);
  const secrets = await resolveBuildSecrets(requests, request.env);
  // A bad SOURCE_DATE_EPOCH is refused even when the unchanged build is reused (built_at is asked later); a set one asks for reproducibility.
  const reproducible = Boolean(request.reproducible) || sourceDateEpoch(request.env) !== undefined;
  // From here on, whatever is printed, logged or thrown has the secrets' values (registry tokens too) masked.
  const redact = redactor([...secrets.map((secret) => secret.value), ...network.secrets]);
  const log = redact.logger(request.log);
  try {
    log.step(`building ${appName} from ${appDir}`);
    for (const line of plannedSummary(planned)) log.info(`  ${line}`);
    for (const warning of planned.plan.warnings) log.warn(warning);
    for (const warning of network.warnings) log.warn(warning);
    if (network.caBundle || network.proxy.https) log.info(`network: ${[network.caBundle && `CA bundle ${network.caBundle.value} (${network.caBundle.source})`, network.proxy.https && `proxy from ${network.proxy.https.source}`].filter(Boolean).join(', ')}`);
    const choice = await detection.toolchain.describe?.(config);
    if (choice) log.info(choice);
    const key = await buildKey({
      appName,
      builder: builderName,
      toolchain: detection.toolchain.name,
      sourceDigest,
      ...(request.baseImage ? { baseImage: request.baseImage } : {}),
      secretIds: requests.map((r) => r.id),
      ...(request.env.HOP3_PYTHON ? { python: request.env.HOP3_PYTHON } : {}),
      ...(reproducible && builder.reproducibleDiffers ? { reproducible: true } : {}),
    });

    return await withAppLock(paths, async () => {
      await removeAbandonedBuilds(paths, log);
      const existing = request.force || request.fromScratch ? undefined : await findBuild(paths, key, builder);
      if (existing) {
        const { artifact, artifactFile } = existing;
        log.step(`unchanged: ${appName} build ${artifact.build_id} has the same inputs (${key.slice(0, 19)}); nothing to build (--force rebuilds)`);
        await saveArtifact(paths.latestArtifact, artifact);
        if (outputFile) await saveArtifact(outputFile, artifact);
        return { artifact, artifactFile, detection, redact, reused: true };
      }
      // The build's time and the checkout are asked once, before building (not for an unchanged build:
      // git is not part of the key): the same source gives the same built_at.
      const git = await gitState(appDir, env);
      const time = buildTime(env, git, request.now ?? (() => new Date()));
      const now = time.date;
      const build = builder.build({
        appName,
        sourceDir,
        config,
        toolchain: detection.toolchain,
        paths,
        sourceEntries,
        sourceDigest,
        buildKey: key,
        ...(request.baseImage ? { baseImage: request.baseImage } : {}),
        now,
        builtAtSource: time.source,
        env,
        network,
        secrets,
        log,
        ...(request.fromScratch ? { fromScratch: true } : {}),
        ...(reproducible ? { reproducible: true } : {}),
        ...(request.signal ? { signal: request.signal } : {}),
      });
      // A full or read-only disk under a build is HOP3_HOME's (reads never fail so): said so, with what to do.
      const output = await build.catch((error: unknown) => {
        throw isDiskFault(error) ? homeWriteError(error, paths.builds, homeOf(paths.root), `write the build of ${appName}`) : error;
      });
      const { toolchain } = detection;
      const manifest = mergeManifest({
        config,
        defaults: output.defaults,
        workingDir: output.workingDir,
        adaptWorker: (name, command) => toolchain.adaptWorker?.(name, command, { appRoot: output.workingDir }),
      });
      for (const warning of manifest.warnings) log.warn(warning);
      const toolchainFacts = (await toolchain.artifactMetadata?.(config)) ?? {};
      // Builder-reported inputs go into provenance_inputs, not next to the builder's own metadata.
      const { dependency_inputs: _inputs, engines: _engines, ...builderMetadata } = output.metadata;
      const provenanceInputsValue = await provenanceInputs({
        sourceDir,
        sourceEntries,
        sourceDigest,
        git,
        hop3Version: await hop3Version,
        builderMetadata: output.metadata,
        command: request.commandLine,
      });
      // Docker and Nix builders leave the dir to the pipeline: `<build_id>`, or `<build_id>.<n>` for a forced rebuild.
      const buildDirName = output.buildDir ?? (await createBuildDir(paths, output.buildId, appName)).name;
      const artifact = parseArtifact(
        {
          schema_version: ARTIFACT_SCHEMA_VERSION,
          kind: detection.toolchain.name,
          location: output.location,
          runtime: manifest.runtime,
          builder: builderName,
          app_name: appName,
          built_at: now.toISOString(),
          build_id: output.buildId,
          metadata: {
            ...builderMetadata,
            ...toolchainFacts,
            build_key: key,
            build_dir: buildDirName,
            built_at_source: time.source,
            source_digest: `sha256:${sourceDigest}`,
            provenance_inputs: provenanceInputsValue,
            ...(source.upstream ? { upstream_source: source.upstream } : {}),
            toolchain_reason: detection.reason,
            provenance: manifest.provenance,
            ...(config.settings.deploy.target ? { deploy_target: config.settings.deploy.target } : {}),
            ...(Object.keys(config.settings.health.probe).length > 0 ? { healthcheck: config.settings.health.probe } : {}),
            ...(Object.keys(config.settings.run.policy).length > 0 ? { release_policy: config.settings.run.policy } : {}),
            ...(config.settings.run.user ? { run_user: config.settings.run.user } : {}),
            ...runSettingsMetadata(config),
          },
        },
        `artifact of ${appName}`,
      );
      const buildDir = paths.build(buildDirName);
      await ensureAppDirs(paths, buildDir);
      const artifactFile = path.join(buildDir, ARTIFACT_FILE_NAME);
      await saveArtifact(artifactFile, artifact);
      await saveArtifact(paths.latestArtifact, artifact);
      if (outputFile) await saveArtifact(outputFile, artifact);
      log.step(`built ${appName} ${output.buildId} -> ${outputFile ?? artifactFile}`);
      return { artifact, artifactFile, detection, redact, reused: false };
    });
  } catch (error) {
    throw redact.error(error);
  }
}

/**
 * What the run side needs from hop3.toml beyond the runtime (whose schema is versioned): the web port, the
 * start timeout, which variables are generated (never their values) and the system packages, in metadata.
 */
function runSettingsMetadata({ settings }: AppConfig): Record<string, unknown> {
  const { run, build, generatedEnv } = settings;
  return {
    ...(run.webPort ? { web_port: run.webPort.port } : {}),
    ...(run.startTimeout !== undefined ? { start_timeout: run.startTimeout } : {}),
    ...(Object.keys(generatedEnv).length > 0 ? { generated_env: generatedEnv } : {}),
    ...(build.packages.length + run.packages.length > 0 ? { system_packages: { build: build.packages, run: run.packages } } : {}),
  };
}

/** Secrets go only to a builder that says it can keep them out of what it builds; nothing has been built yet. */
function refuseSecrets(builder: Builder, requests: readonly SecretRequest[]): void {
  const ids = requests.map((r) => r.id);
  const refusal = builder.refuseSecrets
    ? builder.refuseSecrets(ids)
    : new Hop3Error('BUILD_SECRETS_UNSUPPORTED', `The ${builder.name} builder does not take build secrets (${ids.join(', ')}). Nothing was built.`, {
        hint: 'Build with --builder local, or build without --secret / [build] secrets.',
      });
  if (refusal) throw refusal;
}

/**
 * A build dir without its artifact was left by a build that never finished (hop3 killed mid-build).
 * Under the app lock no other build is running, so it can go.
 */
async function removeAbandonedBuilds(paths: AppPaths, log: Logger): Promise<void> {
  const dirs = await readdir(paths.builds).catch(() => [] as string[]);
  await Promise.all(
    dirs.map(async (dir) => {
      const build = paths.build(dir);
      if (await stat(path.join(build, ARTIFACT_FILE_NAME)).catch(() => undefined)) return;
      log.info(`removing ${build}, left by a build that did not finish`);
      await rm(build, { recursive: true, force: true });
    }),
  );
}

/** The app's source dir, absolute; not a directory is BUILD_SOURCE_NOT_FOUND. */
export async function resolveSourceDir(dir: string): Promise<string> {
  const resolved = path.resolve(dir);
  const info = await stat(resolved).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new Hop3Error('BUILD_SOURCE_NOT_FOUND', `${resolved} is not a directory.`, {
      hint: 'Pass the path of the app source directory, e.g. `hop3 build ./my-app`.',
    });
  }
  return resolved;
}
