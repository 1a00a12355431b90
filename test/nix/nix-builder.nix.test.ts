import { access, appendFile, readFile, readlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { checkProbes, freePort, Sandbox } from '../helpers/sandbox.js';
import { describeNix, NIX_TEST_ENV, useMiniNixpkgs } from './nix-env.js';

interface Built {
  artifactFile: string;
  artifact: { location: string; build_id: string; builder: string; runtime: { working_dir: string; path_prepend: string[] }; metadata: { nix: Record<string, unknown> } };
}

async function nixBuild(sandbox: Sandbox, app: string, output: string, extra: string[] = []): Promise<Built> {
  const artifactFile = path.join(sandbox.dir, output);
  const build = await sandbox.hop3(['build', app, '--builder', 'nix', '--output', artifactFile, ...extra], { env: NIX_TEST_ENV });
  expect(build.exitCode, build.all).toBe(0);
  return { artifactFile, artifact: JSON.parse(await readFile(artifactFile, 'utf8')) };
}

async function serve(sandbox: Sandbox, name: string, artifactFile: string): Promise<string> {
  const port = await freePort();
  const run = await sandbox.hop3(['run', name, '--artifact', artifactFile, '--port', String(port)]);
  expect(run.exitCode, run.all).toBe(0);
  return `http://127.0.0.1:${port}/`;
}

const exists = (file: string) => access(file).then(() => true, () => false);

describeNix('nix builder with the real nix', () => {
  it.each([
    ['nix-flake', 'flake.nix'],
    ['nix-default', 'default.nix'],
    ['python-web', "hop3.nix (generated from hop3's nix/python.nix)"],
    ['python-wsgi', "hop3.nix (generated from hop3's nix/python.nix)"],
    ['node-web', "hop3.nix (generated from hop3's nix/node.nix)"],
    // No start script: its build's dist/ is served by hop3's static server, vendored into the offline build.
    ['node-vite-static', "hop3.nix (generated from hop3's nix/node.nix)"],
    ['static-site', "hop3.nix (generated from hop3's nix/static.nix)"],
  ])('builds %s from %s into /nix/store and serves it from another HOP3_HOME with the artifact alone', async (fixture, input) => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture(fixture);
    if (fixture === 'nix-flake') await useMiniNixpkgs(app);
    const { artifactFile, artifact } = await nixBuild(sandbox, app, `${fixture}.json`);
    expect(artifact.builder).toBe('nix');
    expect(artifact.location).toMatch(/^\/nix\/store\/[0-9a-z]{32}-/);
    expect(artifact.build_id).toBe(path.basename(artifact.location).slice(0, 12));
    expect(artifact.metadata.nix).toMatchObject({ input, version: expect.any(String), drv_path: expect.stringMatching(/\.drv$/) });
    expect(artifact.runtime.working_dir.startsWith(artifact.location)).toBe(true);
    expect(artifact.runtime.path_prepend).toContain(`${artifact.location}/bin`);
    expect(await readlink(path.join(sandbox.home, 'apps', fixture, 'gcroots', artifact.build_id))).toBe(artifact.location);

    const url = await serve(sandbox, fixture, artifactFile);
    await checkProbes(url, fixture);
    expect((await sandbox.hop3(['stop', fixture])).exitCode).toBe(0);
    expect(await sandbox.strayPids()).toEqual([]);
  });

  it('gives the same store path and build id for the same source, and a new one (old still rooted) for a change', async () => {
    await using sandbox = await Sandbox.create();
    const first = await nixBuild(sandbox, await sandbox.fixture('python-web', 'copy-a'), 'a.json', ['--name', 'python-web']);
    // Another copy elsewhere, built under the same app name: equal sources, equal derivation.
    const again = await nixBuild(sandbox, await sandbox.fixture('python-web', 'copy-b'), 'b.json', ['--name', 'python-web', '--force']);
    expect(again.artifact.location).toBe(first.artifact.location);

    const same = await sandbox.fixture('python-web', 'python-web');
    const named = await nixBuild(sandbox, same, 'c.json');
    const twice = await nixBuild(sandbox, same, 'd.json', ['--force']); // nix evaluates and builds again, not hop3's reuse
    expect(twice.artifact.location).toBe(named.artifact.location);
    expect(twice.artifact.build_id).toBe(named.artifact.build_id);

    await appendFile(path.join(same, 'app.py'), '\n# changed\n');
    const changed = await nixBuild(sandbox, same, 'e.json');
    expect(changed.artifact.location).not.toBe(named.artifact.location);
    const gcroots = path.join(sandbox.home, 'apps', 'python-web', 'gcroots');
    expect(await readlink(path.join(gcroots, named.artifact.build_id))).toBe(named.artifact.location);
    expect(await readlink(path.join(gcroots, changed.artifact.build_id))).toBe(changed.artifact.location);
  });

  it('keeps running and rolling back after nix-collect-garbage between builds', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('nix-flake');
    await useMiniNixpkgs(app);
    const v1 = await nixBuild(sandbox, app, 'v1.json');
    const url = await serve(sandbox, 'nix-flake', v1.artifactFile);

    await appendFile(path.join(app, 'server.py'), '\n# v2\n');
    const v2 = await nixBuild(sandbox, app, 'v2.json');
    expect(v2.artifact.location).not.toBe(v1.artifact.location);

    // An unrooted path the collector must remove: proof that it really ran.
    const unrooted = await execa('nix', ['build', '--no-link', '--json', '--option', 'substituters', '', '--impure', '--expr',
      `derivation { name = "hop3-gc-probe"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo ${Date.now()} > $out" ]; }`,
    ], { env: { ...process.env, ...NIX_TEST_ENV } });
    const probe = JSON.parse(unrooted.stdout)[0].outputs.out as string;
    const gc = await execa('nix-collect-garbage', [], { reject: false, all: true });
    expect(gc.exitCode, gc.all).toBe(0);
    expect(await exists(probe)).toBe(false);

    expect(await exists(v1.artifact.location)).toBe(true);
    expect(await exists(v2.artifact.location)).toBe(true);
    await checkProbes(url, 'nix-flake'); // v1 still answers
    expect((await sandbox.hop3(['stop', 'nix-flake'])).exitCode).toBe(0);
    await checkProbes(await serve(sandbox, 'nix-flake', v1.artifactFile), 'nix-flake'); // and runs again (roll back)
    expect((await sandbox.hop3(['stop', 'nix-flake'])).exitCode).toBe(0);
  });

  it('builds an ejected hop3.nix to the same store path as the generated expression', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('node-web');
    const generated = await nixBuild(sandbox, app, 'generated.json');
    const eject = await sandbox.hop3(['nix', 'eject', app]);
    expect(eject.exitCode, eject.all).toBe(0);
    expect(await readFile(path.join(app, 'hop3.nix'), 'utf8')).toContain('pkgs.runCommand name');
    const ejected = await nixBuild(sandbox, app, 'ejected.json');
    expect(ejected.artifact.metadata.nix.input).toBe('hop3.nix');
    expect(ejected.artifact.location).toBe(generated.artifact.location);
    const again = await sandbox.hop3(['nix', 'eject', app]); // never overwrites
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain(`${path.join(app, 'hop3.nix')} exists: the app already has its own Nix expression`);
    expect(again.stderr).toContain('[BUILD_NIX_EJECT_EXISTS]');
  });

  describe('errors', () => {
    async function failingBuild(change: (app: string) => Promise<void>, fixture = 'nix-flake') {
      await using sandbox = await Sandbox.create();
      const app = await sandbox.fixture(fixture);
      if (fixture === 'nix-flake') await useMiniNixpkgs(app);
      await change(app);
      const build = await sandbox.hop3(['build', app, '--builder', 'nix'], { env: NIX_TEST_ENV });
      expect(build.exitCode).toBe(1);
      expect(build.stderr).not.toMatch(/\n\s+at .*\.js:\d+/); // no stack trace
      expect(await exists(path.join(sandbox.home, 'apps', fixture, 'BUILD_ARTIFACT.json'))).toBe(false);
      return { app, stderr: build.stderr };
    }
    const edit = (file: string, from: string | RegExp, to: string) => async (app: string) => {
      const target = path.join(app, file);
      await writeFile(target, (await readFile(target, 'utf8')).replace(from, to));
    };

    it('a syntax error in flake.nix shows Nix\'s own message at the user\'s file and line', async () => {
      const { app, stderr } = await failingBuild(edit('flake.nix', 'systems = [', 'systems = [ ('));
      expect(stderr).toContain('[BUILD_NIX_EVAL_FAILED]');
      expect(stderr).toContain(`${app}/flake.nix:`);
      expect(stderr).toMatch(/error: syntax error/);
    });

    it('a host without nixpkgs in its search path gets BUILD_NIX_NIXPKGS_MISSING saying how to provide it', async () => {
      await using sandbox = await Sandbox.create();
      const app = await sandbox.fixture('node-web');
      const build = await sandbox.hop3(['build', app, '--builder', 'nix'], { env: { ...NIX_TEST_ENV, NIX_PATH: '' } });
      expect(build.exitCode, build.all).toBe(1);
      expect(build.stderr).toContain('[BUILD_NIX_NIXPKGS_MISSING]');
      expect(build.stderr).toContain('hop3.nix (generated from hop3\'s nix/node.nix) imports <nixpkgs>');
      expect(build.stderr).toMatch(/hint: Point NIX_PATH at a nixpkgs checkout/);
      expect(build.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
    });

    it('a failing builder names the derivation and shows the last log lines', async () => {
      const { stderr } = await failingBuild(edit('flake.nix', 'chmod +x', 'echo "about to fail" >&2; exit 3; chmod +x'));
      expect(stderr).toContain('[BUILD_NIX_BUILD_FAILED]');
      expect(stderr).toMatch(/Nix could not build \/nix\/store\/\S+-nix-flake-app\.drv \(exit code 3\)/);
      expect(stderr).toContain('nix-flake-app> about to fail');
    });

    it.each([
      ['nix-flake', 'nope', 'default'],
      ['nix-default', 'servr', 'server, site'],
    ])('a wrong attribute in %s names it and lists those that exist', async (fixture, attr, listed) => {
      const { stderr } = await failingBuild(async (app) => {
        const toml = path.join(app, 'hop3.toml');
        const text = await readFile(toml, 'utf8');
        await writeFile(toml, text.includes('attr =') ? text.replace(/attr = ".*"/, `attr = "${attr}"`) : text.replace('[nix]', `[nix]\nattr = "${attr}"`));
      }, fixture);
      expect(stderr).toContain('[BUILD_NIX_ATTR_MISSING]');
      expect(stderr).toContain(`no attribute "${attr}"`);
      expect(stderr).toContain(`Attributes that exist: ${listed}.`);
    });

    it('no nix on PATH says how to install it', async () => {
      await using sandbox = await Sandbox.create();
      const app = await sandbox.fixture('nix-default');
      const bin = path.join(sandbox.dir, 'bin');
      await execa('mkdir', ['-p', bin]);
      await execa('ln', ['-s', process.execPath, path.join(bin, 'node')]);
      const build = await sandbox.hop3(['build', app, '--builder', 'nix'], { env: { ...NIX_TEST_ENV, PATH: bin } });
      expect(build.exitCode).toBe(1);
      expect(build.stderr).toContain('[BUILD_NIX_MISSING]');
      expect(build.stderr).toContain('apt-get install nix-bin');
    });
  });
});
