import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkProbes, freePort, logLines, Sandbox } from './helpers/sandbox.js';

/** Local builds do not travel by push: they are bundled for a host with the same OS and interpreters. */
describe('hop3 push, bundle and unbundle of local builds', () => {
  it('bundles a local python build, unbundles it into another HOP3_HOME (the first one gone), and it serves HTTP there', async () => {
    await using holder = await Sandbox.create(); // where the tarball travels: outlives both homes
    const tarball = path.join(holder.dir, 'py.tar.gz');
    let built: { location: string; build_id: string };
    {
      await using ci = await Sandbox.create({ home: 'ci-home' });
      const dir = await ci.fixture('python-web', 'shp-bundle');
      const build = await ci.hop3(['build', dir, '--quiet']);
      expect(build.exitCode, build.all).toBe(0);
      built = JSON.parse(await readFile(build.stdout.trim(), 'utf8'));
      const bundle = await ci.hop3(['bundle', 'shp-bundle', '-o', tarball, '--json']);
      expect(bundle.exitCode, bundle.all).toBe(0);
      const result = JSON.parse(bundle.stdout);
      expect(result).toMatchObject({ file: tarball, app: 'shp-bundle', build_id: built.build_id });
      // The venv's interpreter is the one thing outside the build it needs.
      expect(result.needs.length).toBeGreaterThan(0);
      expect(result.needs.every((target: string) => path.isAbsolute(target))).toBe(true);
    } // the CI home and its build are removed here: nothing can run from them any more
    await expect(stat(built.location)).rejects.toMatchObject({ code: 'ENOENT' });

    await using prod = await Sandbox.create({ home: 'prod home' }); // another path, with a space in it
    const unbundle = await prod.hop3(['unbundle', tarball, '--json']);
    expect(unbundle.exitCode, unbundle.all).toBe(0);
    const placed = JSON.parse(unbundle.stdout);
    const location = path.join(prod.home, 'apps', 'shp-bundle', 'builds', built.build_id);
    expect(placed).toMatchObject({ app: 'shp-bundle', build_id: built.build_id, location, file: path.join(location, 'BUILD_ARTIFACT.json') });
    expect(placed.relocated).toBeGreaterThan(0);
    // The venv names its new place: shebangs and pyvenv.cfg no longer point at the CI home.
    const activate = await readFile(path.join(location, 'app', '.venv', 'bin', 'activate'), 'utf8');
    expect(activate).toContain(location);
    expect(activate).not.toContain(built.location);
    const artifact = JSON.parse(await readFile(placed.file, 'utf8'));
    expect(JSON.stringify(artifact.runtime)).not.toContain(built.location);
    expect(artifact.metadata.unbundled).toEqual({ from: built.location, bundle: 'py.tar.gz' });

    const port = await freePort();
    const run = await prod.hop3(['run', 'shp-bundle', '--port', String(port)]);
    expect(run.exitCode, run.all).toBe(0);
    await checkProbes(`http://127.0.0.1:${port}/`, 'python-web');
    const status = JSON.parse((await prod.hop3(['status', 'shp-bundle', '--json'])).stdout);
    expect(status).toMatchObject({ running: true, builder: 'local', deployer: 'process' });
    expect((await prod.hop3(['stop', 'shp-bundle'])).exitCode).toBe(0);
    expect(await prod.strayPids()).toEqual([]);
  });

  it('refuses to push a local build (its location is a directory here), suggesting the docker or nix builder', async () => {
    await using sandbox = await Sandbox.create();
    const dir = await sandbox.fixture('procfile-app', 'shp-local');
    expect((await sandbox.hop3(['build', dir, '--quiet'])).exitCode).toBe(0);
    const push = await sandbox.hop3(['push', 'shp-local', '--registry', '127.0.0.1:5000']);
    expect(push.exitCode).toBe(2);
    expect(push.stderr).toContain('is a directory on this host');
    expect(push.stderr).toContain('[SHIP_LOCAL_ARTIFACT]');
    expect(push.stderr).toMatch(/hint: .*--builder docker.*--builder nix.*hop3 bundle/);
  });

  it('refuses a file that is not a bundle, and bundling what is not a local build', async () => {
    await using sandbox = await Sandbox.create();
    const junk = path.join(sandbox.dir, 'junk.tar.gz');
    await writeFile(junk, 'not a tarball');
    const unbundle = await sandbox.hop3(['unbundle', junk]);
    expect(unbundle.exitCode).toBe(2);
    expect(unbundle.stderr).toContain('[SHIP_BUNDLE_INVALID]');

    const dir = await sandbox.fixture('procfile-app', 'shp-img');
    const build = await sandbox.hop3(['build', dir, '--quiet']);
    const local = JSON.parse(await readFile(build.stdout.trim(), 'utf8'));
    const image = { ...local, builder: 'docker', location: 'hop3/shp-img:1', runtime: { ...local.runtime, working_dir: '/app', static_paths: {}, path_prepend: [] } };
    const file = path.join(sandbox.dir, 'image.json');
    await writeFile(file, JSON.stringify(image));
    const bundle = await sandbox.hop3(['bundle', file]);
    expect(bundle.exitCode).toBe(2);
    expect(bundle.stderr).toContain('[SHIP_NOT_LOCAL]');
    expect(logLines(bundle.stderr).join('\n')).toContain('hop3 push');
  });

  it('documents push, bundle and unbundle in --help', async () => {
    await using sandbox = await Sandbox.create();
    for (const [command, words] of [['push', ['--registry', '--store', '--sign-key', '--password-stdin', '--json']], ['bundle', ['--output', '--json']], ['unbundle', ['--name', '--json']]] as const) {
      const help = await sandbox.hop3([command, '--help']);
      expect(help.exitCode).toBe(0);
      for (const word of words) expect(help.stdout).toContain(word);
    }
  });
});
