import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { freePort, ROOT, Sandbox } from './helpers/sandbox.js';

/** Bad input: a clear error naming the file/field/line, a non-zero exit, no stray process, no damaged earlier artifact. */
describe('hop3 CLI on bad input', () => {
  /** Builds a good artifact first, so each case can prove it survived the failure. */
  async function withGoodBuild(sandbox: Sandbox, fixture = 'procfile-app') {
    const app = await sandbox.fixture(fixture);
    const build = await sandbox.hop3(['build', app]);
    expect(build.exitCode, build.all).toBe(0);
    const latest = path.join(sandbox.home, 'apps', fixture, 'BUILD_ARTIFACT.json');
    const good = await readFile(latest, 'utf8');
    const buildsDir = path.join(sandbox.home, 'apps', fixture, 'builds');
    const builds = await readdir(buildsDir);
    const unchanged = async () => {
      expect(await readFile(latest, 'utf8')).toBe(good);
      expect(await readdir(buildsDir)).toEqual(builds);
      expect(await sandbox.strayPids()).toEqual([]);
    };
    return { app, unchanged, latest, good, buildsDir, builds };
  }

  /** The error format, with the exit code it means: 1 for failures, 2 for usage errors, 130 for Ctrl-C. */
  function expectClearError(result: { exitCode?: number; stderr: string }, expected: string | { code: string; exit: number }, ...fragments: string[]) {
    const { code, exit } = typeof expected === 'string' ? { code: expected, exit: 1 } : expected;
    expect(result.exitCode, result.stderr).toBe(exit);
    expect(result.stderr).toMatch(/^hop3: /m);
    expect(result.stderr).toContain(`[${code}]`);
    expect(result.stderr).toMatch(/\nhint: /);
    expect(result.stderr).not.toMatch(/^\s+at .*\(.*:\d+:\d+\)$/m); // no stack trace
    for (const fragment of fragments) expect(result.stderr).toContain(fragment);
  }

  it.each([
    ['names the line of a malformed Procfile', 'Procfile', 'web: python3 -m http.server\nthis line has no colon\n', 'CONFIG_PROCFILE_INVALID', ['Procfile:2']],
    ['names the key of a hop3.toml value with the wrong type', 'hop3.toml', '[run]\nhealthcheck-timeout = "thirty"\n', 'CONFIG_TOML_INVALID', ['hop3.toml', 'run.healthcheck-timeout']],
    ['reports a failing build hook with its output and removes the half-made build', 'hop3.toml', '[build]\nbuild = "echo compiling; exit 7"\n', 'BUILD_HOOK_FAILED', ['exit code 7', 'compiling']],
    ['refuses [env] PATH, saying where PATH comes from', 'hop3.toml', '[env]\nPATH = "/opt/bin:/usr/bin"\n', 'CONFIG_TOML_INVALID', ['hop3.toml: env.PATH: PATH is set by hop3', 'path_prepend']],
    ['refuses [env] PORT, saying hop3 gives it', 'hop3.toml', '[env]\nPORT = 8080\n', 'CONFIG_TOML_INVALID', ['env.PORT: PORT is set by hop3', 'read $PORT']],
    ['refuses an [env] name that is not a variable name', 'hop3.toml', '[env]\n"DB URL" = "x"\n', 'CONFIG_TOML_INVALID', ['env."DB URL": not a variable name']],
    ['names an unknown key in one of Hop3\'s sections', 'hop3.toml', '[backup]\nenable = true\n', 'CONFIG_TOML_INVALID', ['hop3.toml: backup: Unrecognized key: "enable"']],
    ['refuses a Procfile worker name with shell metacharacters', 'Procfile', 'web;touch /tmp/x: python3 app.py\n', 'CONFIG_PROCFILE_INVALID', ['Procfile:1', 'invalid process name']],
  ])('%s', async (_title, file, content, code, fragments) => {
    await using sandbox = await Sandbox.create();
    const { app, unchanged } = await withGoodBuild(sandbox);
    await writeFile(path.join(app, file), content);
    expectClearError(await sandbox.hop3(['build', app]), code, ...fragments);
    await unchanged();
  });

  it('names the missing field of an artifact, and says a truncated one is not JSON', async () => {
    await using sandbox = await Sandbox.create();
    const { unchanged } = await withGoodBuild(sandbox);
    const good = JSON.parse(await readFile(path.join(sandbox.home, 'apps/procfile-app/BUILD_ARTIFACT.json'), 'utf8'));
    const missing = path.join(sandbox.dir, 'missing.json');
    delete good.runtime.workers;
    await writeFile(missing, JSON.stringify(good));
    expectClearError(await sandbox.hop3(['run', 'procfile-app', '--artifact', missing]), 'ARTIFACT_INVALID', missing, 'runtime.workers');
    const truncated = path.join(sandbox.dir, 'truncated.json');
    await writeFile(truncated, JSON.stringify(good).slice(0, 120));
    expectClearError(await sandbox.hop3(['inspect', truncated]), 'ARTIFACT_INVALID_JSON', truncated);
    await unchanged();
  });

  it('refuses app names that would escape HOP3_HOME', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('procfile-app');
    for (const [args, name] of [[['build', app, '--name', '../evil'], '../evil'], [['stop', '../evil'], '../evil'], [['logs', 'a/../../b'], 'a/../../b']] as const) {
      expectClearError(await sandbox.hop3([...args]), { code: 'CONFIG_INVALID_APP_NAME', exit: 2 }, `Invalid app name ${JSON.stringify(name)}`);
    }
    expect(await readdir(sandbox.dir)).toEqual(['apps']); // nothing written outside, not even HOP3_HOME
  });

  it('stops and reports a failing before_run, starting no worker', async () => {
    await using sandbox = await Sandbox.create();
    const { app, latest, good, buildsDir, builds } = await withGoodBuild(sandbox);
    await writeFile(path.join(app, 'hop3.toml'), '[run]\nbefore-run = "echo migrating; echo boom >&2; exit 3"\n');
    const result = await sandbox.hop3(['deploy', app, '--port', String(await freePort())]);
    expectClearError(result, 'DEPLOY_BEFORE_RUN_FAILED', 'exit 3', 'boom');
    expect(await sandbox.strayPids()).toEqual([]);
    // The failed deploy's build is kept (it was built fine, it just does not run): one more build, and it is the latest.
    const after = await readdir(buildsDir);
    expect(after.filter((build) => !builds.includes(build))).toHaveLength(1);
    const newest = JSON.parse(await readFile(latest, 'utf8'));
    expect(newest.build_id).not.toBe(JSON.parse(good).build_id);
    expect(newest.runtime.before_run).toEqual(['echo migrating; echo boom >&2; exit 3']);
    expect(JSON.parse((await sandbox.hop3(['status', 'procfile-app', '--json'])).stdout).running).toBe(false);
  });

  it('stops what it started when the app never becomes healthy, and shows the log tail', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('procfile-app');
    await writeFile(path.join(app, 'Procfile'), 'web: echo "listening soon"; sleep 300\n');
    await writeFile(path.join(app, 'hop3.toml'), '[run]\nhealthcheck-timeout = 2\n[healthcheck]\npath = "/health"\n');
    const result = await sandbox.hop3(['deploy', app, '--port', String(await freePort())]);
    expectClearError(result, 'DEPLOY_NOT_HEALTHY', 'after 2 s', '/health', 'listening soon');
    expect(await sandbox.strayPids()).toEqual([]);
    expect(JSON.parse((await sandbox.hop3(['status', 'procfile-app', '--json'])).stdout).running).toBe(false);
  });

  it('stops what it started when Ctrl-C interrupts a deploy', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('procfile-app');
    await writeFile(path.join(app, 'Procfile'), 'web: sleep 300\n');
    await writeFile(path.join(app, 'hop3.toml'), '[healthcheck]\npath = "/health"\n');
    const child = execa(process.execPath, [path.join(ROOT, 'bin/hop3.js'), 'deploy', app, '--port', String(await freePort())], { env: sandbox.env, reject: false, all: true });
    let output = '';
    child.all?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await expect.poll(() => output, { timeout: 30_000 }).toContain('waiting up to 30 s');
    expect(await sandbox.strayPids()).not.toEqual([]);
    child.kill('SIGINT');
    expectClearError(await child, { code: 'CLI_CANCELLED', exit: 130 }, 'nothing this command started is left running');
    expect(await sandbox.strayPids()).toEqual([]);
  });

  it('fails fast when the web worker exits, with its output', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('procfile-app');
    await writeFile(path.join(app, 'Procfile'), 'web: echo "cannot start: missing config" >&2; exit 4\n');
    const result = await sandbox.hop3(['deploy', app, '--port', String(await freePort())]);
    expectClearError(result, 'DEPLOY_WORKER_EXITED', 'Worker web exited (code 4)', 'missing config');
  });

  it.each([
    ['behind the router, leaves the live release untouched', {}, 'live release (build %s) was not touched'],
    ['without the router (HOP3_ROUTER=off), brings the previous release back', { HOP3_ROUTER: 'off' }, 'previous release (build %s) was restarted'],
  ])('when a new release fails %s', async (_mode, env, message) => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('procfile-app');
    const port = String(await freePort());
    expect((await sandbox.hop3(['deploy', app, '--port', port], { env })).exitCode).toBe(0);
    const before = JSON.parse((await sandbox.hop3(['status', 'procfile-app', '--json'])).stdout);
    await writeFile(path.join(app, 'Procfile'), 'web: exit 1\n');
    const broken = await sandbox.hop3(['deploy', app, '--port', port], { env });
    expectClearError(broken, 'DEPLOY_WORKER_EXITED', message.replace('%s', before.build_id));
    expect(broken.stderr).not.toContain('could not restart the previous release');
    const after = JSON.parse((await sandbox.hop3(['status', 'procfile-app', '--json'])).stdout);
    expect(after).toMatchObject({ running: true, build_id: before.build_id });
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toContain('hello from procfile-app');
  });

  it('refuses a port another app runs on, before touching anything, and does not remember it', async () => {
    await using sandbox = await Sandbox.create();
    const first = await sandbox.fixture('procfile-app', 'first');
    const second = await sandbox.fixture('procfile-app', 'second');
    const port = String(await freePort());
    expect((await sandbox.hop3(['deploy', first, '--port', port])).exitCode).toBe(0);
    expect((await sandbox.hop3(['deploy', second])).exitCode).toBe(0);
    const secondPort = (await readFile(path.join(sandbox.home, 'apps', 'second', 'run', 'port'), 'utf8')).trim();
    const claim = await sandbox.hop3(['deploy', second, '--port', port]);
    expectClearError(claim, 'DEPLOY_PORT_IN_USE', `Port ${port} belongs to app first`);
    expect((await readFile(path.join(sandbox.home, 'apps', 'second', 'run', 'port'), 'utf8')).trim()).toBe(secondPort);
    expect(await (await fetch(`http://127.0.0.1:${secondPort}/`)).text()).toContain('hello from procfile-app'); // second still runs
    const releases = JSON.parse((await sandbox.hop3(['releases', 'second', '--json'])).stdout) as { status: string }[];
    expect(releases.map((r) => r.status)).toEqual(['live']);
  });

  // Without the router the running release is stopped before the new one starts: the check must come first.
  it.each([['behind the router', {}], ['without the router', { HOP3_ROUTER: 'off' }]])('refuses an artifact whose build directory is not on this host before touching the running release (%s)', async (_mode, env) => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('procfile-app');
    const port = String(await freePort());
    expect((await sandbox.hop3(['deploy', app, '--port', port], { env })).exitCode).toBe(0);
    const before = JSON.parse((await sandbox.hop3(['status', 'procfile-app', '--json'], { env })).stdout);
    const releases = await readdir(path.join(sandbox.home, 'apps/procfile-app/releases'));
    const artifact = JSON.parse(await readFile(path.join(sandbox.home, 'apps/procfile-app/BUILD_ARTIFACT.json'), 'utf8'));
    const gone = path.join(sandbox.dir, 'other-host', 'builds', 'x');
    const elsewhere = path.join(sandbox.dir, 'elsewhere.json');
    await writeFile(elsewhere, JSON.stringify({ ...artifact, location: gone, runtime: { ...artifact.runtime, working_dir: path.join(gone, 'app') } }));
    const run = await sandbox.hop3(['run', 'procfile-app', '--artifact', elsewhere, '--port', port], { env });
    expect(run.exitCode).toBe(1);
    expectClearError(run, 'DEPLOY_LOCATION_MISSING', `its location ${gone} is not a directory on this host`, 'rebuild here');
    expect(run.stderr).not.toContain('stopping the running release');
    expect(await readdir(path.join(sandbox.home, 'apps/procfile-app/releases'))).toEqual(releases); // no release was even recorded
    const after = JSON.parse((await sandbox.hop3(['status', 'procfile-app', '--json'], { env })).stdout);
    expect(after).toMatchObject({ running: true, build_id: before.build_id, workers: before.workers.map((w: { id: string }) => expect.objectContaining({ id: w.id })) });
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toContain('hello from procfile-app');
  });

  it('builds an app with no worker (with a warning) but refuses to run it', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('node-web');
    await writeFile(path.join(app, 'package.json'), JSON.stringify({ name: 'idle', version: '1.0.0' }));
    await rm(path.join(app, 'package-lock.json'));
    await rm(path.join(app, 'server.js'));
    const build = await sandbox.hop3(['build', app]);
    expect(build.exitCode, build.all).toBe(0);
    expect(build.stderr).toContain('warning: no worker is defined');
    expectClearError(await sandbox.hop3(['run', 'node-web']), 'DEPLOY_NO_WORKERS', 'defines no worker');
  });

  it('answers for an app it does not know without creating state for it', async () => {
    await using sandbox = await Sandbox.create();
    const stop = await sandbox.hop3(['stop', 'ghost']);
    expect(stop.exitCode).toBe(0);
    expect(stop.stderr).toContain('ghost is not running');
    expectClearError(await sandbox.hop3(['run', 'ghost']), 'ARTIFACT_NOT_FOUND', 'hop3 build <dir> --name ghost');
    expectClearError(await sandbox.hop3(['logs', 'ghost']), 'DEPLOY_NOT_RUNNING', 'App ghost is not running');
    expect((await sandbox.hop3(['status'])).stdout).toContain('no apps yet');
  });

  it('rejects bad options as usage errors (exit 2)', async () => {
    await using sandbox = await Sandbox.create();
    expectClearError(await sandbox.hop3(['run', 'x', '--port', 'eighty']), { code: 'CLI_INVALID_OPTION', exit: 2 }, '--port must be a whole number from 1 to 65535, in plain digits (got "eighty")');
    // Commander's own usage errors: its wording, exit 2.
    const builder = await sandbox.hop3(['build', '.', '--builder', 'podman']);
    expect({ exit: builder.exitCode, stderr: builder.stderr }).toEqual({ exit: 2, stderr: expect.stringContaining("argument 'podman' is invalid. Allowed choices are local, docker, nix.") });
    const command = await sandbox.hop3(['frobnicate']);
    expect({ exit: command.exitCode, stderr: command.stderr }).toEqual({ exit: 2, stderr: expect.stringContaining("unknown command 'frobnicate'") });
    const app = await sandbox.fixture('static-site');
    for (const output of [path.join(sandbox.dir, 'no-such-dir', 'a.json'), sandbox.dir]) {
      expectClearError(await sandbox.hop3(['build', app, '--output', output]), { code: 'ARTIFACT_OUTPUT_INVALID', exit: 2 }, `--output ${output}`);
    }
    expect(await readdir(sandbox.dir)).toEqual(['apps']); // refused before building: no HOP3_HOME was even created
    const missing = await sandbox.hop3(['build', path.join(sandbox.dir, 'nope')]);
    expectClearError(missing, 'BUILD_SOURCE_NOT_FOUND', `${path.join(sandbox.dir, 'nope')} is not a directory`);
  });
});
