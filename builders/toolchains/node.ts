import { stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import { Hop3Error } from '../../src/errors.js';
import { runCommand } from '../../src/process/run-command.js';
import { shellQuote } from '../../src/process/shell-quote.js';
import { runTool } from '../run-tool.js';
import { nodeDependencyFiles } from './dependency-files.js';
import { exists, firstExisting, readJson } from './fs-utils.js';
import { InputDigests } from './input-digests.js';
import { emptyDefaults } from '../../src/manifest/runtime-defaults.js';
import { NIX_APP_ROOT, nixRuntime, type Toolchain } from './toolchain.js';

const Dependencies = z.record(z.string(), z.unknown()).optional();
const PackageJson = z.looseObject({
  main: z.string().optional(),
  scripts: z.record(z.string(), z.string()).optional(),
  dependencies: Dependencies,
  devDependencies: Dependencies,
  optionalDependencies: Dependencies,
});
type PackageJson = z.infer<typeof PackageJson>;

const LOCKFILES = ['package-lock.json', 'npm-shrinkwrap.json'];
/** Bump when the install recipe changes what ends up in node_modules: older builds' node_modules are then not reused. */
const RECIPE = '1';
/** Scripts npm runs for the app itself during `npm ci`/`npm install`: they may read or write the app's code. */
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall', 'prepublish', 'preprepare', 'prepare', 'postprepare'];

async function readPackageJson(dir: string): Promise<PackageJson> {
  const file = path.join(dir, 'package.json');
  let json: unknown;
  try {
    json = await readJson(file);
  } catch (error) {
    throw new Hop3Error('CONFIG_PACKAGE_JSON_INVALID', `${file} is not valid JSON: ${(error as Error).message}`, { file, cause: error, hint: 'Fix package.json.' });
  }
  const result = PackageJson.safeParse(json);
  if (!result.success) {
    throw new Hop3Error('CONFIG_PACKAGE_JSON_INVALID', `${file}: ${result.error.issues[0]?.message}`, { file, hint: 'Fix package.json.' });
  }
  return result.data;
}

/** Node: `npm ci` with a lockfile (else `npm install`), `npm run build` when defined, dev dependencies pruned. */
export const node: Toolchain = {
  name: 'node',

  async detect(config) {
    return (await exists(config.dir, 'package.json')) ? 'package.json found' : undefined;
  },

  async defaults(config, { appRoot }) {
    const pkg = await readPackageJson(config.dir);
    const defaults = emptyDefaults();
    defaults.env_vars = { NODE_ENV: 'production' };
    defaults.path_prepend = [path.posix.join(appRoot, 'node_modules', '.bin')];
    const main = pkg.main ?? (await firstExisting(config.dir, ['server.js', 'index.js', 'app.js']));
    // The start script runs directly, not through `npm start`: the runtime needs no npm.
    const start = pkg.scripts?.start ?? (main ? `node ${shellQuote(main)}` : undefined);
    if (start) defaults.workers.web = start;
    return defaults;
  },

  async dependencyInputs(ctx) {
    const pkg = await readPackageJson(ctx.appRoot);
    const lockfile = await firstExisting(ctx.appRoot, LOCKFILES);
    const inputs = new InputDigests(ctx.appRoot);
    for (const file of ['package.json', ...LOCKFILES, '.npmrc']) await inputs.content(file);
    const linked: string[] = [];
    for (const dir of await fileDependencies(pkg, ctx.appRoot)) {
      const rel = path.relative(ctx.appRoot, dir);
      if (rel.startsWith('..') || path.isAbsolute(rel)) await inputs.listing(dir);
      else {
        await inputs.content(rel);
        if ((await stat(dir)).isDirectory()) linked.push(rel);
      }
    }
    const version = await runCommand('node', ['--version'], { env: ctx.env, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    inputs.value('node', `${version.failed ? 'unknown' : version.stdout.trim()} ${process.platform} ${process.arch}`);
    inputs.value('hop3 node recipe', RECIPE);
    inputs.env(ctx.env, ['npm_config_']);
    const userConfig = ctx.env.npm_config_userconfig || ctx.env.NPM_CONFIG_USERCONFIG || path.join(ctx.env.HOME || os.homedir(), '.npmrc');
    await inputs.content(path.resolve(userConfig), `npm config ${userConfig}`);
    return {
      manifest: lockfile ?? 'package.json',
      digests: inputs.digests,
      // npm installs the dependencies of a `file:` folder it links into that folder.
      outputs: ['node_modules', ...linked.map((dir) => path.posix.join(dir.split(path.sep).join('/'), 'node_modules'))],
      // node_modules/.cache, .vite, .package-lock.json...: written by tools and npm itself, in place, so each build gets its own copy.
      copy: (rel) => /^node_modules\/\.(?!bin(\/|$))/.test(rel),
      ...noReuse(pkg),
    };
  },

  async installLocal(ctx) {
    const pkg = await readPackageJson(ctx.appRoot);
    // Nothing to do over reused node_modules: they are pruned already, and noReuse keeps build and install scripts out of this path.
    if (ctx.dependencies?.reused) return;
    const tool = { cwd: ctx.appRoot, env: ctx.env, log: ctx.log, errorCode: 'BUILD_NPM_FAILED' as const, hint: 'Check package.json and the npm output above; npm reads its registry and cache settings from your npm config.', ...(ctx.signal ? { signal: ctx.signal } : {}) };
    const quiet = ['--no-audit', '--no-fund'];
    const lockfile = await firstExisting(ctx.appRoot, LOCKFILES);
    ctx.log.step(lockfile ? `npm ci (${lockfile})` : 'npm install (no lockfile)');
    await runTool('npm', [lockfile ? 'ci' : 'install', ...quiet], tool);
    if (pkg.scripts?.build) {
      ctx.log.step('running npm run build');
      await runTool('npm', ['run', 'build'], tool);
    }
    await runTool('npm', ['prune', '--omit=dev', ...quiet], tool);
  },

  async planSteps(config) {
    const pkg = await readPackageJson(config.dir);
    const lockfile = await firstExisting(config.dir, ['package-lock.json', 'npm-shrinkwrap.json']);
    return [
      lockfile ? { run: 'npm ci --no-audit --no-fund', because: `${lockfile} found`, needs: ['npm'] } : { run: 'npm install --no-audit --no-fund', because: 'no lockfile', needs: ['npm'] },
      ...(pkg.scripts?.build ? [{ run: 'npm run build', because: 'package.json has a build script', needs: ['npm'] }] : []),
      { run: 'npm prune --omit=dev --no-audit --no-fund', because: 'dev dependencies are not shipped', needs: ['npm'] },
    ];
  },

  async nixExpression(config) {
    const pkg = await readPackageJson(config.dir);
    const lockfile = await firstExisting(config.dir, LOCKFILES);
    return {
      template: 'node.nix',
      variables: {
        runtime: nixRuntime(await node.defaults(config, { appRoot: NIX_APP_ROOT })),
        install: lockfile ? 'ci' : 'install',
        buildScript: pkg.scripts?.build !== undefined,
      },
    };
  },

  async dockerfile(config) {
    return { template: 'node', defaultBaseImage: 'node:20-slim', dependencyFiles: await nodeDependencyFiles(config.dir) };
  },
};

/**
 * Why node_modules from an older build will not do, if so. A build script needs the dev dependencies, which every
 * build prunes once it has run, and may write caches into node_modules; an install script of the app itself
 * reads or writes the app's code, which is not a dependency input.
 */
function noReuse(pkg: PackageJson): { noReuse?: string } {
  if (pkg.scripts?.build) return { noReuse: 'package.json has a build script: it needs the dev dependencies, which builds prune' };
  const script = INSTALL_SCRIPTS.find((name) => pkg.scripts?.[name]);
  return script ? { noReuse: `package.json has a ${script} script, which runs on install with the app's code` } : {};
}

/** The local folders and tarballs `file:` dependencies point at. */
async function fileDependencies(pkg: PackageJson, appRoot: string): Promise<string[]> {
  const dirs: string[] = [];
  for (const deps of [pkg.dependencies, pkg.devDependencies, pkg.optionalDependencies]) {
    for (const spec of Object.values(deps ?? {})) {
      if (typeof spec !== 'string' || !spec.startsWith('file:')) continue;
      const target = path.resolve(appRoot, spec.slice('file:'.length));
      if (await stat(target).catch(() => undefined)) dirs.push(target);
    }
  }
  return [...new Set(dirs)].sort();
}
