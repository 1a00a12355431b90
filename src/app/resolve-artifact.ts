import { stat } from 'node:fs/promises';
import path from 'node:path';
import { BUILDER_NAMES, isBuilderName } from '../../builders/registry.js';
import { Hop3Error } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { appNameFromDir, appPaths, validateAppName } from '../state/hop3-home.js';
import { loadArtifact, type Artifact } from '../artifact/artifact-file.js';

export interface ResolveRequest {
  /** App name, or app source directory. */
  target: string;
  artifactFile?: string;
  name?: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  signal?: AbortSignal;
}

export interface ResolvedArtifact {
  app: string;
  artifact: Artifact;
}

/**
 * Which artifact `hop3 run` means: --artifact, else the app's latest build.
 * A directory with no build yet is built on the fly; a corrupt artifact is an error, never a silent rebuild.
 */
export async function resolveArtifact(request: ResolveRequest): Promise<ResolvedArtifact> {
  const resolved = await findArtifact(request);
  return { ...resolved, artifact: knownBuilder(resolved.artifact, request.artifactFile ?? resolved.app) };
}

/** An artifact from a builder this hop3 does not have cannot be trusted to run as its builder meant. */
function knownBuilder(artifact: Artifact, source: string): Artifact {
  if (!isBuilderName(artifact.builder)) {
    throw new Hop3Error('ARTIFACT_UNKNOWN_BUILDER', `${source}: built by a builder this hop3 does not know (${JSON.stringify(artifact.builder)}).`, {
      hint: `Builders here: ${BUILDER_NAMES.join(', ')}. Run it with the hop3 that built it, or rebuild it here.`,
    });
  }
  return artifact;
}

async function findArtifact(request: ResolveRequest): Promise<ResolvedArtifact> {
  const isDir = (await stat(request.target).catch(() => undefined))?.isDirectory() ?? false;
  if (request.artifactFile) {
    const artifact = await loadArtifact(path.resolve(request.artifactFile));
    const app = request.name ?? (isDir ? artifact.app_name : validateAppName(request.target));
    return { app: validateAppName(app), artifact };
  }
  const app = request.name !== undefined ? validateAppName(request.name) : isDir ? appNameFromDir(request.target) : validateAppName(request.target);
  const latest = appPaths(app, request.env).latestArtifact;
  const hasBuild = (await stat(latest).catch(() => undefined))?.isFile() ?? false;
  if (hasBuild) return { app, artifact: await loadArtifact(latest) };
  if (!isDir) {
    throw new Hop3Error('ARTIFACT_NOT_FOUND', `App ${app} has no build yet (no ${latest}).`, {
      hint: `Build it first with \`hop3 build <dir> --name ${app}\`, pass the app directory, or give --artifact <file>.`,
    });
  }
  request.log.step(`${app} has no artifact yet: building it now (legacy path)`);
  const { buildApp } = await import('../../builders/build-app.js'); // the build half loads only when needed
  const { artifact } = await buildApp({ sourceDir: request.target, name: app, env: request.env, log: request.log, ...(request.signal ? { signal: request.signal } : {}) });
  return { app, artifact };
}
