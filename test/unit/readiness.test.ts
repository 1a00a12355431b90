import http from 'node:http';
import net from 'node:net';
import { describe, expect, it, type TestContext } from 'vitest';
import { parseArtifact } from '../../src/artifact/artifact-file.js';
import { forHttp, forHttpBelow500, waitForWorkers, waitUntilReady, type ReadinessProbe } from '../../src/deployers/readiness.js';
import { isHop3Error, type ErrorCode } from '../../src/errors.js';
import type { Logger } from '../../src/log/logger.js';
import { appPaths } from '../../src/state/hop3-home.js';
import { freePort } from '../helpers/sandbox.js';

// The slow cases wait out real timeouts: they run concurrently, each closing its own servers.
type Ctx = Pick<TestContext, 'onTestFinished'>;

/** A real HTTP server on 127.0.0.1 answering `status(path, nth request)`. */
async function httpServer(ctx: Ctx, status: (path: string, count: number) => number): Promise<{ port: number; url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    res.writeHead(status(req.url ?? '/', requests.length), { location: '/elsewhere' }).end('body');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket) => sockets.add(socket));
  ctx.onTestFinished(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as net.AddressInfo;
  return { port, url: `http://127.0.0.1:${port}`, requests };
}

/** A peer that accepts TCP connections and never says a word (docker-proxy before the app listens). */
async function silentPeer(ctx: Ctx): Promise<{ port: number; url: string }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ctx.onTestFinished(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as net.AddressInfo;
  return { port, url: `http://127.0.0.1:${port}` };
}

async function rejection(promise: Promise<unknown>, code: ErrorCode): Promise<Error & Record<string, unknown>> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(isHop3Error(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
  return error as Error & Record<string, unknown>;
}

const never: ReadinessProbe = { description: 'something that never happens', check: async () => false };

describe.concurrent('readiness probes', () => {
  it('forHttp passes on 2xx only; forHttpBelow500 on any answer below 500; neither on a closed port', async (ctx) => {
    const server = await httpServer(ctx, (path) => Number(path.slice(1)));
    const closed = `http://127.0.0.1:${await freePort()}`;
    const verdicts = async (probe: (url: string) => ReadinessProbe) =>
      Object.fromEntries(await Promise.all(['/200', '/204', '/302', '/404', '/500', '/503'].map(async (path) => [path, await probe(`${server.url}${path}`).check()])));
    expect(await verdicts(forHttp)).toEqual({ '/200': true, '/204': true, '/302': false, '/404': false, '/500': false, '/503': false });
    expect(await verdicts(forHttpBelow500)).toEqual({ '/200': true, '/204': true, '/302': true, '/404': true, '/500': false, '/503': false });
    expect(await forHttp(closed).check()).toBe(false);
    expect(await forHttpBelow500(closed).check()).toBe(false);
    expect(server.requests).toContain('/302'); // a redirect is not followed
    expect(server.requests).not.toContain('/elsewhere');
  });

  it('forHttp with `contains` also needs that text in the body', async (ctx) => {
    const server = await httpServer(ctx, () => 200); // answers "body"
    const [found, missing] = [forHttp(`${server.url}/health`, 'bod'), forHttp(`${server.url}/health`, 'ready')];
    expect({ found: await found.check(), missing: await missing.check() }).toEqual({ found: true, missing: false });
    expect(missing.description).toBe(`GET ${server.url}/health answers 2xx containing "ready"`);
  });

  it('gives up after 2 s on a peer that accepts connections but never answers', async (ctx) => {
    const silent = await silentPeer(ctx);
    const started = Date.now();
    const [http2xx, below500] = await Promise.all([forHttp(silent.url).check(), forHttpBelow500(silent.url).check()]);
    expect({ http2xx, below500 }).toEqual({ http2xx: false, below500: false });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe.concurrent('waitUntilReady', () => {
  it('polls until the probe passes', async (ctx) => {
    const server = await httpServer(ctx, (_path, count) => (count < 3 ? 503 : 200));
    await waitUntilReady(forHttp(`${server.url}/health`), { timeoutMs: 5000, intervalMs: 20 });
    expect(server.requests).toEqual(['/health', '/health', '/health']);
  });

  it('times out with DEPLOY_NOT_HEALTHY (timedOut) naming what it waited for', async (ctx) => {
    const server = await httpServer(ctx, () => 500);
    const started = Date.now();
    const error = await rejection(waitUntilReady(forHttp(`${server.url}/health`), { timeoutMs: 1000, intervalMs: 50 }), 'DEPLOY_NOT_HEALTHY');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(error.timedOut).toBe(true);
    expect(error.message).toBe(`Not healthy after 1 s: waiting for GET ${server.url}/health answers 2xx.`);
    expect(error.hint).toContain('healthcheck-timeout');
  });

  it('fails fast with DEPLOY_WORKER_EXITED when failed() gives a reason', async () => {
    let asked = 0;
    const failed = async () => (++asked >= 2 ? 'Worker web exited (code 3)' : undefined);
    const started = Date.now();
    const error = await rejection(waitUntilReady(never, { timeoutMs: 30_000, intervalMs: 10, failed }), 'DEPLOY_WORKER_EXITED');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(asked).toBe(2);
    expect(error.message).toBe('Worker web exited (code 3) before it was ready (waiting for something that never happens).');
    expect(error.timedOut).toBeUndefined();
  });

  it('gives up after `retries` failed checks, before the timeout', async (ctx) => {
    const server = await httpServer(ctx, () => 503);
    const error = await rejection(waitUntilReady(forHttp(`${server.url}/health`), { timeoutMs: 30_000, intervalMs: 10, retries: 2 }), 'DEPLOY_NOT_HEALTHY');
    expect(server.requests).toHaveLength(3);
    expect(error.message).toBe(`Not healthy after 3 checks ([healthcheck] retries = 2): waiting for GET ${server.url}/health answers 2xx.`);
    expect(error.timedOut).toBeUndefined();
  });

  it('stops waiting when its signal aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    await expect(waitUntilReady(never, { timeoutMs: 30_000, intervalMs: 10, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe.concurrent('waitForWorkers (every deployer\'s readiness rule)', () => {
  const artifact = (workers: Record<string, string>, runtime: { healthcheck_path?: string; healthcheck_timeout?: number } = {}, healthcheck?: Record<string, unknown>, metadata: Record<string, unknown> = {}) =>
    parseArtifact({
      schema_version: 1, kind: 'generic', location: '/srv/demo', builder: 'local', app_name: 'demo', built_at: '2026-01-01T00:00:00Z', build_id: 'b1', metadata: { ...metadata, ...(healthcheck ? { healthcheck } : {}) },
      runtime: { env_vars: {}, path_prepend: [], working_dir: '', workers, before_run: [], static_paths: {}, healthcheck_path: runtime.healthcheck_path ?? '', healthcheck_timeout: runtime.healthcheck_timeout ?? 5 },
    });
  const options = (port: number, steps: string[] = []) => {
    const log: Logger = { step: (m) => steps.push(m), info() {}, warn() {}, output() {} };
    return { paths: appPaths('demo', { HOP3_HOME: '/nonexistent' }), release: 1, port, env: {}, log, record: async () => {} };
  };
  const alive = { failed: async () => undefined };

  it('probes the health check path of the web worker with GET 2xx and returns the app URL', async (ctx) => {
    const server = await httpServer(ctx, (path) => (path === '/status/ok' ? 200 : 500));
    const steps: string[] = [];
    // A path without "/" never reaches here: the manifest writes `status/ok` as `/status/ok`, and the artifact refuses it otherwise.
    expect(await waitForWorkers(artifact({ web: 'serve' }, { healthcheck_path: '/status/ok' }), options(server.port, steps), alive)).toBe(`${server.url}/`);
    expect(server.requests).toEqual(['/status/ok']);
    expect(steps).toEqual([`waiting up to 5 s until GET ${server.url}/status/ok answers 2xx`]);
  });

  it('without a health check path, needs / to answer below 500 (a 404 will do)', async (ctx) => {
    const server = await httpServer(ctx, () => 404);
    const steps: string[] = [];
    expect(await waitForWorkers(artifact({ wsgi: 'serve' }), options(server.port, steps), alive)).toBe(`${server.url}/`);
    expect(server.requests).toEqual(['/']);
    expect(steps).toEqual([`waiting up to 5 s until GET ${server.url}/ answers below 500`]);
  });

  it('waits healthcheck_timeout seconds for the web worker, then DEPLOY_NOT_HEALTHY', async (ctx) => {
    const server = await httpServer(ctx, () => 500);
    const error = await rejection(waitForWorkers(artifact({ web: 'serve' }, { healthcheck_timeout: 1 }), options(server.port), alive), 'DEPLOY_NOT_HEALTHY');
    expect(error.message).toBe(`Not healthy after 1 s: waiting for GET ${server.url}/ answers below 500.`);
  });

  it('applies [healthcheck] contains, interval and retries recorded in the artifact', async (ctx) => {
    const server = await httpServer(ctx, () => 200); // answers "body", never "ready"
    const started = Date.now();
    const error = await rejection(
      waitForWorkers(artifact({ web: 'serve' }, { healthcheck_path: '/health', healthcheck_timeout: 30 }, { contains: 'ready', interval: 0.05, retries: 3 }), options(server.port), alive),
      'DEPLOY_NOT_HEALTHY',
    );
    expect(error.message).toBe(`Not healthy after 4 checks ([healthcheck] retries = 3): waiting for GET ${server.url}/health answers 2xx containing "ready".`);
    expect(server.requests).toHaveLength(4);
    expect(Date.now() - started).toBeLessThan(5000); // every 50 ms, not every 250 ms nor up to the 30 s timeout
  });

  /** An app that starts listening on `port` only after `delayMs` (a slow start), answering `status`. */
  const slowApp = (ctx: Ctx, port: number, delayMs: number, status = 200) => {
    const server = http.createServer((_req, res) => res.writeHead(status).end('ok'));
    const timer = setTimeout(() => server.listen(port, '127.0.0.1'), delayMs);
    ctx.onTestFinished(async () => {
      clearTimeout(timer);
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    });
  };

  it('with [run] start-timeout, gives a slow app that long to answer at all, then the health check its own timeout', async (ctx) => {
    const port = await freePort();
    slowApp(ctx, port, 2500);
    const steps: string[] = [];
    const started = Date.now();
    const url = await waitForWorkers(artifact({ web: 'serve' }, { healthcheck_path: '/health', healthcheck_timeout: 1 }, undefined, { start_timeout: 10 }), options(port, steps), alive);
    expect(url).toBe(`http://127.0.0.1:${port}/`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2500); // longer than the health check's 1 s
    expect(steps).toEqual([
      `waiting up to 10 s ([run] start-timeout) until GET http://127.0.0.1:${port}/health answers`,
      `waiting up to 1 s until GET http://127.0.0.1:${port}/health answers 2xx`,
    ]);
  });

  it('without [run] start-timeout, the same slow app fails the health check timeout, which covers the start', async (ctx) => {
    const port = await freePort();
    slowApp(ctx, port, 2500);
    const error = await rejection(waitForWorkers(artifact({ web: 'serve' }, { healthcheck_timeout: 1 }), options(port), alive), 'DEPLOY_NOT_HEALTHY');
    expect(error.message).toBe(`Not healthy after 1 s: waiting for GET http://127.0.0.1:${port}/ answers below 500.`);
    expect(error.hint).toContain('[run] start-timeout');
  });

  it('names [run] start-timeout when the app never answers, and the health check timeout when it answers but is not healthy', async (ctx) => {
    const silent = await freePort();
    const notStarted = await rejection(waitForWorkers(artifact({ web: 'serve' }, { healthcheck_timeout: 30 }, undefined, { start_timeout: 1 }), options(silent), alive), 'DEPLOY_NOT_HEALTHY');
    expect(notStarted.message).toBe(`Not started after 1 s ([run] start-timeout): waiting for GET http://127.0.0.1:${silent}/ answers.`);
    expect(notStarted.timedOut).toBe(true);
    expect(notStarted.hint).toContain('raise [run] start-timeout');

    const failing = await httpServer(ctx, () => 500); // answers at once, never healthy
    const started = Date.now();
    const unhealthy = await rejection(waitForWorkers(artifact({ web: 'serve' }, { healthcheck_timeout: 1 }, undefined, { start_timeout: 30 }), options(failing.port), alive), 'DEPLOY_NOT_HEALTHY');
    expect(unhealthy.message).toBe(`Not healthy after 1 s: waiting for GET ${failing.url}/ answers below 500.`);
    expect(Date.now() - started).toBeLessThan(5000); // not the 30 s of start-timeout
  });

  it('without a web worker, needs every worker still up after a moment', async () => {
    const port = await freePort();
    const [settled, died] = await Promise.all([
      waitForWorkers(artifact({ clock: 'tick' }), options(port), alive),
      waitForWorkers(artifact({ clock: 'tick' }), options(port), { failed: async () => 'Worker clock exited (code 1)' }).catch((e: unknown) => e),
    ]);
    expect(settled).toBeNull();
    expect(isHop3Error(died, 'DEPLOY_WORKER_EXITED'), String(died)).toBe(true);
    expect((died as Error).message).toBe('Worker clock exited (code 1) right after starting.');
  });
});
