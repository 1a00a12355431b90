import http from 'node:http';
import type net from 'node:net';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it, type TestContext } from 'vitest';
import { freePort, Sandbox } from './helpers/sandbox.js';

/** The upstream project, as its release tarball has it: one top folder, its own (wrong for us) Procfile. */
const UPSTREAM: Record<string, string> = {
  'server.py': `import http.server, os
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = open(os.path.join(os.path.dirname(__file__), "VERSION")).read().encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.ThreadingHTTPServer((os.environ["BIND_ADDRESS"], int(os.environ["PORT"])), Handler).serve_forever()
`,
  VERSION: 'upstream 1.2\n',
  Procfile: 'web: echo "the upstream Procfile must not win"; exit 1\n',
};

/** A tarball of `files` under `top/`, written to `file`. */
async function tarball(file: string, top: string, files: Record<string, string>): Promise<void> {
  const staging = `${file}.d`;
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(staging, top, name)), { recursive: true });
    await writeFile(path.join(staging, top, name), text);
  }
  await execa('tar', ['-czf', file, '-C', staging, top]);
}

/** The app dir: hop3.toml with this [source], and the Procfile that overlays the upstream one. */
async function appDir(sandbox: Sandbox, name: string, source: string): Promise<string> {
  const dir = path.join(sandbox.dir, 'apps', name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'hop3.toml'), `[metadata]\nupstream_version = "1.2"\n\n[source]\n${source}\n`);
  await writeFile(path.join(dir, 'Procfile'), 'web: exec python3 server.py\n');
  return dir;
}

/** A real HTTP server on 127.0.0.1 serving one file at /app.tgz (404 elsewhere). */
async function fileServer(ctx: Pick<TestContext, 'onTestFinished'>, file: string): Promise<string> {
  const server = http.createServer(async (req, res) => {
    if (req.url !== '/app.tgz') return void res.writeHead(404).end('not here');
    res.writeHead(200, { 'content-type': 'application/gzip' }).end(await readFile(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ctx.onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

const builtApp = async (sandbox: Sandbox, app: string) => {
  const artifact = JSON.parse(await readFile(path.join(sandbox.home, 'apps', app, 'BUILD_ARTIFACT.json'), 'utf8'));
  return { artifact, files: (await readdir(artifact.runtime.working_dir)).sort() };
};

describe('[source]: the upstream code a build starts from, with the app\'s files over it', () => {
  it('unpacks a file:// tarball (${upstream_version} substituted, its top folder as root), overlays the app, serves it', async () => {
    await using sandbox = await Sandbox.create();
    const file = path.join(sandbox.dir, 'upstream', 'app-1.2.tar.gz');
    await mkdir(path.dirname(file), { recursive: true });
    await tarball(file, 'app-1.2', UPSTREAM);
    const dir = await appDir(sandbox, 'tarball', `type = "tarball"\nurl = "file://${path.dirname(file)}/app-\${upstream_version}.tar.gz"`);

    const deploy = await sandbox.hop3(['deploy', dir, '--port', String(await freePort())]);
    expect(deploy.exitCode, deploy.all).toBe(0);
    expect(deploy.stderr).toContain(`==> fetching [source] file://${file}`);
    expect(deploy.stderr).not.toContain('declared, not acted on');
    expect(await (await fetch(deploy.stdout.trim())).text()).toBe('upstream 1.2\n');
    const { artifact, files } = await builtApp(sandbox, 'tarball');
    expect(files).toEqual(['Procfile', 'VERSION', 'hop3.toml', 'server.py']);
    expect(await readFile(path.join(artifact.runtime.working_dir, 'Procfile'), 'utf8')).toBe('web: exec python3 server.py\n');
    expect(artifact.metadata).toMatchObject({ upstream_source: { url: `file://${file}`, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } });

    // The digest covers the fetched content: the same tarball builds nothing, a changed one builds again.
    expect((await sandbox.hop3(['build', dir])).stderr).toContain('nothing to build');
    await tarball(file, 'app-1.2', { ...UPSTREAM, VERSION: 'upstream 1.2, patched\n' });
    const rebuilt = await sandbox.hop3(['deploy', dir]);
    expect(rebuilt.exitCode, rebuilt.all).toBe(0);
    expect(rebuilt.stderr).not.toContain('nothing to build');
    expect(await (await fetch(deploy.stdout.trim())).text()).toBe('upstream 1.2, patched\n');
    expect((await sandbox.hop3(['stop', 'tarball'])).exitCode).toBe(0);
    expect(await sandbox.strayPids()).toEqual([]);
  });

  it('takes a directory by a path relative to the app, and never lets an upstream symlink redirect the app\'s files', async () => {
    await using sandbox = await Sandbox.create();
    const dir = await appDir(sandbox, 'from-dir', 'url = "upstream"');
    const upstream = path.join(dir, 'upstream');
    await mkdir(upstream);
    for (const [name, text] of Object.entries(UPSTREAM)) if (name !== 'Procfile') await writeFile(path.join(upstream, name), text);
    const victim = path.join(sandbox.dir, 'victim.txt');
    await writeFile(victim, 'untouched\n');
    await symlink(victim, path.join(upstream, 'Procfile')); // an upstream Procfile that points outside

    const build = await sandbox.hop3(['build', dir]);
    expect(build.exitCode, build.all).toBe(0);
    expect(await readFile(victim, 'utf8')).toBe('untouched\n');
    const { artifact, files } = await builtApp(sandbox, 'from-dir');
    expect(files).toEqual(['Procfile', 'VERSION', 'hop3.toml', 'server.py']); // the source folder itself is not copied in again
    expect(artifact.runtime.workers).toEqual({ web: 'exec python3 server.py' });
    expect(artifact.metadata.upstream_source).toEqual({ url: 'upstream' });
  });

  it('downloads an http(s) tarball; a server error and an unreachable network are coded errors saying what to do', async (ctx) => {
    await using sandbox = await Sandbox.create();
    const file = path.join(sandbox.dir, 'app.tgz');
    await tarball(file, 'app-1.2', UPSTREAM);
    const base = await fileServer(ctx, file);
    const ok = await sandbox.hop3(['build', await appDir(sandbox, 'over-http', `url = "${base}/app.tgz"`)]);
    expect(ok.exitCode, ok.all).toBe(0);
    expect((await builtApp(sandbox, 'over-http')).files).toEqual(['Procfile', 'VERSION', 'hop3.toml', 'server.py']);

    const missing = await sandbox.hop3(['build', await appDir(sandbox, 'http-404', `url = "${base}/app-\${upstream_version}.tgz"`)]);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain(`hop3: Cannot download [source] ${base}/app-1.2.tgz: the server answered 404 Not Found. [BUILD_SOURCE_FETCH_FAILED]`);

    const closed = `http://127.0.0.1:${await freePort()}/app.tgz`; // nothing listens: as far as hop3 can tell, no network
    const offline = await sandbox.hop3(['build', await appDir(sandbox, 'offline', `url = "${closed}"`)]);
    expect(offline.exitCode).toBe(1);
    expect(offline.stderr).toContain(`hop3: Cannot download [source] ${closed}: the network is unreachable from this host (ECONNREFUSED). [BUILD_SOURCE_NETWORK_UNREACHABLE]`);
    expect(offline.stderr).toContain('set [source] url = "file:///path/to/it.tar.gz"');
    expect(offline.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('refuses what is not a tarball, and only declares git and PyPI sources', async () => {
    await using sandbox = await Sandbox.create();
    const notTar = await appDir(sandbox, 'not-tar', 'url = "README.txt"');
    await writeFile(path.join(notTar, 'README.txt'), 'not a tarball\n');
    const refused = await sandbox.hop3(['build', notTar]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('hop3: Cannot unpack [source] README.txt: `tar -xf` failed');
    expect(refused.stderr).toContain('[BUILD_SOURCE_FETCH_FAILED]');

    const git = await appDir(sandbox, 'git-source', 'type = "git"\nurl = "https://git.example.org/app.git"');
    await writeFile(path.join(git, 'server.py'), UPSTREAM['server.py']!);
    await writeFile(path.join(git, 'VERSION'), 'vendored\n');
    const declared = await sandbox.hop3(['build', git]);
    expect(declared.exitCode, declared.all).toBe(0);
    expect(declared.stderr).toContain('warning: hop3.toml: declared, not acted on by hop3: [source] type = "git"');
    expect(declared.stderr).not.toContain('fetching [source]');
  });
});
