import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, ROOT } from '../helpers/sandbox.js';

const SERVER = path.join(ROOT, 'builders', 'toolchains', 'static-server.mjs');
const SECRET = 'SECRET-OUTSIDE';
const BIG_SIZE = 20 * 1024 * 1024;

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** hop3's static server as a real process, serving `<tmp>/app` at / and `<tmp>/app/public` at /pub. */
describe('hop3 static server', () => {
  let dir: string;
  let app: string;
  let port: number;
  let server: ChildProcess;
  let big: Buffer;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-static-'));
    app = path.join(dir, 'app');
    // Outside the served root, reachable only by escaping it.
    await mkdir(path.join(dir, 'outside'));
    await writeFile(path.join(dir, 'secret.txt'), `${SECRET} file\n`);
    await writeFile(path.join(dir, 'index.html'), `${SECRET} index\n`);
    await writeFile(path.join(dir, 'outside', 'secret.txt'), `${SECRET} dir file\n`);
    await writeFile(path.join(dir, 'outside', 'index.html'), `${SECRET} dir index\n`);
    // The site, with an app's config and hop3's own files beside it.
    for (const sub of ['about', 'public', '.git', 'hop3', '.hop3']) await mkdir(path.join(app, sub), { recursive: true });
    const files: Record<string, string> = {
      'index.html': '<h1>app root</h1>\n',
      'about/index.html': '<h1>about</h1>\n',
      'public/index.html': '<h1>public</h1>\n',
      'style.css': 'body { font-family: serif }\n',
      'hop3.toml': '[build]\nstatic-dir = "."\n',
      Procfile: 'static: .\n',
      '.env': 'TOKEN=hunter2\n',
      'about/.env': 'TOKEN=hunter3\n',
      '.git/config': '[core]\n',
      'hop3/hop3.toml': '[run]\n',
      'BUILD_ARTIFACT.json': '{}\n',
      Staticfile: 'root: .\n',
      'Staticfile.auth': 'alice:{SHA}MU9iT6p7K3XOiuZY4WELppBoqyw=\n',
    };
    for (const ext of ['css', 'js', 'mjs', 'json', 'svg', 'png', 'jpg', 'gif', 'webp', 'ico', 'txt', 'wasm', 'woff2', 'map', 'xml', 'pdf']) files[`t.${ext}`] = 'x';
    for (const [file, text] of Object.entries(files)) await writeFile(path.join(app, file), text);
    await copyFile(SERVER, path.join(app, '.hop3', 'static-server.mjs'));
    big = Buffer.allocUnsafe(BIG_SIZE);
    for (let i = 0; i < BIG_SIZE; i++) big[i] = i % 251;
    await writeFile(path.join(app, 'big.bin'), big);
    const links: Record<string, string> = {
      'link-in.html': 'index.html',
      'link-out.txt': '../secret.txt',
      'link-abs.txt': path.join(dir, 'secret.txt'),
      'link-dir': '../outside',
      'link-config.txt': 'hop3.toml',
      'link-dotenv.txt': '.env',
      'public/up.txt': '../hop3.toml',
    };
    for (const [link, target] of Object.entries(links)) await symlink(target, path.join(app, link));

    port = await freePort();
    server = spawn(process.execPath, [SERVER, `/=${app}`, `/pub=${path.join(app, 'public')}`], {
      env: { ...process.env, PORT: String(port), BIND_ADDRESS: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the static server did not start within 10s')), 10_000);
      server.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('static server on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      server.once('exit', (code) => reject(new Error(`the static server exited with ${code}`)));
    });
  });

  afterAll(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGKILL');
      await exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** One request as raw bytes (no client-side URL normalisation), read until the server closes. */
  function raw(target: string, { method = 'GET', headers = {} as Record<string, string> } = {}): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${method} ${target} within 10s`)));
      socket.on('connect', () => {
        const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
        socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      });
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', reject);
      socket.on('end', () => {
        const all = Buffer.concat(chunks);
        const split = all.indexOf('\r\n\r\n');
        const [statusLine, ...headerLines] = all.subarray(0, split).toString('latin1').split('\r\n');
        const parsed = Object.fromEntries(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
        resolve({ status: Number(statusLine!.split(' ')[1]), headers: parsed, body: all.subarray(split + 4) });
      });
    });
  }

  const text = (response: RawResponse) => response.body.toString('utf8');
  const openDescriptors = async () => (await readdir(`/proc/${server.pid}/fd`)).length;

  it('serves the site: index at /, a directory index with or without a slash, a symlink inside the root', async () => {
    expect(text(await raw('/'))).toBe('<h1>app root</h1>\n');
    for (const target of ['/about', '/about/', '/about/index.html']) expect(text(await raw(target))).toBe('<h1>about</h1>\n');
    expect(text(await raw('/link-in.html'))).toBe('<h1>app root</h1>\n');
    expect(text(await raw('/pub/'))).toBe('<h1>public</h1>\n');
    expect(text(await raw('/style.css?v=3'))).toContain('font-family');
    expect((await raw('/missing.html')).status).toBe(404);
  });

  it.each([
    '/../secret.txt', '/..', '/../', '/about/../../secret.txt', '/./../secret.txt',
    '/%2e%2e/secret.txt', '/%2E%2E/secret.txt', '/.%2e/secret.txt', '/%2e%2e%2fsecret.txt', '/..%2fsecret.txt', '/..%2Fsecret.txt',
    '/%252e%252e/secret.txt', '/%252e%252e%252fsecret.txt', '/..%252fsecret.txt', '/%25252e%25252e/secret.txt',
    '/..\\secret.txt', '/%5c..%5csecret.txt', '/..%5csecret.txt', '/about\\..\\..\\secret.txt',
    '/index.html%00.txt', '/%00', '/..%00/secret.txt', '/%c0%ae%c0%ae/secret.txt', '/%e0%80%ae%e0%80%ae/secret.txt', '/%',
    '/pub/../hop3.toml', '/pub/%2e%2e/hop3.toml', '/pub/..%2fhop3.toml',
    'http://127.0.0.1/../secret.txt', '*', 'secret.txt', '//secret.txt',
    `/${'a/'.repeat(3000)}`, `/${'x'.repeat(1000)}`, `/${'%2e%2e/'.repeat(50)}secret.txt`,
  ])('answers %s with 400 or 404, never a file outside the root', async (target) => {
    const response = await raw(target);
    expect([400, 404]).toContain(response.status);
    expect(text(response)).not.toContain(SECRET);
    expect(text(response)).not.toContain('[build]');
  });

  it.each(['/link-out.txt', '/link-abs.txt', '/link-dir', '/link-dir/', '/link-dir/secret.txt', '/link-dir/index.html', '/pub/up.txt'])('never follows the symlink %s out of its root', async (target) => {
    const response = await raw(target);
    expect(response.status).toBe(404);
    expect(text(response)).not.toContain(SECRET);
  });

  it.each([
    '/hop3.toml', '/Procfile', '/.env', '/%2eenv', '/about/.env', '/.git/config', '/.git/', '/hop3/hop3.toml', '/hop3/', '/hop3',
    '/BUILD_ARTIFACT.json', '/.hop3/static-server.mjs', '/link-config.txt', '/link-dotenv.txt', '/Staticfile', '/Staticfile.auth',
  ])('hides the config file or dotfile %s (404, for GET and HEAD)', async (target) => {
    const response = await raw(target);
    expect(response.status).toBe(404);
    expect(text(response)).toBe('not found\n');
    expect((await raw(target, { method: 'HEAD' })).status).toBe(404);
  });

  it('answers Range requests: first bytes, a suffix, an open end; 416 when unsatisfiable', async () => {
    const first = await raw('/big.bin', { headers: { Range: 'bytes=0-99' } });
    expect(first.status).toBe(206);
    expect(first.headers['content-range']).toBe(`bytes 0-99/${BIG_SIZE}`);
    expect(first.headers['content-length']).toBe('100');
    expect(first.body.equals(big.subarray(0, 100))).toBe(true);

    const suffix = await raw('/big.bin', { headers: { Range: 'bytes=-500' } });
    expect(suffix.status).toBe(206);
    expect(suffix.headers['content-range']).toBe(`bytes ${BIG_SIZE - 500}-${BIG_SIZE - 1}/${BIG_SIZE}`);
    expect(suffix.body.equals(big.subarray(BIG_SIZE - 500))).toBe(true);

    const tail = await raw('/big.bin', { headers: { Range: `bytes=${BIG_SIZE - 10}-` } });
    expect(tail.status).toBe(206);
    expect(tail.body.equals(big.subarray(BIG_SIZE - 10))).toBe(true);

    for (const range of [`bytes=${BIG_SIZE}-`, `bytes=${BIG_SIZE + 5}-${BIG_SIZE + 9}`, 'bytes=-0']) {
      const unsatisfiable = await raw('/big.bin', { headers: { Range: range } });
      expect(unsatisfiable.status, range).toBe(416);
      expect(unsatisfiable.headers['content-range']).toBe(`bytes */${BIG_SIZE}`);
    }
    // Several ranges are optional in HTTP: the whole file is a valid answer.
    const several = await raw('/style.css', { headers: { Range: 'bytes=0-1,3-4' } });
    expect(several.status).toBe(200);
    expect(text(several)).toContain('font-family');
  });

  it('answers HEAD with the GET headers and no body', async () => {
    const head = await raw('/big.bin', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers).toMatchObject({ 'content-length': String(BIG_SIZE), 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' });
    expect(head.headers.etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(head.headers['last-modified']).toMatch(/GMT$/);
    expect(head.body.length).toBe(0);
    const range = await raw('/big.bin', { method: 'HEAD', headers: { Range: 'bytes=0-9' } });
    expect(range.headers['content-range']).toBe(`bytes 0-9/${BIG_SIZE}`);
    expect(range.body.length).toBe(0);
  });

  it('sends caching headers and 304 on If-None-Match or If-Modified-Since', async () => {
    const html = await raw('/');
    expect(html.headers['cache-control']).toBe('no-cache');
    const css = await raw('/style.css');
    expect(css.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
    const { etag, 'last-modified': lastModified } = css.headers;

    const byTag = await raw('/style.css', { headers: { 'If-None-Match': `"other", ${etag}` } });
    expect(byTag.status).toBe(304);
    expect(byTag.body.length).toBe(0);
    expect(byTag.headers.etag).toBe(etag);
    expect((await raw('/style.css', { headers: { 'If-Modified-Since': lastModified! } })).status).toBe(304);
    expect((await raw('/style.css', { headers: { 'If-None-Match': '"other"' } })).status).toBe(200);
    expect((await raw('/style.css', { headers: { 'If-Modified-Since': 'Thu, 01 Jan 1998 00:00:00 GMT' } })).status).toBe(200);
    // A stale If-Range gets the whole file rather than a piece of another version.
    expect((await raw('/style.css', { headers: { Range: 'bytes=0-1', 'If-Range': '"other"' } })).status).toBe(200);
    expect((await raw('/style.css', { headers: { Range: 'bytes=0-1', 'If-Range': etag! } })).status).toBe(206);
  });

  it.each([
    ['html', 'text/html; charset=utf-8'], ['css', 'text/css; charset=utf-8'], ['js', 'text/javascript; charset=utf-8'], ['mjs', 'text/javascript; charset=utf-8'],
    ['json', 'application/json'], ['svg', 'image/svg+xml'], ['png', 'image/png'], ['jpg', 'image/jpeg'], ['gif', 'image/gif'], ['webp', 'image/webp'],
    ['ico', 'image/x-icon'], ['txt', 'text/plain; charset=utf-8'], ['wasm', 'application/wasm'], ['woff2', 'font/woff2'], ['map', 'application/json'],
    ['xml', 'application/xml'], ['pdf', 'application/pdf'],
  ])('sends the content type of .%s', async (ext, type) => {
    const response = await raw(ext === 'html' ? '/index.html' : `/t.${ext}`);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe(type);
  });

  it.each(['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'])('refuses %s with 405 and an Allow header', async (method) => {
    const response = await raw('/index.html', { method, headers: { 'Content-Length': '0' } });
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('GET, HEAD');
  });

  it('closes the file of every aborted download: 1,000 of them leave no descriptor open and the server answering', async () => {
    const aborted = () =>
      new Promise<void>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.write('GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
        socket.setTimeout(10_000, () => socket.destroy(new Error('no bytes of /big.bin within 10s')));
        socket.once('data', () => socket.destroy()); // read a little, then go away mid-download
        socket.once('error', reject);
        socket.once('close', () => resolve());
      });
    await aborted(); // warm up whatever the server opens once (thread pool, epoll)
    await expect.poll(async () => { const a = await openDescriptors(); await new Promise((r) => setTimeout(r, 200)); return a === (await openDescriptors()); }, { timeout: 10_000 }).toBe(true);
    const baseline = await openDescriptors();

    let peak = baseline;
    for (let batch = 0; batch < 20; batch++) {
      const running = Array.from({ length: 50 }, aborted);
      peak = Math.max(peak, await openDescriptors());
      await Promise.all(running);
    }
    expect(peak, 'downloads in flight hold descriptors').toBeGreaterThan(baseline);
    await expect.poll(openDescriptors, { timeout: 15_000, interval: 200 }).toBeLessThanOrEqual(baseline);
    expect(server.exitCode).toBeNull();
    expect(text(await raw('/'))).toBe('<h1>app root</h1>\n');
    expect((await raw('/big.bin', { method: 'HEAD' })).status).toBe(200);
  }, 90_000);
});
