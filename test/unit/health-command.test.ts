import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthCommand, type HealthRequest } from '../../src/deployers/health-command.js';

const run = promisify(execFile);

/** Where each HTTP client is on this host (the command must work with whichever one an image has). */
const CLIENTS = { python3: ['/usr/bin/python3'], node: [process.execPath], curl: ['/usr/bin/curl'], wget: ['/bin/busybox', '/usr/bin/busybox'] } as const;

let server: http.Server;
let base = '';
const dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-health-'));

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const [status, body] = req.url === '/health' ? [200, 'all good'] : req.url === '/broken' ? [500, 'down'] : req.url === '/' ? [404, 'no index'] : [503, 'busy'];
    res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

/** A PATH with only this client (and grep): the command must pick it. */
async function onlyClient(client: keyof typeof CLIENTS): Promise<string | undefined> {
  const found = CLIENTS[client].find((file) => {
    try {
      return statSync(file).isFile();
    } catch {
      return false;
    }
  });
  if (!found) return undefined;
  const bin = path.join(dir, client);
  await rm(bin, { recursive: true, force: true });
  await mkdir(bin);
  await symlink(found, path.join(bin, client));
  await symlink('/bin/grep', path.join(bin, 'grep'));
  return bin;
}

async function passes(bin: string, request: Omit<HealthRequest, 'timeoutS' | 'url'> & { path: string; base?: string }): Promise<boolean> {
  const command = healthCommand({ url: `${request.base ?? base}${request.path}`, requireOk: request.requireOk, ...(request.contains !== undefined ? { contains: request.contains } : {}), timeoutS: 2 });
  return run('/bin/sh', ['-c', command], { env: { PATH: bin } }).then(
    () => true,
    () => false,
  );
}

describe.each(Object.keys(CLIENTS) as Array<keyof typeof CLIENTS>)('the health check command with only %s in the image', (client) => {
  it('passes on 2xx (containing the text), fails otherwise; without a path, anything below 500 passes', async (ctx) => {
    const bin = await onlyClient(client);
    if (!bin) return ctx.skip();
    const cases: Array<[Omit<HealthRequest, 'timeoutS' | 'url'> & { path: string; base?: string }, boolean]> = [
      [{ path: '/health', requireOk: true }, true],
      [{ path: '/health', requireOk: true, contains: 'good' }, true],
      [{ path: '/health', requireOk: true, contains: "it's bad" }, false],
      [{ path: '/broken', requireOk: true }, false],
      [{ path: '/', requireOk: false }, true], // 404: the app serves
      [{ path: '/other', requireOk: false }, false], // 503
      [{ path: '/health', requireOk: true, base: 'http://127.0.0.1:1' }, false], // nothing listens
      [{ path: '/', requireOk: false, base: 'http://127.0.0.1:1' }, false],
    ];
    // At once: each case starts an interpreter.
    const results = await Promise.all(cases.map(([request]) => passes(bin, request)));
    expect(results).toEqual(cases.map(([, expected]) => expected));
  });
});

it('fails, saying why, in an image with no HTTP client', async () => {
  const empty = path.join(dir, 'empty');
  await mkdir(empty, { recursive: true });
  const error = await run('/bin/sh', ['-c', healthCommand({ url: `${base}/health`, requireOk: true, timeoutS: 1 })], { env: { PATH: empty } }).catch((e: { stderr: string }) => e);
  expect((error as { stderr: string }).stderr).toContain('the image has no python3, node, curl or wget');
});
