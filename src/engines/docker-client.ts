import { readFileSync } from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { Hop3Error, type ErrorCode } from '../errors.js';

export type DockerClient = Docker;

const DEFAULT_SOCKET = '/var/run/docker.sock';

/** Where DOCKER_HOST (from the given env, not necessarily process.env) points, for messages. */
export function dockerHostOf(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_HOST || `unix://${DEFAULT_SOCKET}`;
}

/**
 * A client for the daemon DOCKER_HOST names (unix://, tcp:// with TLS from DOCKER_TLS_VERIFY/DOCKER_CERT_PATH,
 * or ssh://[user@]host[:port], where the remote `docker system dial-stdio` reaches its daemon, authenticated by
 * the ssh agent of SSH_AUTH_SOCK as the docker CLI does).
 * No API version is pinned: the daemon answers in its own version, and hop3 only uses fields
 * that exist in API 1.41 (Engine 20.10), so that older and newer engines both work.
 */
export function createDockerClient(env: NodeJS.ProcessEnv = process.env): DockerClient {
  const host = dockerHostOf(env);
  if (host.startsWith('unix://')) return new Docker({ socketPath: host.slice('unix://'.length) || DEFAULT_SOCKET });
  const scheme = host.includes('://') ? host.slice(0, host.indexOf('://')).toLowerCase() : 'tcp';
  if (scheme === 'ssh') return sshClient(host, env);
  if (scheme !== 'tcp' && scheme !== 'http' && scheme !== 'https') throw invalidHost(host);
  let url: URL;
  try {
    // Parsed as tcp:// whatever the scheme: URL drops a port equal to http's or https's own (https://h:443 has no port).
    url = new URL(`tcp://${host.includes('://') ? host.slice(host.indexOf('://') + 3) : host}`);
  } catch {
    throw invalidHost(host);
  }
  if (!url.hostname) throw invalidHost(host);
  const tls = env.DOCKER_TLS_VERIFY === '1' || scheme === 'https' || url.port === '2376';
  const certs = tls && env.DOCKER_CERT_PATH ? readCerts(env.DOCKER_CERT_PATH) : {};
  return new Docker({ host: url.hostname, port: url.port || (tls ? 2376 : 2375), protocol: tls ? 'https' : 'http', ...certs });
}

function sshClient(host: string, env: NodeJS.ProcessEnv): DockerClient {
  let url: URL;
  try {
    url = new URL(`ssh://${host.slice('ssh://'.length)}`);
  } catch {
    throw invalidHost(host);
  }
  if (!url.hostname || (url.pathname !== '' && url.pathname !== '/')) throw invalidHost(host);
  return new Docker({
    protocol: 'ssh',
    host: url.hostname,
    port: url.port || 22,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    sshOptions: { ...(env.SSH_AUTH_SOCK ? { agent: env.SSH_AUTH_SOCK } : {}) },
  } as Docker.DockerOptions);
}

function readCerts(dir: string): { ca: Buffer; cert: Buffer; key: Buffer } {
  try {
    const read = (file: string) => readFileSync(path.join(dir, file));
    return { ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') };
  } catch (error) {
    throw new Hop3Error('BUILD_DOCKER_TLS_CERTS', `Cannot read the Docker TLS certificates in DOCKER_CERT_PATH=${dir}: ${(error as Error).message}`, {
      cause: error,
      hint: 'DOCKER_CERT_PATH must hold ca.pem, cert.pem and key.pem.',
    });
  }
}

function invalidHost(host: string): Hop3Error {
  return new Hop3Error('BUILD_DOCKER_HOST_INVALID', `DOCKER_HOST=${host} is not a Docker address hop3 can use.`, {
    hint: 'Use unix:///var/run/docker.sock, tcp://HOST:PORT or ssh://USER@HOST, or unset DOCKER_HOST for the default socket.',
  });
}

/** Ping the daemon and return its version; an unreachable daemon is a clear error naming DOCKER_HOST. */
export async function daemonVersion(docker: DockerClient, env: NodeJS.ProcessEnv, code: ErrorCode = 'BUILD_DOCKER_DAEMON_UNREACHABLE'): Promise<string> {
  try {
    const version = (await docker.version()) as { Version?: string };
    return version.Version ?? 'unknown';
  } catch (error) {
    const host = dockerHostOf(env);
    const where = env.DOCKER_HOST ? `DOCKER_HOST=${host}` : `the default socket ${DEFAULT_SOCKET} (DOCKER_HOST is not set)`;
    throw new Hop3Error(code, `Cannot reach the Docker daemon at ${where}: ${(error as Error).message}`, {
      cause: error,
      hint: 'Start it (`sudo dockerd &`, `sudo systemctl start docker`, or `bash scripts/setup-engines.sh`), or point DOCKER_HOST at a running daemon.',
    });
  }
}
