import { stat } from 'node:fs/promises';
import path from 'node:path';
import { loadArtifact, parseArtifact, saveArtifact, checkArtifactTarget, type Artifact } from '../artifact/artifact-file.js';
import { locationKind } from '../artifact/location.js';
import { createDockerClient, daemonVersion } from '../engines/docker-client.js';
import { dockerConfigAuth, parseRegistry, pushImage, type RegistryAuth } from '../engines/docker-registry.js';
import { nixCopyTo, publicStoreUri, storeUriProblem } from '../engines/nix-store.js';
import { Hop3Error } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { appPaths } from '../state/hop3-home.js';

export interface PushRequest {
  /** An app (its latest build) or an artifact file. */
  target: string;
  /** Docker artifacts: `host[:port][/namespace]`. */
  registry?: string | undefined;
  /** Nix artifacts: the store to copy the closure to (`file:///cache`, `ssh://host`...). */
  store?: string | undefined;
  /** Nix artifacts: a secret key file (`nix key generate-secret`) the copied paths are signed with. */
  signKey?: string | undefined;
  /** Where the new artifact goes (default: beside the old one, `<name>.pushed.json`). */
  output?: string | undefined;
  /** `--username` / `--password-stdin`; else the user's Docker config. Never logged. */
  credentials?: { username: string; password: string } | undefined;
  env: NodeJS.ProcessEnv;
  log: Logger;
  signal?: AbortSignal | undefined;
}

export interface PushResult {
  /** The file the new artifact was written to. */
  file: string;
  artifact: Artifact;
  /** The location before the push. */
  from: string;
  /** Docker: the manifest digest the registry stored. */
  digest?: string;
  /** Nix: the store the closure was copied to (without its secret key). */
  store?: string;
}

/** Where the artifact a push starts from lives, and the artifact. */
async function sourceArtifact(target: string, env: NodeJS.ProcessEnv): Promise<{ file: string; artifact: Artifact }> {
  const isFile = (await stat(target).catch(() => undefined))?.isFile() ?? false;
  const file = isFile ? path.resolve(target) : appPaths(target, env).latestArtifact;
  return { file, artifact: await loadArtifact(file) };
}

/**
 * Make an artifact runnable on another host: a docker image goes to a registry and the new artifact names it by digest;
 * a nix closure goes to a store and the new artifact records where. The old artifact is left as it was.
 */
export async function pushArtifact(request: PushRequest): Promise<PushResult> {
  const { file: sourceFile, artifact } = await sourceArtifact(request.target, request.env);
  const output = request.output ? await checkArtifactTarget(request.output, '-o') : defaultOutput(sourceFile);
  const kind = locationKind(artifact.location);
  if (kind === 'host-path') {
    throw new Hop3Error('SHIP_LOCAL_ARTIFACT', `${artifact.app_name} build ${artifact.build_id} cannot be pushed: its location ${artifact.location} is a directory on this host (a ${artifact.builder} build).`, {
      usage: true,
      hint: 'Build it with `--builder docker` (push to a registry) or `--builder nix` (push to a Nix store) to run it elsewhere, or `hop3 bundle` it for a host with the same OS and interpreter.',
    });
  }
  if (kind === 'image') {
    if (!request.registry) throw usage(`${artifact.app_name} is a docker artifact: say where to push it with --registry host:port[/namespace].`, request.store ? '--store is for nix artifacts.' : undefined);
    if (request.store || request.signKey) throw usage('--store and --sign-key are for nix artifacts; a docker artifact goes to --registry.');
    return pushImageArtifact(artifact, request.registry, output, request);
  }
  if (!request.store) throw usage(`${artifact.app_name} is a nix artifact: say where to copy its closure with --store <uri> (e.g. file:///srv/nix-cache).`, request.registry ? '--registry is for docker artifacts.' : undefined);
  if (request.registry || request.credentials) throw usage('--registry and --username are for docker artifacts; a nix artifact goes to --store.');
  return pushStoreArtifact(artifact, request.store, output, request);
}

function usage(message: string, extra?: string): Hop3Error {
  return new Hop3Error('CLI_INVALID_OPTION', message, { usage: true, hint: `Run \`hop3 push --help\`.${extra ? ` ${extra}` : ''}` });
}

/** `x.json` → `x.pushed.json` beside it (the app's latest artifact: `BUILD_ARTIFACT.pushed.json` in its HOP3_HOME dir). */
function defaultOutput(file: string): string {
  return path.join(path.dirname(file), `${path.basename(file, '.json')}.pushed.json`);
}

async function pushImageArtifact(artifact: Artifact, spec: string, output: string, request: PushRequest): Promise<PushResult> {
  const registry = parseRegistry(spec);
  const repository = [registry.host, registry.namespace, artifact.app_name].filter(Boolean).join('/');
  const docker = createDockerClient(request.env);
  await daemonVersion(docker, request.env);
  const auth: RegistryAuth | undefined = request.credentials
    ? { ...request.credentials, serveraddress: registry.host }
    : await dockerConfigAuth(registry.host, request.env);
  request.log.step(`pushing ${artifact.location} to ${repository}:${artifact.build_id}${auth ? ` as ${auth.username}` : ''}`);
  const digest = await pushImage(docker, { image: artifact.location, repository, tag: artifact.build_id, auth, log: request.log });
  const location = `${repository}@${digest}`;
  request.log.step(`pushed: ${location}`);
  const pushed = parseArtifact(
    { ...artifact, location, metadata: { ...artifact.metadata, pushed: { from: artifact.location, registry: spec, repository, tag: artifact.build_id, digest } } },
    output,
  );
  await saveArtifact(output, pushed);
  return { file: output, artifact: pushed, from: artifact.location, digest };
}

async function pushStoreArtifact(artifact: Artifact, store: string, output: string, request: PushRequest): Promise<PushResult> {
  const problem = storeUriProblem(store);
  if (problem) throw new Hop3Error('SHIP_NIX_STORE_INVALID', `--store: ${problem}.`, { usage: true, hint: 'e.g. --store file:///srv/nix-cache, or --store ssh://deploy@prod.example.com' });
  let uri = store;
  if (request.signKey) {
    const key = path.resolve(request.signKey);
    if (!(await stat(key).catch(() => undefined))?.isFile()) {
      throw new Hop3Error('SHIP_NIX_STORE_INVALID', `--sign-key ${request.signKey}: no such file.`, { usage: true, hint: 'Make one with `nix key generate-secret --key-name NAME > key.sec`.' });
    }
    uri = `${store}${store.includes('?') ? '&' : '?'}secret-key=${key}`;
  }
  if ((await stat(artifact.location).catch(() => undefined)) === undefined) {
    throw new Hop3Error('SHIP_NIX_COPY_FAILED', `${artifact.location} is not in this host's store.`, { hint: 'Push from the host that built it, or rebuild it here (`hop3 build <dir> --builder nix`).' });
  }
  const recorded = publicStoreUri(store);
  request.log.step(`copying ${artifact.location} and its closure to ${recorded}${request.signKey ? ' (signed)' : ''}`);
  await nixCopyTo(uri, artifact.location, { env: request.env, log: request.log, signal: request.signal, code: 'SHIP_NIX_COPY_FAILED' });
  const pushed = parseArtifact({ ...artifact, metadata: { ...artifact.metadata, pushed: { from: artifact.location, store: recorded, signed: Boolean(request.signKey) } } }, output);
  await saveArtifact(output, pushed);
  return { file: output, artifact: pushed, from: artifact.location, store: recorded };
}
