import os from 'node:os';
import path from 'node:path';
import { AppNameSchema } from '../artifact/schema.js';
import { Hop3Error } from '../errors.js';

/** The HOP3_HOME layout (see DESIGN.md); every path hop3 writes comes from here. */
export interface AppPaths {
  app: string;
  root: string;
  builds: string;
  build(buildId: string): string;
  gcroots: string;
  /** The newest successful build's artifact. */
  latestArtifact: string;
  run: string;
  /** Release records, one file per deploy: `releases/000001.json`. */
  releases: string;
  /** The app's stable public port. */
  portFile: string;
  logs: string;
  log(worker: string): string;
  /** The output of a release's release phase: `logs/release/000012.log` (a directory, so no worker log is named alike). */
  releaseLog(release: number): string;
  /** Writable state for workers (the Nix store and images are read-only). */
  data: string;
  /** `[env]` values hop3 generated for the app (`{ generate = ... }`), made once, kept across releases (0600). */
  generatedEnv: string;
  lock: string;
}

export function hop3Home(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.HOP3_HOME || path.join(os.homedir(), '.hop3'));
}

export function validateAppName(name: string): string {
  const result = AppNameSchema.safeParse(name);
  if (!result.success) {
    throw new Hop3Error('CONFIG_INVALID_APP_NAME', `Invalid app name ${JSON.stringify(name)}: ${result.error.issues[0]?.message}.`, {
      usage: true,
      hint: 'Use lowercase letters, digits, ".", "_" and "-" (e.g. --name my-app); names must not contain "/" or "..".',
    });
  }
  return name;
}

export function appPaths(app: string, env: NodeJS.ProcessEnv = process.env): AppPaths {
  const root = path.join(hop3Home(env), 'apps', validateAppName(app));
  const builds = path.join(root, 'builds');
  const logs = path.join(root, 'logs');
  const run = path.join(root, 'run');
  return {
    app,
    root,
    builds,
    build: (buildId) => path.join(builds, buildId),
    gcroots: path.join(root, 'gcroots'),
    latestArtifact: path.join(root, 'BUILD_ARTIFACT.json'),
    run,
    releases: path.join(root, 'releases'),
    portFile: path.join(run, 'port'),
    logs,
    log: (worker) => path.join(logs, `${worker}.log`),
    releaseLog: (release) => path.join(logs, 'release', `${String(release).padStart(6, '0')}.log`),
    data: path.join(root, 'data'),
    generatedEnv: path.join(root, 'generated-env.json'),
    lock: path.join(root, 'lock'),
  };
}

/** Derive an app name from a directory name: lowercased, unsafe characters replaced. */
export function appNameFromDir(dir: string): string {
  return validateAppName(
    path
      .basename(path.resolve(dir))
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/\.{2,}/g, '.') // ".." is refused in names: a directory "a..b" is app "a.b"
      .replace(/^[^a-z0-9]+/, '')
      .slice(0, 63) || 'app',
  );
}
