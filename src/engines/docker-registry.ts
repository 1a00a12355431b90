import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import { Hop3Error, tail, type ErrorCode } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { DockerClient } from './docker-client.js';

/** Credentials for one registry, as the Engine's X-Registry-Auth wants them. Never logged. */
export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress: string;
}

/** `host[:port]/a/b` as `--registry` gives it: the registry host and the repository namespace under it. */
export interface RegistrySpec {
  host: string;
  namespace: string;
}

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]{1,5})?$/;
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
export const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Parse `--registry`: a host (with a dot, a port or `localhost`, as Docker tells a registry from a Hub namespace) and lowercase path components. */
export function parseRegistry(spec: string): RegistrySpec {
  const bad = (why: string) =>
    new Hop3Error('SHIP_REGISTRY_INVALID', `--registry ${JSON.stringify(spec)}: ${why}.`, {
      usage: true,
      hint: 'Give host:port[/namespace], e.g. --registry registry.example.com/team or --registry 127.0.0.1:5000.',
    });
  const trimmed = spec.replace(/^(?:https?|docker):\/\//, '').replace(/\/+$/, '');
  const [host = '', ...parts] = trimmed.split('/');
  if (!HOST.test(host)) throw bad('the registry host is not a host name or address');
  if (!host.includes('.') && !host.includes(':') && host !== 'localhost') throw bad('the first part must be a registry host (with a dot or a port, or localhost), not a Docker Hub namespace');
  for (const part of parts) if (!COMPONENT.test(part)) throw bad(`${JSON.stringify(part)} is not a repository path component (lowercase letters, digits, ".", "_", "-")`);
  return { host, namespace: parts.join('/') };
}

/** The registry host of an image reference (`127.0.0.1:5000/ns/app@sha256:…`), or undefined for Docker Hub. */
export function registryHostOf(reference: string): string | undefined {
  const [first = '', ...rest] = reference.split('/');
  if (rest.length === 0) return undefined;
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : undefined;
}

/** `repo@sha256:…` pinned references: the digest, else undefined. */
export function pinnedDigest(reference: string): string | undefined {
  const at = reference.lastIndexOf('@');
  const digest = at < 0 ? undefined : reference.slice(at + 1);
  return digest && DIGEST.test(digest) ? digest : undefined;
}

/** The user's credentials for the registry an image reference names (none for Docker Hub or when none are configured). */
export async function registryAuthFor(reference: string, env: NodeJS.ProcessEnv): Promise<RegistryAuth | undefined> {
  const host = registryHostOf(reference);
  return host ? dockerConfigAuth(host, env) : undefined;
}

const DockerConfig = z.looseObject({
  auths: z.record(z.string(), z.looseObject({ auth: z.string().optional(), username: z.string().optional(), password: z.string().optional(), identitytoken: z.string().optional() })).optional(),
  credsStore: z.string().optional(),
  credHelpers: z.record(z.string(), z.string()).optional(),
});

/**
 * The credentials the user's Docker client would use for `host`: `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`),
 * from `auths` or the credential helper it names (`credHelpers`, `credsStore`). None configured: undefined (anonymous).
 */
export async function dockerConfigAuth(host: string, env: NodeJS.ProcessEnv): Promise<RegistryAuth | undefined> {
  const file = path.join(env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), '.docker'), 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw authError(`Cannot read the Docker client config ${file}: ${(error as Error).message}`, 'Fix its permissions, or pass --username and --password-stdin.');
  }
  let config: z.infer<typeof DockerConfig>;
  try {
    config = DockerConfig.parse(JSON.parse(text));
  } catch {
    throw authError(`The Docker client config ${file} is not valid JSON in the expected shape.`, 'Fix it (docker login rewrites it), or pass --username and --password-stdin.');
  }
  const helper = config.credHelpers?.[host] ?? config.credsStore;
  const entry = Object.entries(config.auths ?? {}).find(([key]) => authKeyHost(key) === host)?.[1];
  if (entry?.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), serveraddress: host };
  }
  if (entry?.username && entry.password) return { username: entry.username, password: entry.password, serveraddress: host };
  if (helper) return credentialHelper(helper, host, env);
  return undefined;
}

/** `https://host/v1/`, `host`: the host an `auths` key is for. */
function authKeyHost(key: string): string {
  return key.replace(/^[a-z]+:\/\//, '').split('/')[0]!;
}

/** `docker-credential-<name> get`, the host on stdin: `{ Username, Secret }`, or nothing stored for it. */
async function credentialHelper(name: string, host: string, env: NodeJS.ProcessEnv): Promise<RegistryAuth | undefined> {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw authError(`The Docker config names a credential helper ${JSON.stringify(name)} that is not a program name.`, 'Fix credsStore/credHelpers in the Docker config.');
  const program = `docker-credential-${name}`;
  const { code, stdout, stderr, spawnError } = await new Promise<{ code: number | null; stdout: string; stderr: string; spawnError?: Error }>((resolve) => {
    const child = spawn(program, ['get'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', (error) => resolve({ code: null, stdout: out, stderr: err, spawnError: error }));
    child.once('close', (exit) => resolve({ code: exit, stdout: out, stderr: err }));
    child.stdin.end(host);
  });
  if (spawnError) throw authError(`The Docker config's credential helper ${program} cannot run: ${spawnError.message}`, `Install ${program}, or pass --username and --password-stdin.`);
  if (code !== 0) {
    if (/credentials not found/i.test(stdout + stderr)) return undefined;
    throw authError(`${program} get failed for ${host} (exit code ${code}): ${tail(stderr || stdout, 3)}`, 'Log in again (`docker login`), or pass --username and --password-stdin.');
  }
  try {
    const answer = z.object({ Username: z.string(), Secret: z.string() }).parse(JSON.parse(stdout));
    return { username: answer.Username, password: answer.Secret, serveraddress: host };
  } catch {
    throw authError(`${program} get answered something that is not {Username, Secret} for ${host}.`, 'Pass --username and --password-stdin instead.');
  }
}

function authError(message: string, hint: string): Hop3Error {
  return new Hop3Error('SHIP_REGISTRY_AUTH', message, { hint });
}

const ProgressMessage = z.looseObject({
  id: z.string().optional(),
  status: z.string().optional(),
  progress: z.string().optional(),
  error: z.string().optional(),
  errorDetail: z.looseObject({ message: z.string().optional() }).optional(),
  aux: z.looseObject({ Digest: z.string().optional() }).optional(),
});

interface StreamOutcome {
  failure?: string;
  digest?: string;
  lines: string[];
}

/** Follow a push or pull stream: a line per layer status change (progress at most once a second per layer); `errorDetail` is the failure (the HTTP status is 200 even then). */
async function followProgress(stream: NodeJS.ReadableStream, log: Logger): Promise<StreamOutcome> {
  const outcome: StreamOutcome = { lines: [] };
  const lastStatus = new Map<string, string>();
  const lastProgress = new Map<string, number>();
  const handle = (raw: string) => {
    let message: z.infer<typeof ProgressMessage>;
    try {
      message = ProgressMessage.parse(JSON.parse(raw));
    } catch {
      return; // not one of the engine's messages: nothing to report
    }
    if (message.error !== undefined || message.errorDetail !== undefined) {
      outcome.failure ??= (message.errorDetail?.message ?? message.error ?? 'unknown error').trim();
      return;
    }
    if (message.aux?.Digest) outcome.digest = message.aux.Digest;
    if (!message.status) return;
    const id = message.id ?? '';
    const line = `${id ? `${id}: ` : ''}${message.status}`;
    if (lastStatus.get(id) === message.status) {
      const now = Date.now();
      if (!message.progress || now - (lastProgress.get(id) ?? 0) < 1000) return;
      lastProgress.set(id, now);
      log.output(`${line} ${message.progress.replace(/\s+/g, ' ')}`);
      return;
    }
    lastStatus.set(id, message.status);
    outcome.lines.push(line);
    log.output(line);
  };
  let pending = '';
  for await (const chunk of stream) {
    const parts = (pending + chunk.toString()).split('\n');
    pending = parts.pop() ?? '';
    for (const part of parts) if (part.trim()) handle(part);
  }
  if (pending.trim()) handle(pending);
  return outcome;
}

/** The registry refused the credentials (or asked for some): a SHIP_REGISTRY_AUTH error rather than a generic failure. */
function failureCode(reason: string, otherwise: ErrorCode): ErrorCode {
  return /unauthorized|authentication required|no basic auth credentials|denied/i.test(reason) ? 'SHIP_REGISTRY_AUTH' : otherwise;
}

export interface PushRequest {
  /** The local image (its tag or ID). */
  image: string;
  /** `host/ns/app`: where it goes. */
  repository: string;
  tag: string;
  auth?: RegistryAuth | undefined;
  log: Logger;
}

/**
 * Push a local image as `repository:tag` and return the manifest digest the registry stored. The extra tag
 * made for the push is removed afterwards (the image keeps its own tags and gains the repo digest).
 */
export async function pushImage(docker: DockerClient, request: PushRequest): Promise<string> {
  const target = `${request.repository}:${request.tag}`;
  try {
    await docker.getImage(request.image).tag({ repo: request.repository, tag: request.tag });
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    throw new Hop3Error('SHIP_PUSH_FAILED', status === 404 ? `The image ${request.image} is not on this Docker host.` : `Cannot tag ${request.image} as ${target}: ${(error as Error).message}`, {
      cause: error,
      hint: status === 404 ? 'Push from the host that built it, or rebuild it here (`hop3 build <dir> --builder docker`).' : 'Check the Docker daemon (hop3 doctor).',
    });
  }
  try {
    let outcome: StreamOutcome;
    try {
      const stream = (await docker.getImage(target).push({ tag: request.tag, authconfig: request.auth ?? {} })) as NodeJS.ReadableStream;
      outcome = await followProgress(stream, request.log);
    } catch (error) {
      throw new Hop3Error('SHIP_PUSH_FAILED', `Pushing ${target} failed: ${(error as Error).message}`, { cause: error, hint: 'Check that the registry is reachable from the Docker daemon.' });
    }
    if (outcome.failure !== undefined) {
      const code = failureCode(outcome.failure, 'SHIP_PUSH_FAILED');
      throw new Hop3Error(code, `Pushing ${target} failed: ${outcome.failure}`, {
        outputTail: tail(outcome.lines.join('\n')),
        hint:
          code === 'SHIP_REGISTRY_AUTH'
            ? `Log in to ${registryHostOf(target) ?? 'the registry'} (\`docker login\`), or pass --username and --password-stdin.`
            : 'Check that the registry is up and reachable from the Docker daemon (a registry on another host needs TLS, or an insecure-registries entry in the daemon config).',
      });
    }
    if (!outcome.digest || !DIGEST.test(outcome.digest)) {
      throw new Hop3Error('SHIP_PUSH_FAILED', `Pushing ${target} finished without the registry's manifest digest.`, { outputTail: tail(outcome.lines.join('\n')), hint: 'Retry; if it persists, check the registry\'s logs.' });
    }
    return outcome.digest;
  } finally {
    await docker.getImage(target).remove({ noprune: true }).catch(() => undefined); // only the push's own tag: the image stays
  }
}

/** Pull `reference` (normally pinned by digest) into the local engine; errors are `code` (auth ones SHIP_REGISTRY_AUTH). */
export async function pullImage(docker: DockerClient, reference: string, options: { auth?: RegistryAuth | undefined; log: Logger; code: ErrorCode }): Promise<void> {
  let outcome: StreamOutcome;
  try {
    const stream = (await docker.pull(reference, { authconfig: options.auth ?? {} })) as NodeJS.ReadableStream;
    outcome = await followProgress(stream, options.log);
  } catch (error) {
    const reason = (error as Error).message;
    throw new Hop3Error(failureCode(reason, options.code), `Pulling ${reference} failed: ${reason.replace(/^\(HTTP code \d+\) [a-z ]+- /, '').trim()}`, {
      cause: error,
      hint: /manifest unknown|not found/i.test(reason)
        ? 'The registry has no image with that digest: the artifact\'s location was changed, or the registry lost the image. Push the build again.'
        : `Check that the registry is reachable from the Docker daemon and that you may pull from it (\`docker login ${registryHostOf(reference) ?? ''}\`).`,
    });
  }
  if (outcome.failure !== undefined) {
    throw new Hop3Error(failureCode(outcome.failure, options.code), `Pulling ${reference} failed: ${outcome.failure}`, {
      outputTail: tail(outcome.lines.join('\n')),
      hint: 'Check that the registry is up and that it still has the image.',
    });
  }
}
