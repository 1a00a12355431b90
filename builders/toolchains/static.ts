import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { AppConfig } from '../../src/config/app-config.js';
import { packageRoot } from '../../src/package-root.js';
import { exists } from './fs-utils.js';
import { emptyDefaults } from '../../src/manifest/runtime-defaults.js';
import { NIX_APP_ROOT, nixRuntime, type Toolchain } from './toolchain.js';

export const STATIC_SERVER_SCRIPT = path.join(packageRoot, 'builders', 'toolchains', 'static-server.mjs');
/** Where static builds carry their copy of the server, relative to the app root. */
export const STATIC_SERVER_IN_APP = '.hop3/static-server.mjs';

/** URL prefix -> folder, from (highest first) [static], [run].static, Procfile `static:`, [build] static-dir, else the root. */
export function staticMounts(config: AppConfig): Record<string, string> {
  const toml = config.toml?.parsed;
  if (toml?.static && Object.keys(toml.static).length > 0) return toml.static;
  if (toml?.run?.static && Object.keys(toml.run.static).length > 0) return toml.run.static;
  const dir = config.procfile?.parsed.staticDir ?? toml?.build?.['static-dir'] ?? '.';
  return { '/': dir };
}

/** Static sites: served by hop3's small built-in server (node only, no nginx or Python needed). */
export const staticSite: Toolchain = {
  name: 'static',

  async detect(config) {
    if (config.procfile?.parsed.staticDir) return `${config.procfile.file} has a static: line`;
    const staticDir = config.toml?.parsed.build?.['static-dir'];
    if (staticDir) return `[build] static-dir = ${staticDir}`;
    return (await exists(config.dir, 'index.html')) ? 'index.html found' : undefined;
  },

  async defaults(config, { appRoot }) {
    const defaults = emptyDefaults();
    const mounts = Object.entries(staticMounts(config)).map(([prefix, dir]) => [prefix, path.posix.resolve(appRoot, dir)] as const);
    defaults.static_paths = Object.fromEntries(mounts);
    const args = mounts.map(([prefix, dir]) => `${prefix}=${dir}`).join(' ');
    defaults.workers.web = `node ${path.posix.join(appRoot, STATIC_SERVER_IN_APP)} ${args}`;
    defaults.healthcheck_path = '/';
    return defaults;
  },

  async installLocal(ctx) {
    await mkdir(path.join(ctx.appRoot, '.hop3'), { recursive: true });
    await copyFile(STATIC_SERVER_SCRIPT, path.join(ctx.appRoot, STATIC_SERVER_IN_APP));
  },

  async nixExpression(config) {
    return { template: 'static.nix', variables: { runtime: nixRuntime(await staticSite.defaults(config, { appRoot: NIX_APP_ROOT })) } };
  },

  async nixVendor(ctx) {
    await copyFile(STATIC_SERVER_SCRIPT, path.join(ctx.vendorDir, 'static-server.mjs'));
  },

  async dockerfile() {
    return { template: 'static', defaultBaseImage: 'node:20-slim', extraFiles: { [STATIC_SERVER_IN_APP]: STATIC_SERVER_SCRIPT } };
  },
};
