import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, ROOT } from '../helpers/sandbox.js';

const SERVER = path.join(ROOT, 'builders', 'toolchains', 'static-server.mjs');

/** [user, password, hash]: written by `openssl passwd` (-apr1, -1, -5, -6), libxcrypt's crypt (rounds=, bcrypt), {SHA}/{SSHA} by hand. */
const USERS = [
  ['apr1', 'apr1 pass', '$apr1$r31uDfRh$NqQgIRXy/NoMIk2gGiOy/0'],
  ['md5crypt', 'md5 pass', '$1$Kq3xB7$fv.dngl4Hio/MHUpAfj7s0'],
  ['sha256crypt', 'sha256 pass', '$5$h8Lx2QfZ0aB7cD9e$YkfYClvlRAOQllimlC8I8QJ1/Jrt4P.SpdMFMN9D2O2'],
  ['sha512crypt', 'sha512 pass', '$6$Yb2mN8qR$lDNd50vkj7wKtGE8AUVUELzX1L9OpVsMvrS9z.E9eJYeemMkxN0uqQo525qWtzuvfjQ1kLyzxcOGTXZcUftBE/'],
  ['rounds5', 'rounds five', '$5$rounds=2000$roundsalt$04c1p6YRzhpYK5ECk8MeWcvBTYiOnmXk2IEwVDV5zI/'],
  ['rounds6', 'rounds six', '$6$rounds=1500$roundsalt$gawxlY5SASchUv9bVoXJ6wsCK6vVcvlIcthIlP5yd7Bv5wqGk/6fODD80wchZd/K1TYnSFkEXzmnZV36lfwUR0'],
  ['sha1', 'sha1 pass', '{SHA}/HL0E2fe0k86oFqfSf2+njzD3+o='],
  ['ssha', 'ssha pass', '{SSHA}kHv92tAG3eMWbqKgw9VbcYNve9wBAnNhbHQ='],
  ['utf8', 'pässwörd: with colon and a long tail of characters', '$apr1$u7f8$v5LmUywORUeK8z5AX50j50'],
  ['bcrypt2b', 'bcrypt pass', '$2b$05$Xq9ZsWc1mLpR4tVb8nKe0upF0lf8MFs2vykhp1MqLNR92wLpVJGKC'],
  ['bcrypt2y', 'bcrypt y pass', '$2y$06$Hg3TkPq8vLm2NsWc5ZrA7eHpTNuJJoOKvITVxPYmMy3Ft6EH/i8Va'],
  ['bcrypt2a', 'bcrypt a pass', '$2a$04$Mn7BvCx2ZaSd4FgHj6KlPeFr0Q5LBGSzcQrKTfWer1tWp8d9Ude22'],
] as const;

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

interface Server {
  process: ChildProcess;
  port: number;
  output: string;
}

/** hop3's static server as a real process with these arguments; resolves once it listens (or rejects with its output). */
async function startServer(args: string[]): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, [SERVER, ...args], { env: { ...process.env, PORT: String(port), BIND_ADDRESS: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const server: Server = { process: child, port, output: '' };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the static server did not start within 10s: ${server.output}`)), 10_000);
    const read = (chunk: Buffer) => {
      server.output += chunk.toString();
      if (server.output.includes('static server on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the static server exited with ${code}: ${server.output}`));
    });
  });
  return server;
}

async function stopServer(server: Server | undefined): Promise<void> {
  const child = server?.process;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe.concurrent('hop3 static server: Staticfile.auth and index_fallback', () => {
  let dir: string;
  let server: Server;
  const get = (target: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${server.port}${target}`, init);
  const as = (user: string, password: string, init: RequestInit = {}) => ({ ...init, headers: { authorization: basic(user, password) } });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-static-rules-'));
    await mkdir(path.join(dir, 'docs'), { recursive: true });
    await mkdir(path.join(dir, 'empty'), { recursive: true });
    const files: Record<string, string> = {
      'index.html': '<h1>spa shell</h1>\n',
      'app.js': 'console.log("app")\n',
      'docs/index.html': '<h1>docs shell</h1>\n',
      Staticfile: 'index_fallback: true\n',
      'Staticfile.auth': `# users\n${USERS.map(([user, , hash]) => `${user}:${hash}`).join('\n')}\nplain:{PLAIN}secret\n`,
      '.env': 'TOKEN=hunter2\n',
    };
    for (const [file, text] of Object.entries(files)) await writeFile(path.join(dir, file), text);
    // The auth file sits inside the served root, as with a Staticfile without root:.
    server = await startServer([`--auth-file=${path.join(dir, 'Staticfile.auth')}`, '--index-fallback', `/=${dir}`, `/docs=${path.join(dir, 'docs')}`, `/empty=${path.join(dir, 'empty')}`]);
  });

  afterAll(async () => {
    await stopServer(server);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each(['/', '/index.html', '/app.js', '/users/42', '/Staticfile.auth', '/docs/', '/missing.js'])('answers %s without credentials with 401 and a Basic challenge, nothing of the site', async (target) => {
    const response = await get(target);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Basic realm="Restricted", charset="UTF-8"');
    expect(await response.text()).toBe('authentication required\n');
  });

  it('asks for credentials before anything else: other methods and bad paths get 401 too', async () => {
    expect((await get('/', { method: 'POST', body: '' })).status).toBe(401);
    expect((await get('/', { method: 'HEAD' })).status).toBe(401);
    expect((await get('/%2e%2e/etc/passwd')).status).toBe(401);
  });

  it.each(USERS)('lets %s in with the right password (hash %s)', async (user, password) => {
    const response = await get('/', as(user, password));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('<h1>spa shell</h1>\n');
  });

  it.each([
    ['a wrong password', basic('apr1', 'apr1 pas')],
    ['the password of another user', basic('apr1', 'sha1 pass')],
    ['an empty password', basic('sha512crypt', '')],
    ['an unknown user', basic('mallory', 'apr1 pass')],
    ['a wrong bcrypt password', basic('bcrypt2y', 'bcrypt pass')],
    ['a user whose hash is in no known format', basic('plain', 'secret')],
    ['the hash itself as password', basic('sha1', '{SHA}/HL0E2fe0k86oFqfSf2+njzD3+o=')],
    ['no colon in the credentials', `Basic ${Buffer.from('apr1').toString('base64')}`],
    ['another scheme', 'Bearer apr1'],
    ['garbage', 'Basic !!!'],
  ])('refuses %s with 401', async (_what, authorization) => {
    const response = await get('/', { headers: { authorization } });
    expect(response.status).toBe(401);
    expect(await response.text()).not.toContain('spa shell');
  });

  it('answers the same credentials again (from its cache of verified ones) and still refuses a changed password', async () => {
    for (let i = 0; i < 3; i++) expect((await get('/app.js', as('sha512crypt', 'sha512 pass'))).status).toBe(200);
    expect((await get('/app.js', as('sha512crypt', 'sha512 pass!'))).status).toBe(401);
  });

  it.each(['/Staticfile.auth', '/Staticfile', '/.env', '/docs/Staticfile.auth'])('never serves %s, even signed in and with the fallback (404)', async (target) => {
    const response = await get(target, as('apr1', 'apr1 pass'));
    expect(response.status).toBe(404);
    expect(await response.text()).toBe('not found\n');
  });

  it('serves the index.html of the mount for a path that matches no file, as HTML that is not cached', async () => {
    for (const target of ['/users/42', '/users/42/edit?tab=1', '/missing.js', '/deep/a/b/c/']) {
      const response = await get(target, as('sha1', 'sha1 pass'));
      expect(response.status, target).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(await response.text()).toBe('<h1>spa shell</h1>\n');
    }
    expect(await (await get('/docs/guide/intro', as('sha1', 'sha1 pass'))).text()).toBe('<h1>docs shell</h1>\n');
    expect(await (await get('/app.js', as('sha1', 'sha1 pass'))).text()).toBe('console.log("app")\n'); // a file that exists is itself
    expect((await get('/empty/route', as('sha1', 'sha1 pass'))).status).toBe(404); // a mount without index.html has nothing to fall back to
    const head = await get('/users/42', as('sha1', 'sha1 pass', { method: 'HEAD' }));
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String('<h1>spa shell</h1>\n'.length));
  });

  it('keeps 400 for a path trick and 405 for other methods when signed in', async () => {
    expect((await get('/..%2f..%2fetc/passwd', as('apr1', 'apr1 pass'))).status).toBe(400);
    expect((await get('/', as('apr1', 'apr1 pass', { method: 'DELETE' }))).status).toBe(405);
  });

  it('says at start which users it cannot verify', () => {
    expect(server.output).toContain('the hash of user "plain" is in a format this server does not know');
  });
});

describe('hop3 static server: rules at start', () => {
  it('does not start when the auth file is missing: it never serves the site unprotected', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-static-noauth-'));
    try {
      await writeFile(path.join(dir, 'index.html'), 'site\n');
      await expect(startServer([`--auth-file=${path.join(dir, 'Staticfile.auth')}`, `/=${dir}`])).rejects.toThrow(/exited with 1.*ENOENT/s);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
