import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkProbes, freePort, logLines, ROOT, Sandbox } from './helpers/sandbox.js';

/**
 * corepack fetches yarn and pnpm from the npm registry. This machine's registry mirror serves no signatures
 * (COREPACK_INTEGRITY_KEYS=0 is the user's choice, made here by the test) and repo.yarnpkg.com, where
 * corepack gets yarn 2+, is unreachable (COREPACK_NPM_REGISTRY sends it to the npm registry).
 */
const COREPACK_ENV = { COREPACK_ENABLE_DOWNLOAD_PROMPT: '0', COREPACK_INTEGRITY_KEYS: '0', COREPACK_NPM_REGISTRY: 'https://registry.npmjs.org' };

/** Node apps as Heroku builds them, with the local builder and the process deployer. */
describe('node conventions (local builder)', () => {
  it('builds yarn 1, yarn berry and pnpm apps with their manager through corepack, frozen to their lockfile, and serves them', async () => {
    await using sandbox = await Sandbox.create();
    const apps = [
      { fixture: 'node-yarn1', install: 'yarn install --frozen-lockfile --non-interactive (yarn.lock)', fetched: 'fetching yarn@1 with corepack' },
      { fixture: 'node-yarn-berry', install: 'yarn install --immutable (yarn.lock)', fetched: 'fetching yarn@4.5.3 with corepack' },
      { fixture: 'node-pnpm', install: 'pnpm install --frozen-lockfile (pnpm-lock.yaml)', fetched: 'fetching pnpm@9 with corepack' },
    ];
    for (const { fixture, install, fetched } of apps) {
      const app = await sandbox.fixture(fixture);
      const deploy = await sandbox.hop3(['deploy', app, '--port', String(await freePort())], { env: COREPACK_ENV });
      expect(deploy.exitCode, deploy.all).toBe(0);
      const lines = logLines(deploy.stderr);
      expect(lines, fixture).toContain(`==> ${install}`);
      expect(lines.some((line) => line.startsWith(`==> ${fetched} into ${path.join(sandbox.home, 'cache', 'corepack')}`)), deploy.stderr).toBe(true);
      // node-yarn1's Procfile says `web: yarn start`: the manager is on the workers' PATH; node-pnpm answers whether its dev dependency was pruned.
      await checkProbes(deploy.stdout.trim(), fixture);
    }
    const artifact = JSON.parse(await readFile(path.join(sandbox.home, 'apps', 'node-yarn1', 'BUILD_ARTIFACT.json'), 'utf8'));
    expect(artifact.runtime.workers.web).toBe('yarn start');
    expect(artifact.runtime.path_prepend).toEqual([path.join(artifact.runtime.working_dir, 'node_modules', '.bin'), path.join(artifact.runtime.working_dir, '.hop3', 'bin')]);
    expect((await readdir(path.join(sandbox.home, 'cache', 'corepack', 'v1', 'yarn'))).sort()).toEqual(['1.22.22', '4.5.3']);

    // Built again: the manager comes from the cache, without the network.
    const rebuild = await sandbox.hop3(['build', path.join(sandbox.dir, 'apps', 'node-yarn1'), '--force'], { env: { ...COREPACK_ENV, COREPACK_NPM_REGISTRY: `http://127.0.0.1:${await freePort()}` } });
    expect(rebuild.exitCode, rebuild.all).toBe(0);
    expect(logLines(rebuild.stderr)).toContain(`==> yarn@1.22.22: corepack has it in ${path.join(sandbox.home, 'cache', 'corepack')}`);

    // Deployed again with the same dependency inputs: pnpm's node_modules (symlinks into .pnpm) is linked from the last build, pnpm is set up anew.
    const again = await sandbox.hop3(['deploy', path.join(sandbox.dir, 'apps', 'node-pnpm'), '--force'], { env: COREPACK_ENV });
    expect(again.exitCode, again.all).toBe(0);
    expect(logLines(again.stderr).some((line) => /^==> reusing dependencies from build \S+ \(pnpm-lock\.yaml unchanged\)$/.test(line)), again.stderr).toBe(true);
    expect(logLines(again.stderr)).not.toContain('==> pnpm install --frozen-lockfile (pnpm-lock.yaml)');
    await checkProbes(again.stdout.trim(), 'node-pnpm');

    for (const { fixture } of apps) expect((await sandbox.hop3(['stop', fixture])).exitCode).toBe(0);
    expect(await sandbox.strayPids()).toEqual([]);
  });

  it('a manager corepack cannot fetch is BUILD_COREPACK_FAILED naming the COREPACK_* settings, not a stack trace', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('node-yarn-berry');
    const registry = `http://127.0.0.1:${await freePort()}`; // nothing listens there
    const build = await sandbox.hop3(['build', app], { env: { ...COREPACK_ENV, COREPACK_NPM_REGISTRY: registry } });
    expect(build.exitCode).toBe(1);
    expect(build.stderr).toMatch(/hop3: Cannot set up yarn \(yarn@4\.5\.3, packageManager yarn@4\.5\.3 in package\.json\): cannot fetch yarn@4\.5\.3: .*ECONNREFUSED 127\.0\.0\.1.* \[BUILD_COREPACK_FAILED\]/);
    expect(build.stderr).toContain('hint: corepack fetches package managers from COREPACK_NPM_REGISTRY');
    expect(build.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(path.join(sandbox.home, 'apps', 'node-yarn-berry', 'BUILD_ARTIFACT.json'))).toBe(false);
  });

  it('serves a front-end whose build writes dist/ and that has no start script, with hop3\'s static server', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('node-vite-static');
    const deploy = await sandbox.hop3(['deploy', app, '--port', String(await freePort())]);
    expect(deploy.exitCode, deploy.all).toBe(0);
    expect(logLines(deploy.stderr).some((line) => line.startsWith('static: serving dist/ at / (dist/index.html built, no start script); never served: dotfiles, hop3.toml')), deploy.stderr).toBe(true);
    // package.json's main (index.js, npm init's default) does not exist: not used.
    await checkProbes(deploy.stdout.trim(), 'node-vite-static');
    const artifact = JSON.parse((await sandbox.hop3(['inspect', 'node-vite-static', '--json'])).stdout);
    expect(artifact.runtime.static_paths).toEqual({ '/': path.join(artifact.runtime.working_dir, 'dist') });
    expect((await sandbox.hop3(['stop', 'node-vite-static'])).exitCode).toBe(0);
    expect(await sandbox.strayPids()).toEqual([]);
  });

  it('runs heroku-prebuild before the install and heroku-postbuild instead of build, and starts the Nitro server output', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('node-nitro');
    const deploy = await sandbox.hop3(['deploy', app, '--port', String(await freePort())]);
    expect(deploy.exitCode, deploy.all).toBe(0);
    const steps = logLines(deploy.stderr).filter((line) => /^==> (running|npm ci)/.test(line));
    expect(steps).toEqual([
      '==> running heroku-prebuild, before the install (as on Heroku)',
      '==> npm ci --no-audit --no-fund (package-lock.json)',
      '==> running npm run heroku-postbuild (instead of build, as on Heroku)',
    ]);
    expect(logLines(deploy.stderr)).toContain("web: node .output/server/index.mjs (Nitro's server, built)");
    await checkProbes(deploy.stdout.trim(), 'node-nitro');
    expect((await sandbox.hop3(['stop', 'node-nitro'])).exitCode).toBe(0);
  });

  it('a failing npm ci shows npm\'s reason (lockfile out of sync), not its usage text', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('node-npm-out-of-sync');
    const expected = JSON.parse(await readFile(path.join(ROOT, 'fixtures', 'node-npm-out-of-sync', 'expected-error.json'), 'utf8')) as { code: string; contains: string[]; absent: string[] };
    const build = await sandbox.hop3(['build', app]);
    expect(build.exitCode).toBe(1);
    const report = build.stderr.slice(build.stderr.indexOf('hop3: '));
    expect(report).toContain(`[${expected.code}]`);
    for (const text of expected.contains) expect(report).toContain(text);
    for (const text of expected.absent) expect(report).not.toContain(text);
    expect(report).toContain('hint: package.json and package-lock.json disagree: run `npm install` in the app to update package-lock.json, and commit it.');
  });

  it('checks engines.node and .nvmrc against the host\'s node: a later major is an error, an older version a warning', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('node-web');
    const pkg = JSON.parse(await readFile(path.join(app, 'package.json'), 'utf8'));
    await writeFile(path.join(app, 'package.json'), JSON.stringify({ ...pkg, engines: { node: '>=99' } }));
    const refused = await sandbox.hop3(['build', app]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`hop3: engines.node in package.json asks for Node ">=99"; this host's node is ${process.version}: the app needs a later major version of Node. [BUILD_NODE_VERSION_UNSATISFIED]`);
    expect(refused.stderr).toContain('hint: Put Node 99 first on the PATH hop3 runs with, or build with --builder docker --base-image node:99-slim; or change engines.node in package.json.');

    await writeFile(path.join(app, 'package.json'), JSON.stringify(pkg));
    await writeFile(path.join(app, '.nvmrc'), 'lts/hydrogen\n');
    const warned = await sandbox.hop3(['build', app]);
    expect(warned.exitCode, warned.all).toBe(0);
    expect(logLines(warned.stderr)).toContain(`warning: .nvmrc asks for Node "18"; this host's node is ${process.version}: it may still run; hop3 builds it with ${process.version}`);
  });
});
