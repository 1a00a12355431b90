import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { AppConfig } from '../../src/config/app-config.js';
import { exists, firstExisting } from './fs-utils.js';
import { dependsOn, type PackageJson } from './package-json.js';
import type { StaticPlan } from './static.js';

/** How a node app's web worker starts. */
export type StartPlan =
  | { kind: 'script'; command: string; reason: string }
  | { kind: 'node'; entry: string; reason: string }
  | { kind: 'static'; plan: StaticPlan }
  | { kind: 'none'; reason: string };

/** Folders front-end builds write, in the order hop3 looks: Vite/Astro/Parcel, Create React App/SvelteKit, Next's export, Nuxt's generate. */
export const BUILD_OUTPUT_DIRS = ['dist', 'build', 'out', '.output/public'] as const;
/** What `nuxt build` (Nitro's node-server preset) writes: the app's whole server. */
export const NITRO_SERVER = '.output/server/index.mjs';
const SERVER_FILES = ['server.js', 'index.js', 'app.js'];
/** Frameworks whose build writes NITRO_SERVER. */
const NITRO_PACKAGES = ['nuxt', 'nuxt3', 'nitropack', 'nitro'];
/** Where a framework's static build goes when it is not dist/. */
const FRAMEWORK_OUTPUT: readonly { packages: readonly string[]; dir: string }[] = [
  { packages: ['react-scripts', '@sveltejs/adapter-static'], dir: 'build' },
  { packages: ['next'], dir: 'out' },
];

/** The script that builds the app, as on Heroku: heroku-postbuild replaces build when both are there. */
export function buildScript(pkg: PackageJson): 'heroku-postbuild' | 'build' | undefined {
  if (pkg.scripts?.['heroku-postbuild'] !== undefined) return 'heroku-postbuild';
  return pkg.scripts?.build !== undefined ? 'build' : undefined;
}

/**
 * The web worker: the start script; else `main`, a Nitro server output, or server.js/index.js/app.js, each
 * only when the file is there; else, for an app with a build step, its build output served as a static site.
 * `built` is the app's files after the build (the local builder has them); without it, the choice is made from
 * the source, and what only the build makes (`main`, the Nitro server, the output folder) is expected from it.
 */
export async function startPlan(config: AppConfig, pkg: PackageJson, built?: string): Promise<StartPlan> {
  const start = pkg.scripts?.start;
  if (start !== undefined && start.trim() !== '') return { kind: 'script', command: start, reason: 'scripts.start in package.json' };
  const root = built ?? config.dir;
  const builds = buildScript(pkg) !== undefined;
  const expected = (what: boolean) => built === undefined && builds && what;

  if (pkg.main !== undefined && pkg.main.trim() !== '') {
    const found = await resolveMain(root, pkg.main);
    if (found) return { kind: 'node', entry: found, reason: 'main in package.json' };
    // Only a file in a folder (dist/server.js) is taken for a build output: a missing index.js is npm init's default, not one.
    if (expected(path.posix.normalize(pkg.main).includes('/'))) return { kind: 'node', entry: pkg.main, reason: `main in package.json, made by the ${buildScript(pkg)} script` };
  }
  if ((await exists(root, NITRO_SERVER)) || expected(dependsOn(pkg, NITRO_PACKAGES))) {
    return { kind: 'node', entry: NITRO_SERVER, reason: built ? `Nitro's server, built` : `Nitro's server, made by the ${buildScript(pkg)} script` };
  }
  const server = await firstExisting(root, SERVER_FILES);
  if (server) return { kind: 'node', entry: server, reason: `${server} found` };
  if (!builds) return { kind: 'none', reason: `no start script, main, ${SERVER_FILES.join(', ')} or build script in package.json` };
  const plan = await builtSite(config, pkg, built);
  return plan ? { kind: 'static', plan } : { kind: 'none', reason: `no start script or server file, and the build made none of ${BUILD_OUTPUT_DIRS.map((dir) => `${dir}/index.html`).join(', ')}` };
}

/** `main` as node resolves it (extension left out, or a folder with index.js), relative to the app root. */
async function resolveMain(root: string, main: string): Promise<string | undefined> {
  const candidates = [main, `${main}.js`, `${main}.cjs`, `${main}.mjs`, path.posix.join(main, 'index.js')];
  for (const candidate of candidates) if (await isFile(root, candidate)) return candidate === main ? main : candidate;
  return undefined;
}

async function isFile(root: string, file: string): Promise<boolean> {
  return (await stat(path.join(root, file)).catch(() => undefined))?.isFile() ?? false;
}

/** The folder to serve: `[build] static-dir`, else the first build output with an index.html (expected, from the framework, when not built yet). */
async function builtSite(config: AppConfig, pkg: PackageJson, built: string | undefined): Promise<StaticPlan | undefined> {
  const { file, build } = config.settings;
  if (build.staticDir) return { mounts: { '/': build.staticDir }, reason: `[build] static-dir in ${file}` };
  const root = built ?? config.dir;
  for (const dir of BUILD_OUTPUT_DIRS) {
    if (await exists(root, path.join(dir, 'index.html'))) return { mounts: { '/': dir }, reason: `${dir}/index.html ${built ? 'built' : 'found'}, no start script` };
  }
  if (built) return undefined;
  const framework = FRAMEWORK_OUTPUT.find((output) => dependsOn(pkg, output.packages));
  const dir = framework?.dir ?? 'dist';
  return { mounts: { '/': dir }, reason: `no start script: the build is expected to write ${dir}/${framework ? ` (${framework.packages.find((name) => dependsOn(pkg, [name]))})` : ''}` };
}
