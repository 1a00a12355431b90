import path from 'node:path';
import * as z from 'zod';
import { Hop3Error } from '../../src/errors.js';
import { shellQuote } from '../../src/process/shell-quote.js';
import { runTool } from '../run-tool.js';
import { exists, firstExisting, readJson } from './fs-utils.js';
import { emptyDefaults } from '../../src/manifest/runtime-defaults.js';
import { NIX_APP_ROOT, nixRuntime, type Toolchain } from './toolchain.js';

const PackageJson = z.looseObject({
  main: z.string().optional(),
  scripts: z.record(z.string(), z.string()).optional(),
});

async function readPackageJson(dir: string): Promise<z.infer<typeof PackageJson>> {
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

  async installLocal(ctx) {
    const pkg = await readPackageJson(ctx.appRoot);
    const tool = { cwd: ctx.appRoot, env: ctx.env, log: ctx.log, errorCode: 'BUILD_NPM_FAILED' as const, hint: 'Check package.json and the npm output above; npm reads its registry and cache settings from your npm config.', ...(ctx.signal ? { signal: ctx.signal } : {}) };
    const quiet = ['--no-audit', '--no-fund'];
    const lockfile = await firstExisting(ctx.appRoot, ['package-lock.json', 'npm-shrinkwrap.json']);
    ctx.log.step(lockfile ? `installing dependencies (npm ci, ${lockfile})` : 'installing dependencies (npm install, no lockfile)');
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
    const lockfile = await firstExisting(config.dir, ['package-lock.json', 'npm-shrinkwrap.json']);
    return {
      template: 'node.nix',
      variables: {
        runtime: nixRuntime(await node.defaults(config, { appRoot: NIX_APP_ROOT })),
        install: lockfile ? 'ci' : 'install',
        buildScript: pkg.scripts?.build !== undefined,
      },
    };
  },

  async dockerfile() {
    return { template: 'node', defaultBaseImage: 'node:20-slim' };
  },
};
