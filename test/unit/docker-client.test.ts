import http from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDockerClient, daemonVersion, dockerHostOf, type DockerClient } from '../../src/engines/docker-client.js';
import { isHop3Error, type ErrorCode } from '../../src/errors.js';

const dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-docker-host-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Where the client will connect, from dockerode's modem (its connection options). */
function target(docker: DockerClient) {
  const modem = docker.modem as unknown as { socketPath?: string; host?: string; port?: string | number; protocol?: string; ca?: Buffer; cert?: Buffer; key?: Buffer };
  return modem.socketPath !== undefined
    ? { socketPath: modem.socketPath }
    : { host: modem.host, port: String(modem.port), protocol: modem.protocol, tls: { ca: modem.ca?.toString(), cert: modem.cert?.toString(), key: modem.key?.toString() } };
}

function expectCode(run: () => unknown, code: ErrorCode, message: string): void {
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(isHop3Error(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
  expect((error as Error).message).toContain(message);
}

const noTls = { ca: undefined, cert: undefined, key: undefined };

describe('DOCKER_HOST', () => {
  it.each([
    [undefined, { socketPath: '/var/run/docker.sock' }],
    ['', { socketPath: '/var/run/docker.sock' }],
    ['unix://', { socketPath: '/var/run/docker.sock' }],
    ['unix:///run/user/1000/docker.sock', { socketPath: '/run/user/1000/docker.sock' }],
    ['tcp://10.0.0.5:2375', { host: '10.0.0.5', port: '2375', protocol: 'http', tls: noTls }],
    ['tcp://docker.internal', { host: 'docker.internal', port: '2375', protocol: 'http', tls: noTls }],
    ['10.0.0.5:4243', { host: '10.0.0.5', port: '4243', protocol: 'http', tls: noTls }],
    ['tcp://[::1]:2375', { host: '[::1]', port: '2375', protocol: 'http', tls: noTls }],
    ['tcp://10.0.0.5:2376', { host: '10.0.0.5', port: '2376', protocol: 'https', tls: noTls }],
    ['https://10.0.0.5:3000', { host: '10.0.0.5', port: '3000', protocol: 'https', tls: noTls }],
    ['https://docker.internal', { host: 'docker.internal', port: '2376', protocol: 'https', tls: noTls }],
    ['https://docker.internal:443', { host: 'docker.internal', port: '443', protocol: 'https', tls: noTls }],
    ['http://docker.internal:80', { host: 'docker.internal', port: '80', protocol: 'http', tls: noTls }],
    ['TCP://10.0.0.5:2375', { host: '10.0.0.5', port: '2375', protocol: 'http', tls: noTls }],
  ])('%s: connects to %o', (host, expected) => {
    expect(target(createDockerClient(host === undefined ? {} : { DOCKER_HOST: host }))).toEqual(expected);
  });

  it('uses TLS on any port under DOCKER_TLS_VERIFY=1, with the certificates of DOCKER_CERT_PATH', async () => {
    const certs = path.join(dir, 'certs');
    await mkdir(certs);
    for (const name of ['ca', 'cert', 'key']) await writeFile(path.join(certs, `${name}.pem`), `${name} pem`);
    const tls = { ca: 'ca pem', cert: 'cert pem', key: 'key pem' };
    expect(target(createDockerClient({ DOCKER_HOST: 'tcp://10.0.0.5:2375', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs }))).toEqual({ host: '10.0.0.5', port: '2375', protocol: 'https', tls });
    expect(target(createDockerClient({ DOCKER_HOST: 'tcp://10.0.0.5:2376', DOCKER_CERT_PATH: certs }))).toEqual({ host: '10.0.0.5', port: '2376', protocol: 'https', tls });
    // Certificates are for TLS only: a plain tcp:// host does not read them.
    expect(target(createDockerClient({ DOCKER_HOST: 'tcp://10.0.0.5:2375', DOCKER_CERT_PATH: certs }))).toMatchObject({ protocol: 'http', tls: noTls });
  });

  it('names DOCKER_CERT_PATH when its certificates cannot be read', () => {
    const empty = path.join(dir, 'no-certs');
    expectCode(() => createDockerClient({ DOCKER_HOST: 'tcp://10.0.0.5:2376', DOCKER_CERT_PATH: empty }), 'BUILD_DOCKER_TLS_CERTS', `Cannot read the Docker TLS certificates in DOCKER_CERT_PATH=${empty}: ENOENT`);
  });

  it.each([
    ['ssh://me@build-host', { host: 'build-host', port: '22', username: 'me', agent: '/run/agent.sock' }],
    ['ssh://build-host:2222', { host: 'build-host', port: '2222', username: undefined, agent: '/run/agent.sock' }],
  ])('%s: connects over ssh (the remote docker dial-stdio), with the agent of SSH_AUTH_SOCK', (host, expected) => {
    const modem = createDockerClient({ DOCKER_HOST: host, SSH_AUTH_SOCK: '/run/agent.sock' }).modem as unknown as { host: string; port: number | string; protocol: string; username?: string; sshOptions: { agent?: string } };
    expect({ protocol: modem.protocol, host: modem.host, port: String(modem.port), username: modem.username, agent: modem.sshOptions.agent }).toEqual({ protocol: 'ssh', ...expected });
  });

  it.each(['ssh://', 'ssh://me@host/path', 'npipe:////./pipe/docker_engine', 'fd://', 'tcp://[not-an-ip', 'http://', 'tcp://', 'tcp://:2375', 'ftp://10.0.0.5:21'])('refuses DOCKER_HOST=%s with BUILD_DOCKER_HOST_INVALID', (host) => {
    expectCode(() => createDockerClient({ DOCKER_HOST: host }), 'BUILD_DOCKER_HOST_INVALID', `DOCKER_HOST=${host} is not a Docker address hop3 can use.`);
  });
});

describe('the client talks to the address DOCKER_HOST names', () => {
  /** The one Engine endpoint daemonVersion uses, on a real socket: proof of where requests go. */
  async function engineStub(where: { port: 0; host: '127.0.0.1' } | { path: string }): Promise<{ address: string | net.AddressInfo; paths: string[]; close: () => Promise<void> }> {
    const paths: string[] = [];
    const server = http.createServer((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ Version: '99.1.2', ApiVersion: '1.41' }));
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(where, resolve));
    return { address: server.address()!, paths, close: () => new Promise((resolve) => server.close(() => resolve())) };
  }

  it('over tcp:// and unix://', async () => {
    const tcp = await engineStub({ port: 0, host: '127.0.0.1' });
    const socket = path.join(dir, 'engine.sock');
    const unix = await engineStub({ path: socket });
    try {
      const tcpEnv = { DOCKER_HOST: `tcp://127.0.0.1:${(tcp.address as net.AddressInfo).port}` };
      const unixEnv = { DOCKER_HOST: `unix://${socket}` };
      expect(await daemonVersion(createDockerClient(tcpEnv), tcpEnv)).toBe('99.1.2');
      expect(await daemonVersion(createDockerClient(unixEnv), unixEnv)).toBe('99.1.2');
      expect(tcp.paths).toEqual(['/version']);
      expect(unix.paths).toEqual(['/version']);
    } finally {
      await Promise.all([tcp.close(), unix.close()]);
    }
  });

  it('says which DOCKER_HOST it could not reach, with the code the caller asks for', async () => {
    const env = { DOCKER_HOST: `unix://${path.join(dir, 'nobody.sock')}` };
    expect(dockerHostOf(env)).toBe(env.DOCKER_HOST);
    const error = await daemonVersion(createDockerClient(env), env, 'DEPLOY_CONTAINER_DAEMON_UNREACHABLE').catch((e: unknown) => e);
    expect(isHop3Error(error, 'DEPLOY_CONTAINER_DAEMON_UNREACHABLE'), String(error)).toBe(true);
    expect((error as Error).message).toBe(`Cannot reach the Docker daemon at DOCKER_HOST=${env.DOCKER_HOST}: connect ENOENT ${path.join(dir, 'nobody.sock')}`);
    expect(dockerHostOf({})).toBe('unix:///var/run/docker.sock');
  });
});
