import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { checkProbes, freePort, logLines, ROOT, Sandbox } from './helpers/sandbox.js';

/** The spine end to end through the real `hop3` bin: local builder, process deployer, real HTTP. */
describe('hop3 CLI with the local builder and the process deployer', () => {
  it('deploys the python fixture, serves it, reports status and logs, and stop ends every process', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('python-web');
    const port = await freePort();
    const deploy = await sandbox.hop3(['deploy', app, '--port', String(port)]);
    expect(deploy.exitCode, deploy.all).toBe(0);
    expect(deploy.stdout.trim()).toBe(`http://127.0.0.1:${port}/`);
    await checkProbes(deploy.stdout.trim(), 'python-web');

    const status = JSON.parse((await sandbox.hop3(['status', 'python-web', '--json'])).stdout);
    expect(status).toMatchObject({ app: 'python-web', running: true, deployer: 'process', builder: 'local', port });
    expect(status.workers).toEqual([expect.objectContaining({ name: 'web', running: true })]);
    expect(await sandbox.strayPids()).toContain(Number(status.workers[0].id));

    const logs = await sandbox.hop3(['logs', 'python-web', '--lines', '20']);
    expect(logs.stdout).toContain('python-web listening on 127.0.0.1');

    const stop = await sandbox.hop3(['stop', 'python-web']);
    expect(stop.exitCode, stop.all).toBe(0);
    expect(await sandbox.strayPids()).toEqual([]);
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } }); // nothing listens any more
    expect(JSON.parse((await sandbox.hop3(['status', 'python-web', '--json'])).stdout).running).toBe(false);
  });

  it('runs a node build from another HOP3_HOME with nothing but the artifact file', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('node-web');
    const artifactFile = path.join(sandbox.dir, 'n.json');
    const build = await sandbox.hop3(['build', app, '--output', artifactFile], { env: { HOP3_HOME: path.join(sandbox.dir, 'a') } });
    expect(build.exitCode, build.all).toBe(0);
    expect(build.stderr).toContain('npm ci');

    const port = await freePort();
    const run = await sandbox.hop3(['run', 'node-web', '--artifact', artifactFile, '--port', String(port)]);
    expect(run.exitCode, run.all).toBe(0);
    await checkProbes(`http://127.0.0.1:${port}/`, 'node-web');
    expect((await sandbox.hop3(['stop', 'node-web'])).exitCode).toBe(0);
    expect(await sandbox.strayPids()).toEqual([]);
  });

  it.each(['static-site', 'procfile-app', 'override-app', 'python-wsgi'])('deploys %s and answers its probes', async (fixture) => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture(fixture);
    const port = await freePort();
    const deploy = await sandbox.hop3(['deploy', app, '--port', String(port)]);
    expect(deploy.exitCode, deploy.all).toBe(0);
    await checkProbes(`http://127.0.0.1:${port}/`, fixture);
    expect((await sandbox.hop3(['stop', fixture])).exitCode).toBe(0);
    expect(await sandbox.strayPids()).toEqual([]);
  });

  it('builds an app with only a hop3.toml ([run] start, no Procfile or manifest) with the generic toolchain, and serves it', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('toml-only');
    const port = await freePort();
    const deploy = await sandbox.hop3(['deploy', app, '--port', String(port)]);
    expect(deploy.exitCode, deploy.all).toBe(0);
    expect(deploy.stderr).toContain('  toolchain  generic ([run] start or [run.workers] in hop3.toml)\n');
    await checkProbes(`http://127.0.0.1:${port}/`, 'toml-only');
    expect((await sandbox.hop3(['stop', 'toml-only'])).exitCode).toBe(0);
    expect(await sandbox.strayPids()).toEqual([]);
  });

  it.each(['python-web', 'python-wsgi', 'static-site'])('deploys %s from a HOP3_HOME with a space and quotes in its path', async (fixture) => {
    await using sandbox = await Sandbox.create({ home: "with space/it's here" });
    const app = await sandbox.fixture(fixture);
    const port = await freePort();
    const deploy = await sandbox.hop3(['deploy', app, '--port', String(port)]);
    expect(deploy.exitCode, deploy.all).toBe(0);
    await checkProbes(`http://127.0.0.1:${port}/`, fixture);
    const artifact = JSON.parse((await sandbox.hop3(['inspect', fixture, '--json'])).stdout);
    expect(artifact.location.startsWith(sandbox.home)).toBe(true);
    expect((await sandbox.hop3(['stop', fixture])).exitCode).toBe(0);
    expect(await sandbox.strayPids()).toEqual([]);
  });

  it('static: serves the app root without its config or dotfiles, and a built dist/ by default', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('static-site');
    await writeFile(path.join(app, 'hop3.toml'), '[build]\nbuilder = "local"\n');
    await writeFile(path.join(app, '.env'), 'TOKEN=hunter2\n');
    const port = await freePort();
    const deploy = await sandbox.hop3(['deploy', app, '--port', String(port)]);
    expect(deploy.exitCode, deploy.all).toBe(0);
    expect(deploy.stderr).toContain('static: serving the app root at / (no public, dist, build, _site, out folder with an index.html); never served: dotfiles, hop3.toml');
    await checkProbes(`http://127.0.0.1:${port}/`, 'static-site');
    for (const hidden of ['hop3.toml', '.env', '.hop3/static-server.mjs']) expect((await fetch(`http://127.0.0.1:${port}/${hidden}`)).status, hidden).toBe(404);
    expect((await sandbox.hop3(['stop', 'static-site'])).exitCode).toBe(0);

    await mkdir(path.join(app, 'dist'));
    await writeFile(path.join(app, 'dist', 'index.html'), 'built site');
    const build = await sandbox.hop3(['build', app, '--json']);
    expect(build.exitCode, build.all).toBe(0);
    expect(build.stderr).toContain('static: serving dist/ at / (dist/index.html found)');
    const artifact = JSON.parse(build.stdout);
    expect(artifact.runtime.static_paths).toEqual({ '/': path.join(artifact.runtime.working_dir, 'dist') });
  });

  it('keeps non-web workers running and their logs apart', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('procfile-app');
    expect((await sandbox.hop3(['deploy', app, '--port', String(await freePort())])).exitCode).toBe(0);
    const status = JSON.parse((await sandbox.hop3(['status', '--json'])).stdout);
    expect(status[0].workers.map((w: { name: string }) => w.name).sort()).toEqual(['clock', 'web']);
    const logs = await sandbox.hop3(['logs', 'procfile-app', '--worker', 'clock']);
    expect(logs.stdout).toContain('tick');
    expect(logs.stdout).not.toContain('Serving HTTP');
    const unknown = await sandbox.hop3(['logs', 'procfile-app', '--worker', 'nope']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('[DEPLOY_UNKNOWN_WORKER]');
    expect(unknown.stderr).toContain('Workers: web, clock.');
  });

  it('explains that the web worker came from hop3.toml when both files define it', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('override-app');
    const artifactFile = path.join(sandbox.dir, 'o.json');
    expect((await sandbox.hop3(['build', app, '--output', artifactFile])).exitCode).toBe(0);
    const explain = await sandbox.hop3(['inspect', 'override-app', '--explain']);
    expect(explain.stdout).toMatch(/workers\.web = python3 serve\.py\s+<- hop3\.toml/);
    expect(explain.stdout).toMatch(/before_run = .*<- hop3\.toml/);
    const json = JSON.parse((await sandbox.hop3(['inspect', artifactFile, '--json', '--explain'])).stdout);
    expect(json.provenance['workers.web'].source).toBe('hop3.toml');
    expect(json.artifact.runtime.workers.web).toBe('python3 serve.py');
  });

  it('builds and runs an app using every hop3.toml section: one warning names what hop3 does not act on, the rest is acted on', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('hop3-full-toml');
    const build = await sandbox.hop3(['build', app, '--builder', 'local']);
    expect(build.exitCode, build.all).toBe(0);
    const warnings = logLines(build.stderr).filter((line) => line.startsWith('warning:'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^warning: hop3\.toml: declared, not acted on by hop3: \[app\] name, /);
    for (const key of ['[docker] runtime', '[port] admin', '[source] type = "git"', '[[addons]] postgres', '[[provider]] redis', '[backup]', '[env] _policy']) {
      expect(warnings[0]).toContain(key);
    }
    // Acted on: not in the warning.
    expect(warnings[0]).not.toMatch(/\[healthcheck\] timeout|\[metadata\]|start-timeout|packages|\[web\] port|\[port\] web|\[docker\] port|SECRET_KEY/);

    const artifact = JSON.parse(await readFile(path.join(sandbox.home, 'apps', 'hop3-full-toml', 'BUILD_ARTIFACT.json'), 'utf8'));
    expect(artifact.runtime).toMatchObject({ healthcheck_timeout: 60, healthcheck_path: '/health', before_run: ['echo migrating'] });
    expect(artifact.runtime.env_vars).toEqual({ GREETING: 'hello', DEBUG: 'false', WORKERS: '2', LISTEN: 'port $PORT', GREETING_URL: 'http://full.example.org/hello' });
    expect(artifact.metadata).toMatchObject({
      deploy_target: 'process',
      web_port: 8000,
      start_timeout: 30,
      generated_env: { SECRET_KEY: { generate: 'urlsafe', length: 32 } },
      system_packages: { build: ['python3'], run: ['python3'] },
    });
    const explain = await sandbox.hop3(['inspect', 'hop3-full-toml', '--explain']);
    expect(explain.stdout).toMatch(/healthcheck_timeout = 60\s+<- hop3\.toml/);
    expect(explain.stdout).toMatch(/PATH, PORT, APP, PROC_TYPE\s+<- hop3 when it runs/);
    expect(explain.stdout).not.toMatch(/env_vars\.(PATH|PORT) /);

    const deploy = await sandbox.hop3(['deploy', app, '--port', String(await freePort())]);
    expect(deploy.exitCode, deploy.all).toBe(0);
    expect(deploy.stderr).toContain('waiting up to 30 s ([run] start-timeout)');
    expect(deploy.stderr).toContain('waiting up to 60 s');
    await checkProbes(deploy.stdout.trim(), 'hop3-full-toml');
    expect((await sandbox.hop3(['stop', 'hop3-full-toml'])).exitCode).toBe(0);
    expect(await sandbox.strayPids()).toEqual([]);
  });

  it('builds an app with no artifact on the fly (legacy path) but never rebuilds over a corrupt one', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('static-site');
    const port = String(await freePort());
    const first = await sandbox.hop3(['run', app, '--port', port]);
    expect(first.exitCode, first.all).toBe(0);
    expect(first.stderr).toContain('has no artifact yet: building it now');
    expect((await sandbox.hop3(['stop', 'static-site'])).exitCode).toBe(0);

    const latest = path.join(sandbox.home, 'apps', 'static-site', 'BUILD_ARTIFACT.json');
    await writeFile(latest, (await readFile(latest, 'utf8')).slice(0, 80));
    const builds = await readdir(path.join(sandbox.home, 'apps', 'static-site', 'builds'));
    const again = await sandbox.hop3(['run', app, '--port', port]);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain(`Artifact ${latest} is not valid JSON`);
    expect(again.stderr).toContain('[ARTIFACT_INVALID_JSON]');
    expect(await readdir(path.join(sandbox.home, 'apps', 'static-site', 'builds'))).toEqual(builds);
    expect(await sandbox.strayPids()).toEqual([]);
  });

  it('keeps every build in its own directory', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('static-site');
    const first = await sandbox.hop3(['build', app, '--json']);
    await writeFile(path.join(app, 'index.html'), 'changed');
    const second = await sandbox.hop3(['build', app, '--json']);
    const [a, b] = [JSON.parse(first.stdout), JSON.parse(second.stdout)];
    expect(a.build_id).not.toBe(b.build_id);
    expect(await readFile(path.join(a.runtime.working_dir, 'index.html'), 'utf8')).toContain('hello from static-site');
    expect(await readFile(path.join(b.runtime.working_dir, 'index.html'), 'utf8')).toBe('changed');
  });

  it('lets pip take its index settings from the user\'s environment', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('python-web');
    const wheels = path.join(sandbox.dir, 'wheels');
    await rename(path.join(app, 'wheels'), wheels);
    await writeFile(path.join(app, 'requirements.txt'), 'hop3-greeting==1.0.0\n');
    const build = await sandbox.hop3(['build', app], { env: { PIP_NO_INDEX: '1', PIP_FIND_LINKS: wheels } });
    expect(build.exitCode, build.all).toBe(0);
    expect(build.stderr).toContain('Successfully installed hop3-greeting-1.0.0');
  });

  it('runs build hooks in the build copy, never in the source dir', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('static-site');
    await writeFile(path.join(app, 'hop3.toml'), '[build]\nbefore-build = "echo before > stamp.txt"\nafter-build = ["echo after >> stamp.txt"]\n');
    const build = await sandbox.hop3(['build', app, '--json']);
    expect(build.exitCode, build.all).toBe(0);
    const artifact = JSON.parse(build.stdout);
    expect(await readFile(path.join(artifact.runtime.working_dir, 'stamp.txt'), 'utf8')).toBe('before\nafter\n');
    await expect(readFile(path.join(app, 'stamp.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('stops its workers on Ctrl-C in --foreground', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('procfile-app');
    const port = await freePort();
    const child = execa(process.execPath, [path.join(ROOT, 'bin/hop3.js'), 'deploy', app, '--port', String(port), '--foreground'], { env: sandbox.env, reject: false, all: true });
    let output = '';
    child.all?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await expect.poll(() => output, { timeout: 60_000 }).toContain(`http://127.0.0.1:${port}/`);
    await expect.poll(() => output, { timeout: 10_000 }).toContain('tick');
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode, result.all).toBe(0);
    expect(await sandbox.strayPids()).toEqual([]);
  });
});
