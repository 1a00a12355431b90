import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { AppConfig } from '../../src/config/app-config.js';
import { checkHtpasswd, STATICFILE_AUTH } from '../../src/config/staticfile.js';
import { Hop3Error } from '../../src/errors.js';
import { packageRoot } from '../../src/package-root.js';
import { shellQuote } from '../../src/process/shell-quote.js';
import { exists } from './fs-utils.js';
import { emptyDefaults, type RuntimeDefaults } from '../../src/manifest/runtime-defaults.js';
import { generic } from './generic.js';
import { NIX_APP_ROOT, nixRuntime, type Toolchain } from './toolchain.js';

export const STATIC_SERVER_SCRIPT = path.join(packageRoot, 'builders', 'toolchains', 'static-server.mjs');
/** Where static builds carry their copy of the server, relative to the app root. */
export const STATIC_SERVER_IN_APP = '.hop3/static-server.mjs';
/** bcryptjs (one dependency-free ES module), beside the server: it verifies Staticfile.auth's bcrypt lines (htpasswd -B). */
export const BCRYPT_IN_APP = '.hop3/bcrypt.mjs';

/** The ES module file of bcryptjs, wherever npm put it (its package exports only `.`, whose require form is the UMD build). */
export function bcryptScript(): string {
  return path.join(path.dirname(createRequire(import.meta.url).resolve('bcryptjs')), '..', 'index.js');
}

/** Folders a site is usually built into, in the order hop3 looks for one with an index.html to serve by default. */
export const PUBLIC_DIRS = ['public', 'dist', 'build', '_site', 'out'] as const;
/** What the server never serves, for the build log (the rules live in static-server.mjs). */
export const STATIC_HIDDEN = 'dotfiles, hop3.toml, hop3.nix, Procfile, Staticfile, Staticfile.auth, BUILD_ARTIFACT.json, static-server.mjs, a hop3/ folder at the root';

export interface StaticPlan {
  /** URL prefix -> folder, relative to the app root. */
  mounts: Record<string, string>;
  /** Where the choice came from, for the build log. */
  reason: string;
}

/**
 * What the server serves, from (highest first) [static], [run].static, Procfile `static:`, [build] static-dir,
 * a Staticfile (its `root:`, else the app root, as Cloud Foundry), the first of PUBLIC_DIRS holding an index.html,
 * else the app root.
 */
export async function staticPlan(config: AppConfig): Promise<StaticPlan> {
  const { file, static: declared, build } = config.settings;
  if (declared) return { mounts: declared.mounts, reason: `${declared.key} in ${file}` };
  const procfileDir = config.procfile?.parsed.staticDir;
  if (procfileDir) return { mounts: { '/': procfileDir }, reason: `static: in ${config.procfile!.file}` };
  if (build.staticDir) return { mounts: { '/': build.staticDir }, reason: `[build] static-dir in ${file}` };
  if (config.staticfile) {
    const { file: staticfile, parsed } = config.staticfile;
    return { mounts: { '/': parsed.root ?? '.' }, reason: parsed.root ? `root: ${parsed.root} in ${staticfile}` : `${staticfile} without root:` };
  }
  const found = await publicDir(config.dir);
  if (found) return { mounts: { '/': found }, reason: `${found}/index.html found` };
  return { mounts: { '/': '.' }, reason: `no ${PUBLIC_DIRS.join(', ')} folder with an index.html` };
}

/** `defaults` serving `mounts` (URL prefix -> folder relative to the app root) with hop3's static server as the web worker. */
export function staticServerDefaults(defaults: RuntimeDefaults, mounts: Record<string, string>, appRoot: string, rules: StaticRules = { indexFallback: false }): RuntimeDefaults {
  const resolved = Object.entries(mounts).map(([prefix, dir]) => [prefix, path.posix.resolve(appRoot, dir)] as const);
  defaults.static_paths = Object.fromEntries(resolved);
  const args = [
    ...(rules.authFile ? [`--auth-file=${path.posix.join(appRoot, rules.authFile)}`] : []),
    ...(rules.indexFallback ? ['--index-fallback'] : []),
    ...resolved.map(([prefix, dir]) => `${prefix}=${dir}`),
  ];
  defaults.workers.web = `node ${shellQuote(path.posix.join(appRoot, STATIC_SERVER_IN_APP))} ${args.map(shellQuote).join(' ')}`;
  // Behind basic auth `/` answers 401: the readiness rule without a path (below 500) then applies.
  if (!rules.authFile) defaults.healthcheck_path = '/';
  return defaults;
}

/** Put hop3's static server into a local build (`STATIC_SERVER_IN_APP`); bcryptjs beside it only for basic auth. */
export async function installStaticServer(appRoot: string, options: { bcrypt?: boolean } = {}): Promise<void> {
  await mkdir(path.join(appRoot, '.hop3'), { recursive: true });
  await copyFile(STATIC_SERVER_SCRIPT, path.join(appRoot, STATIC_SERVER_IN_APP));
  if (options.bcrypt) await copyFile(bcryptScript(), path.join(appRoot, BCRYPT_IN_APP));
}

/** What the server enforces beyond serving files; the router must then leave every path to it. */
export interface StaticRules {
  /** Staticfile.auth at the app root (relative to it): basic auth on every request. */
  authFile?: string;
  /** Staticfile `index_fallback: true`: unknown paths serve index.html. */
  indexFallback: boolean;
}

/** The rules for this app; a Staticfile.auth the server could not use (no user, an unknown hash) is refused here, at build. */
export async function staticRules(config: AppConfig): Promise<StaticRules> {
  const rules: StaticRules = { indexFallback: config.staticfile?.parsed.indexFallback ?? false };
  const text = await readFile(path.join(config.dir, STATICFILE_AUTH), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new Hop3Error('CONFIG_UNREADABLE', `Cannot read ${path.join(config.dir, STATICFILE_AUTH)}: ${error.message}`, { file: STATICFILE_AUTH, cause: error, hint: 'Check the file permissions.' });
  });
  if (text !== undefined) {
    checkHtpasswd(text);
    rules.authFile = STATICFILE_AUTH;
  }
  return rules;
}

/** Names of the rules, for the build log and the artifact's metadata.static_rules. */
export function ruleNames(rules: StaticRules): string[] {
  return [...(rules.authFile ? [`basic-auth (${rules.authFile})`] : []), ...(rules.indexFallback ? ['index-fallback'] : [])];
}

async function publicDir(dir: string): Promise<string | undefined> {
  for (const candidate of PUBLIC_DIRS) if (await exists(dir, path.join(candidate, 'index.html'))) return candidate;
  return undefined;
}

function folderName(dir: string): string {
  const clean = path.posix.normalize(dir).replace(/\/$/, '');
  return clean === '.' || clean === '' ? 'the app root' : `${clean}/`;
}

/** The build log's line on what the static server serves: "static: serving dist/ at / (dist/index.html found); never served: …". */
export function describeStatic({ mounts, reason }: StaticPlan, rules: StaticRules = { indexFallback: false }): string {
  const served = Object.entries(mounts).map(([prefix, dir]) => `${folderName(dir)} at ${prefix}`).join(', ');
  const applied = ruleNames(rules);
  return `static: serving ${served} (${reason})${applied.length > 0 ? `; with ${applied.join(', ')}, the router leaves every path to the server` : ''}; never served: ${STATIC_HIDDEN}`;
}

/** Static sites: served by hop3's small built-in server (node only, no nginx or Python needed). */
export const staticSite: Toolchain = {
  name: 'static',

  async detect(config) {
    if (config.procfile?.parsed.staticDir) return `${config.procfile.file} has a static: line`;
    if (config.staticfile) return `${config.staticfile.file} found`;
    const { staticDir } = config.settings.build;
    if (staticDir) return `[build] static-dir = ${staticDir}`;
    if (await exists(config.dir, 'index.html')) return 'index.html found';
    // A bare built site (only dist/index.html, say); a Procfile or an own Dockerfile/Nix file makes it generic's.
    const found = await publicDir(config.dir);
    return found && !(await generic.detect(config)) ? `${found}/index.html found` : undefined;
  },

  async describe(config) {
    const [plan, rules] = await Promise.all([staticPlan(config), staticRules(config)]);
    return describeStatic(plan, rules);
  },

  async defaults(config, { appRoot }) {
    const [plan, rules] = await Promise.all([staticPlan(config), staticRules(config)]);
    return staticServerDefaults(emptyDefaults(), plan.mounts, appRoot, rules);
  },

  async artifactMetadata(config) {
    const names = ruleNames(await staticRules(config));
    return names.length > 0 ? { static_rules: names } : {};
  },

  async installLocal(ctx) {
    await installStaticServer(ctx.appRoot, { bcrypt: true });
  },

  async planSteps() {
    return [{ run: `copy hop3's static server into ${STATIC_SERVER_IN_APP} (and bcryptjs into ${BCRYPT_IN_APP})`, because: 'it serves the site, with node only' }];
  },

  async nixExpression(config) {
    return { template: 'static.nix', variables: { runtime: nixRuntime(await staticSite.defaults(config, { appRoot: NIX_APP_ROOT })) } };
  },

  async nixVendor(ctx) {
    await copyFile(STATIC_SERVER_SCRIPT, path.join(ctx.vendorDir, 'static-server.mjs'));
    await copyFile(bcryptScript(), path.join(ctx.vendorDir, 'bcrypt.mjs'));
  },

  async dockerfile() {
    return { template: 'static', defaultBaseImage: 'node:20-slim', extraFiles: { [STATIC_SERVER_IN_APP]: STATIC_SERVER_SCRIPT, [BCRYPT_IN_APP]: bcryptScript() } };
  },
};
