import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { node } from '../../builders/toolchains/node.js';
import { detectPackageManager, managerCommands, managerEnv, pnpmMajor, yarnBerryMajor } from '../../builders/toolchains/node-package-manager.js';
import { startPlan } from '../../builders/toolchains/node-start.js';
import { assertNodeVersion, checkNodeVersion, nodeRequirements } from '../../builders/toolchains/node-version.js';
import { npmFailureReason, withNpmReason } from '../../builders/toolchains/npm-failure.js';
import { readPackageJson } from '../../builders/toolchains/package-json.js';
import { loadAppConfig } from '../../src/config/app-config.js';
import { Hop3Error, isHop3Error } from '../../src/errors.js';
import { ROOT } from '../helpers/sandbox.js';

const fixture = (name: string) => path.join(ROOT, 'fixtures', name);

describe('node toolchain: package manager', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-node-pm-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function app(files: Record<string, string>) {
    for (const [file, text] of Object.entries(files)) await writeFile(path.join(dir, file), text);
    return detectPackageManager(dir, await readPackageJson(dir));
  }

  it.each([
    ['node-yarn1', { name: 'yarn', berry: false, corepackSpec: 'yarn@1', lockfile: 'yarn.lock' }, 'yarn install --frozen-lockfile --non-interactive'],
    ['node-yarn-berry', { name: 'yarn', berry: true, corepackSpec: 'yarn@4.5.3', lockfile: 'yarn.lock' }, 'yarn install --immutable'],
    ['node-pnpm', { name: 'pnpm', berry: false, corepackSpec: 'pnpm@9', lockfile: 'pnpm-lock.yaml' }, 'pnpm install --frozen-lockfile'],
    ['node-nitro', { name: 'npm', berry: false, lockfile: 'package-lock.json' }, 'npm ci --no-audit --no-fund'],
  ])('%s: its lockfile or packageManager field chooses the manager and a frozen install', async (name, expected, install) => {
    const dir = fixture(name);
    const pm = await detectPackageManager(dir, await readPackageJson(dir));
    expect(pm).toMatchObject({ ...expected, warnings: [] });
    if (expected.name === 'npm') expect(pm.corepackSpec).toBeUndefined();
    expect([pm.name, ...managerCommands(pm).install].join(' ')).toBe(install);
  });

  it('reads the manager major from the lockfile format when package.json does not say', () => {
    expect(yarnBerryMajor('# yarn lockfile v1\n\nms@^2.1.3:\n  version "2.1.3"\n')).toBeUndefined();
    expect(yarnBerryMajor('__metadata:\n  version: 8\n  cacheKey: 10c0\n')).toBe(4);
    expect(yarnBerryMajor('__metadata:\n  version: 6\n')).toBe(3);
    expect(pnpmMajor("lockfileVersion: '9.0'\n")).toBe(9);
    expect(pnpmMajor("lockfileVersion: '6.0'\n")).toBe(8);
    expect(pnpmMajor('lockfileVersion: 5.4\n')).toBe(7);
  });

  it('packageManager wins over the lockfiles, and the unused ones are a warning', async () => {
    const pm = await app({ 'package.json': '{"packageManager":"pnpm@9.15.0+sha512.abc"}', 'pnpm-lock.yaml': "lockfileVersion: '9.0'\n", 'package-lock.json': '{}' });
    expect(pm).toMatchObject({ name: 'pnpm', corepackSpec: 'pnpm@9.15.0+sha512.abc', lockfile: 'pnpm-lock.yaml', reason: 'packageManager pnpm@9.15.0+sha512.abc in package.json' });
    expect(pm.warnings).toEqual(['package-lock.json is not used: packageManager is pnpm@9.15.0+sha512.abc (remove it, or commit only the lockfile of the manager you use)']);
  });

  it('npm lockfiles keep winning over yarn.lock without the field (as before yarn was known), with a warning', async () => {
    const pm = await app({ 'package.json': '{}', 'package-lock.json': '{}', 'yarn.lock': '' });
    expect(pm).toMatchObject({ name: 'npm', lockfile: 'package-lock.json' });
    expect(pm.warnings[0]).toMatch(/^yarn\.lock is not used: hop3 installs with npm, from package-lock\.json/);
  });

  it('engines.yarn chooses the version; yarn without a lockfile installs unfrozen', async () => {
    const pm = await app({ 'package.json': '{"engines":{"yarn":"^3.6"}}', 'yarn.lock': '' });
    expect(pm).toMatchObject({ name: 'yarn', berry: true, corepackSpec: 'yarn@^3.6' });
    // yarn 3 has no built-in `workspaces focus`: nothing to prune with.
    expect(managerCommands(pm).prune).toBeUndefined();
    expect(managerCommands({ ...pm, lockfile: undefined } as never).install).toEqual(['install', '--no-immutable']);
    const pnpm = await app({ 'package.json': '{"packageManager":"pnpm@9.15.0"}' });
    expect(managerCommands(pnpm).install).toEqual(['install', '--no-frozen-lockfile']);
  });

  it('a packageManager field that is not name@exact-version is CONFIG_PACKAGE_JSON_INVALID, with the form to use', async () => {
    for (const field of ['yarn', 'bun@1.1.0', 'yarn@^4', 'pnpm@latest']) {
      const error = await app({ 'package.json': JSON.stringify({ packageManager: field }) }).catch((e: unknown) => e);
      expect(isHop3Error(error, 'CONFIG_PACKAGE_JSON_INVALID'), field).toBe(true);
      expect((error as Hop3Error).message).toContain(`packageManager "${field}" is not <npm|yarn|pnpm>@<exact version>`);
      expect((error as Hop3Error).hint).toContain('"packageManager": "yarn@4.5.3"');
    }
  });

  it('plans the steps it will run: corepack, then the manager frozen to its lockfile; heroku-prebuild and heroku-postbuild where Heroku runs them', async () => {
    expect(await node.planSteps!(await loadAppConfig(fixture('node-pnpm')), {})).toEqual([
      { run: 'fetch pnpm@9 with corepack (cached in COREPACK_HOME), copy it into .hop3/package-manager, its commands into .hop3/bin', because: "pnpm-lock.yaml (its format is pnpm 9's; no packageManager field)", needs: ['corepack'] },
      { run: 'pnpm install --frozen-lockfile', because: 'frozen to pnpm-lock.yaml; skipped, with the prune, when an earlier build has the same dependency inputs (its node_modules is hard-linked)', needs: ['node'] },
      { run: 'pnpm prune --prod --ignore-scripts', because: 'dev dependencies are not shipped', needs: ['node'] },
    ]);
    const nitro = await node.planSteps!(await loadAppConfig(fixture('node-nitro')), {});
    expect(nitro.map((step) => [step.run, step.because])).toEqual([
      ['npm run heroku-prebuild', 'heroku-prebuild runs before the install, as on Heroku'],
      ['npm ci --no-audit --no-fund', 'frozen to package-lock.json'],
      ['npm run heroku-postbuild', 'heroku-postbuild replaces build, as on Heroku'],
      // no devDependencies: nothing to prune
    ]);
  });

  it('npm installs without the dev dependencies when no build script needs them, and prunes only when there are some', async () => {
    const plan = async (pkg: object) => {
      await app({ 'package.json': JSON.stringify(pkg), 'package-lock.json': '{}' });
      return (await node.planSteps!(await loadAppConfig(dir), {})).map((step) => step.run);
    };
    expect(await plan({ devDependencies: { ms: '2' } })).toEqual(['npm ci --no-audit --no-fund --omit=dev']);
    expect(await plan({ dependencies: { ms: '2' } })).toEqual(['npm ci --no-audit --no-fund']);
    expect(await plan({ scripts: { build: 'tsc' }, devDependencies: { typescript: '5' } })).toEqual(['npm ci --no-audit --no-fund', 'npm run build', 'npm prune --omit=dev --no-audit --no-fund']);
  });

  it('yarn berry with Plug\'n\'Play (no nodeLinker in .yarnrc.yml) starts through yarn, with the build\'s own yarn cache', async () => {
    await cp(fixture('node-yarn-berry'), dir, { recursive: true });
    await rm(path.join(dir, '.yarnrc.yml'));
    const config = await loadAppConfig(dir);
    expect((await node.defaults(config, { appRoot: '/app' })).workers.web).toBe('yarn run start');
    const pm = await detectPackageManager(dir, await readPackageJson(dir));
    expect(pm).toMatchObject({ berry: true, pnp: true });
    expect(managerEnv(pm, {})).toEqual({ YARN_ENABLE_GLOBAL_CACHE: 'false' });
    expect(managerEnv(pm, { YARN_ENABLE_GLOBAL_CACHE: 'true' })).toEqual({}); // the user's choice stands
    expect((await node.dockerfile!(config)).buildArgs).toMatchObject({ HOP3_NODE_INSTALL: 'YARN_ENABLE_GLOBAL_CACHE=false yarn install --immutable' });
    // With node_modules (the fixture's .yarnrc.yml), the start script runs directly.
    expect((await node.defaults(await loadAppConfig(fixture('node-yarn-berry')), { appRoot: '/app' })).workers.web).toBe('node server.js');
  });

  it('puts yarn and pnpm on the workers\' PATH, never for npm', async () => {
    const yarn = await node.defaults(await loadAppConfig(fixture('node-yarn-berry')), { appRoot: '/app' });
    expect(yarn.path_prepend).toEqual(['/app/node_modules/.bin', '/app/.hop3/bin']);
    const npm = await node.defaults(await loadAppConfig(fixture('node-nitro')), { appRoot: '/app' });
    expect(npm.path_prepend).toEqual(['/app/node_modules/.bin']);
  });
});

describe('node toolchain: how the app starts', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-node-start-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function app(files: Record<string, string>) {
    for (const [file, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), text);
    }
    return loadAppConfig(dir);
  }
  const web = async (files: Record<string, string>, built?: string) => (await node.defaults(await app(files), { appRoot: '/app', ...(built ? { built } : {}) })).workers.web;

  it('uses main only when the file is there (else server.js), resolved as node does', async () => {
    expect(await web({ 'package.json': '{"main":"index.js"}' })).toBeUndefined();
    expect(await web({ 'package.json': '{"main":"index.js"}', 'server.js': '' })).toBe('node server.js');
    expect(await web({ 'package.json': '{"main":"lib/main"}', 'lib/main.js': '', 'server.js': '' })).toBe('node lib/main.js');
    expect(await web({ 'package.json': '{"main":"src"}', 'src/index.js': '' })).toBe('node src/index.js');
  });

  it('a main in a folder that only the build makes is expected from the source, and checked once built', async () => {
    const files = { 'package.json': '{"main":"dist/server.js","scripts":{"build":"tsc"}}', 'src/server.ts': '' };
    expect(await web(files)).toBe('node dist/server.js');
    expect(await web(files, dir)).toBeUndefined(); // built, and no dist/server.js: no such worker
    await app({ 'dist/server.js': '' });
    expect(await web(files, dir)).toBe('node dist/server.js');
  });

  it('the start script wins over everything', async () => {
    expect(await web({ 'package.json': '{"main":"server.js","scripts":{"start":"node cluster.js","build":"x"}}', 'server.js': '', 'dist/index.html': '' })).toBe('node cluster.js');
  });

  it('a build with no start script serves its output: dist/, build/, out/ once built, [build] static-dir first', async () => {
    const pkg = '{"scripts":{"build":"vite build"}}';
    // From the source: dist/ is expected (create-react-app's build/ and next's out/ from their dependencies).
    let defaults = await node.defaults(await app({ 'package.json': pkg, 'index.html': 'source page' }), { appRoot: '/app' });
    expect(defaults.workers.web).toBe('node /app/.hop3/static-server.mjs /=/app/dist');
    expect(defaults).toMatchObject({ static_paths: { '/': '/app/dist' }, healthcheck_path: '/', env_vars: { NODE_ENV: 'production' } });
    expect(await web({ 'package.json': '{"scripts":{"build":"react-scripts build"},"dependencies":{"react-scripts":"5"}}' })).toContain('/=/app/build');
    // Built: what is really there.
    await app({ 'out/index.html': 'next export' });
    expect(await web({ 'package.json': pkg }, dir)).toContain('/=/app/out');
    await app({ 'hop3.toml': '[build]\nstatic-dir = "site"\n' });
    defaults = await node.defaults(await app({ 'package.json': pkg }), { appRoot: '/app', built: dir });
    expect(defaults.static_paths).toEqual({ '/': '/app/site' });
  });

  it('starts a Nitro server output with node; nothing to serve is no web worker, with the reason', async () => {
    expect(await web({ 'package.json': '{"scripts":{"build":"nuxt build"},"dependencies":{"nuxt":"3"}}' })).toBe('node .output/server/index.mjs');
    await app({ '.output/server/index.mjs': '' });
    expect(await web({ 'package.json': '{"scripts":{"build":"node build.mjs"}}' }, dir)).toBe('node .output/server/index.mjs');
    await rm(path.join(dir, '.output'), { recursive: true });
    const config = await app({ 'package.json': '{"scripts":{"build":"node build.mjs"}}' });
    const plan = await startPlan(config, await readPackageJson(dir), dir);
    expect(plan).toEqual({ kind: 'none', reason: 'no start script or server file, and the build made none of dist/index.html, build/index.html, out/index.html, .output/public/index.html' });
  });

  it('heroku-postbuild is the build script when there; a site is planned for docker with hop3\'s static server in the image', async () => {
    const config = await app({ 'package.json': '{"scripts":{"heroku-prebuild":"echo pre","build":"exit 1","heroku-postbuild":"node build.mjs"}}' });
    const plan = await node.dockerfile!(config);
    expect(plan.buildArgs).toEqual({
      HOP3_PACKAGE_MANAGER: '',
      HOP3_NODE_PREBUILD: 'npm run heroku-prebuild',
      HOP3_NODE_INSTALL: 'npm install --no-audit --no-fund',
      HOP3_NODE_BUILD: 'npm run heroku-postbuild',
      HOP3_NODE_PRUNE: '', // no devDependencies
      HOP3_NODE_CLEANUP: '',
    });
    expect(Object.keys(plan.extraFiles ?? {})).toEqual(['.hop3/package-manager-setup.mjs', '.hop3/static-server.mjs']);
    // heroku-prebuild runs before the install with the whole source: nothing goes in before the code.
    expect(plan.dependencyFiles).toBeUndefined();
    const yarn = await node.dockerfile!(await loadAppConfig(fixture('node-yarn-berry')));
    expect(yarn.buildArgs).toMatchObject({ HOP3_PACKAGE_MANAGER: 'yarn@4.5.3', HOP3_NODE_INSTALL: 'yarn install --immutable', HOP3_NODE_PRUNE: '' });
    expect(Object.keys(yarn.extraFiles ?? {})).toEqual(['.hop3/package-manager-setup.mjs']);
    // What yarn and pnpm read goes in before the code, as npm's lockfile does.
    expect(yarn.dependencyFiles).toEqual(['.yarnrc.yml', 'package.json', 'yarn.lock']);
    expect((await node.dockerfile!(await loadAppConfig(fixture('node-pnpm')))).dependencyFiles).toEqual(['package.json', 'pnpm-lock.yaml']);
  });

  it('the nix template installs with npm only: a yarn or pnpm app is a clear BUILD_NIX_NO_TEMPLATE', async () => {
    const error = await node.nixExpression!(await loadAppConfig(fixture('node-pnpm'))).catch((e: unknown) => e);
    expect(isHop3Error(error, 'BUILD_NIX_NO_TEMPLATE')).toBe(true);
    expect((error as Hop3Error).message).toContain('this app uses pnpm (pnpm-lock.yaml');
  });
});

describe('node toolchain: the Node version the app asks for', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-node-version-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function requirements(files: Record<string, string>) {
    for (const [file, text] of Object.entries(files)) await writeFile(path.join(dir, file), text);
    return nodeRequirements(dir, await readPackageJson(dir));
  }

  it('reads engines.node, .nvmrc and .node-version; aliases ask for nothing, unreadable ones are a warning', async () => {
    expect(await requirements({ 'package.json': '{"engines":{"node":">=18 <23"}}', '.nvmrc': '# pinned\nv20.11.0\n', '.node-version': 'lts/iron' })).toEqual({
      requirements: [
        { range: '>=18 <23', source: 'engines.node in package.json' },
        { range: '20.11.0', source: '.nvmrc' },
        { range: '20', source: '.node-version' },
      ],
      warnings: [],
    });
    await rm(path.join(dir, '.node-version'));
    expect(await requirements({ 'package.json': '{"engines":"node >= 0.10"}', '.nvmrc': 'lts/*' })).toEqual({ requirements: [], warnings: [] });
    expect((await requirements({ 'package.json': '{"engines":{"node":"twenty"}}', '.nvmrc': 'node' })).warnings).toEqual([
      'engines.node in package.json asks for Node "twenty", which hop3 cannot read as a version range: not checked',
    ]);
  });

  it('a later major is fatal, anything else unsatisfied a warning', () => {
    const source = 'engines.node in package.json';
    expect(checkNodeVersion({ range: '>=18', source }, 'v20.20.2', 'this host')).toEqual({ ok: true });
    expect(checkNodeVersion({ range: '^22.1', source }, 'v20.20.2', 'this host')).toMatchObject({ ok: false, fatal: true });
    expect(checkNodeVersion({ range: '22', source }, 'v20.20.2', 'this host')).toMatchObject({ ok: false, fatal: true });
    expect(checkNodeVersion({ range: '^18', source }, 'v20.20.2', 'this host')).toEqual({ ok: false, fatal: false, message: 'engines.node in package.json asks for Node "^18"; this host is v20.20.2' });
    expect(checkNodeVersion({ range: '>=20.21', source }, 'v20.20.2', 'this host')).toMatchObject({ ok: false, fatal: false });
    const fix = (major: number) => `install Node ${major}`;
    expect(assertNodeVersion([{ range: '^18', source }], 'v20.20.2', 'this host', fix)).toEqual(['engines.node in package.json asks for Node "^18"; this host is v20.20.2: it may still run; hop3 builds it with v20.20.2']);
    let error: unknown;
    try {
      assertNodeVersion([{ range: '>=22', source: '.nvmrc' }], 'v20.20.2', "this host's node", fix);
    } catch (e) {
      error = e;
    }
    expect(isHop3Error(error, 'BUILD_NODE_VERSION_UNSATISFIED')).toBe(true);
    expect(error).toMatchObject({ message: `.nvmrc asks for Node ">=22"; this host's node is v20.20.2: the app needs a later major version of Node.`, hint: 'install Node 22' });
  });
});

describe('node toolchain: npm failures say why', () => {
  // What npm 11 prints when package.json and package-lock.json disagree (captured on this project's fixture).
  const outOfSync = [
    '$ npm ci --no-audit --no-fund',
    'npm error code EUSAGE',
    'npm error',
    'npm error `npm ci` can only install packages when your package.json and package-lock.json or npm-shrinkwrap.json are in sync. Please update your lock file with `npm install` before continuing.',
    'npm error',
    'npm error Missing: is-number@7.0.0 from lock file',
    'npm error',
    'npm error Clean install a project',
    'npm error',
    'npm error Usage:',
    'npm error npm ci',
    'npm error',
    'npm error Options:',
    'npm error [--install-strategy <hoisted|nested|shallow|linked>] [--legacy-bundling]',
    'npm error',
    'npm error aliases: clean-install, ic, install-clean, isntall-clean',
    'npm error',
    'npm error Run "npm help ci" for more info',
    'npm error A complete log of this run can be found in: /root/.npm/_logs/x-debug-0.log',
  ].join('\n');

  it('keeps the reason and drops the usage text, code and log path', () => {
    expect(npmFailureReason(outOfSync)).toBe(
      '`npm ci` can only install packages when your package.json and package-lock.json or npm-shrinkwrap.json are in sync. Please update your lock file with `npm install` before continuing.\nMissing: is-number@7.0.0 from lock file',
    );
    const e404 = ['npm error code E404', 'npm error 404 Not Found - GET https://registry.npmjs.org/nope', 'npm error 404', "npm error 404  'nope@*' is not in this registry.", 'npm error A complete log of this run can be found in: /x.log'].join('\n');
    expect(npmFailureReason(e404)).toBe("404 Not Found - GET https://registry.npmjs.org/nope\n'nope@*' is not in this registry.");
    expect(npmFailureReason('npm ERR! code ERESOLVE\nnpm ERR! ERESOLVE unable to resolve dependency tree\n')).toBe('ERESOLVE unable to resolve dependency tree');
    expect(npmFailureReason('added 3 packages\n')).toBeUndefined();
  });

  it('puts it in the error: the message, the rest as the output shown, and what to do when the lockfile is stale', () => {
    const raw = new Hop3Error('BUILD_NPM_FAILED', '`npm ci --no-audit --no-fund` failed in /app: exit code 1', { command: 'npm ci --no-audit --no-fund', exitCode: 1, outputTail: 'npm error   --install-links', hint: 'Check package.json' });
    const error = withNpmReason(raw, outOfSync) as Hop3Error;
    expect(error.message).toBe('`npm ci --no-audit --no-fund` failed: `npm ci` can only install packages when your package.json and package-lock.json or npm-shrinkwrap.json are in sync. Please update your lock file with `npm install` before continuing.');
    expect(error).toMatchObject({ code: 'BUILD_NPM_FAILED', exitCode: 1, outputTail: 'Missing: is-number@7.0.0 from lock file' });
    expect(error.hint).toContain('run `npm install` in the app to update package-lock.json, and commit it');
    expect(withNpmReason(raw, 'no report here')).toBe(raw);
  });
});
