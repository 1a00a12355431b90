import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkProbes, freePort, ROOT, Sandbox } from './helpers/sandbox.js';

const TOKEN = 'hop3-npm-t0ken-7c41';
const PROXY_PASSWORD = 'pr0xy-s3cret-19ab';
/** The express version the fixture's lockfile pins: what every builder's build must serve. */
const LOCKED_EXPRESS = (JSON.parse(await readFile(path.join(ROOT, 'fixtures', 'node-express', 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> }).packages['node_modules/express']!.version;

/** A real CONNECT proxy on 127.0.0.1 that records what it tunnels (and the credentials it was given), then forwards. */
class RecordingProxy {
  readonly tunnels: { target: string; auth: string | undefined }[] = [];
  /** Plain-http requests (absolute URLs) it was asked for; it answers those itself from `served`. */
  readonly requests: string[] = [];
  readonly served = new Map<string, Buffer>();
  private readonly server = http.createServer((req, res) => {
    this.requests.push(req.url ?? '');
    const body = this.served.get(req.url ?? '');
    if (body) res.writeHead(200, { 'content-type': 'application/gzip' }).end(body);
    else res.writeHead(404).end();
  });
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  async start(): Promise<void> {
    this.server.on('connect', (req, client: net.Socket, head: Buffer) => {
      this.tunnels.push({ target: req.url ?? '', auth: req.headers['proxy-authorization'] });
      const [host, port] = (req.url ?? '').split(':');
      const upstream = net.connect(Number(port), host!, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('error', () => (client.destroy(), upstream.destroy()));
        socket.on('close', () => this.sockets.delete(socket));
      }
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

describe('builds behind a proxy, with a private registry token (local builder)', () => {
  const proxy = new RecordingProxy();
  beforeAll(() => proxy.start());
  afterAll(() => proxy.close());

  it("npm installs through --proxy with the user's npm token; the app serves the locked express; neither secret is printed or kept", async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('node-express', 'net-local');
    const npmrc = path.join(sandbox.dir, 'user.npmrc');
    await writeFile(npmrc, `//registry.npmjs.org/:_authToken=${TOKEN}\n`);
    // A cache of its own, so that npm has to fetch every tarball, through the proxy.
    const env = { npm_config_userconfig: npmrc, npm_config_cache: path.join(sandbox.dir, 'npm-cache'), HTTPS_PROXY: undefined, https_proxy: undefined, HTTP_PROXY: undefined, http_proxy: undefined };
    const proxyUrl = `http://hop3user:${PROXY_PASSWORD}@127.0.0.1:${proxy.port}`;
    const deploy = await sandbox.hop3(['deploy', app, '--proxy', proxyUrl, '--port', String(await freePort())], { env });
    expect(deploy.exitCode, deploy.all).toBe(0);
    try {
      await checkProbes(deploy.stdout.trim(), 'node-express');
      expect(await (await fetch(deploy.stdout.trim())).text()).toContain(`express ${LOCKED_EXPRESS}\n`);
      // npm tunnelled to the registry through this proxy, with the credentials of --proxy.
      expect(proxy.tunnels.map((t) => t.target)).toContain('registry.npmjs.org:443');
      expect(proxy.tunnels[0]!.auth).toBe(`Basic ${Buffer.from(`hop3user:${PROXY_PASSWORD}`).toString('base64')}`);
      const artifact = await readFile(path.join(sandbox.home, 'apps', 'net-local', 'BUILD_ARTIFACT.json'), 'utf8');
      for (const secret of [TOKEN, PROXY_PASSWORD]) {
        expect(deploy.all).not.toContain(secret);
        expect(artifact).not.toContain(secret);
      }
      expect(JSON.parse(artifact).metadata.provenance_inputs.command).toEqual(expect.arrayContaining(['--proxy', '<url>']));
    } finally {
      expect((await sandbox.hop3(['stop', 'net-local'])).exitCode).toBe(0);
    }
  });

  it('downloads a [source] tarball through [build] proxy (a host only the proxy knows)', async () => {
    await using sandbox = await Sandbox.create();
    const staging = path.join(sandbox.dir, 'upstream', 'app-1.0');
    await mkdir(staging, { recursive: true });
    await writeFile(path.join(staging, 'Procfile'), 'web: exec python3 -m http.server "$PORT" --bind "$BIND_ADDRESS"\n');
    const tarball = path.join(sandbox.dir, 'app.tgz');
    await execa('tar', ['-czf', tarball, '-C', path.dirname(staging), 'app-1.0']);
    const url = 'http://upstream.invalid/app-1.0.tgz';
    proxy.served.set(url, await readFile(tarball));
    const app = path.join(sandbox.dir, 'apps', 'net-source');
    await mkdir(app, { recursive: true });
    await writeFile(path.join(app, 'hop3.toml'), `[build]\nproxy = "http://127.0.0.1:${proxy.port}"\n\n[source]\nurl = "${url}"\n`);
    const build = await sandbox.hop3(['build', app]);
    expect(build.exitCode, build.all).toBe(0);
    expect(proxy.requests).toContain(url);
    // https: tunnelled with CONNECT, and checked against the build's CA bundle (this host's, which the interception needs).
    const https = 'https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz';
    await writeFile(path.join(app, 'hop3.toml'), `[build]\ntoolchain = "generic"\n\n[source]\nurl = "${https}"\n`);
    await writeFile(path.join(app, 'Procfile'), 'web: exec python3 -m http.server "$PORT" --bind "$BIND_ADDRESS"\n');
    const tunnels = proxy.tunnels.length;
    const viaConnect = await sandbox.hop3(['build', app, '--proxy', `http://127.0.0.1:${proxy.port}`]);
    expect(viaConnect.exitCode, viaConnect.all).toBe(0);
    expect(proxy.tunnels.slice(tunnels).map((t) => t.target)).toEqual(['registry.npmjs.org:443']);
  });

  it('refuses a --ca-bundle that is not a PEM file and a --proxy that is not a URL, before building', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('node-express', 'net-bad');
    const ca = await sandbox.hop3(['build', app, '--ca-bundle', path.join(app, 'package.json')]);
    expect(ca.exitCode).toBe(2);
    expect(ca.stderr).toContain('[CONFIG_CA_BUNDLE_INVALID]');
    expect(ca.stderr).toContain('holds no PEM certificate');
    const proxyOption = await sandbox.hop3(['build', app, '--proxy', 'proxy.corp:3128']);
    expect(proxyOption.exitCode).toBe(2);
    expect(proxyOption.stderr).toContain('[CONFIG_PROXY_INVALID]');
  });

  it('hop3 doctor --json shows the network profile with the token masked', async () => {
    await using sandbox = await Sandbox.create();
    const npmrc = path.join(sandbox.dir, 'user.npmrc');
    await writeFile(npmrc, `registry=https://npm.corp.example/\n//npm.corp.example/:_authToken=${TOKEN}\n`);
    const doctor = await sandbox.hop3(['doctor', '--json'], { env: { npm_config_userconfig: npmrc, HTTPS_PROXY: `http://u:${PROXY_PASSWORD}@proxy.corp:3128` } });
    expect(doctor.exitCode).toBe(0);
    expect(doctor.stdout).not.toContain(TOKEN);
    expect(doctor.stdout).not.toContain(PROXY_PASSWORD);
    const checks = JSON.parse(doctor.stdout) as { name: string; detail: string }[];
    expect(checks.find((c) => c.name === 'network npm registry')?.detail).toBe(`https://npm.corp.example/ (${npmrc}); //npm.corp.example/:_authToken *** (${npmrc})`);
    expect(checks.find((c) => c.name === 'network proxy')?.detail).toContain('https http://u:***@proxy.corp:3128 (env HTTPS_PROXY)');
  });
});
