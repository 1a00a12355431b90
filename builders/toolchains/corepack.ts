import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import { Hop3Error, tail } from '../../src/errors.js';
import type { Logger } from '../../src/log/logger.js';
import { packageRoot } from '../../src/package-root.js';
import { runCommand } from '../../src/process/run-command.js';
import { hop3Home } from '../../src/state/hop3-home.js';
import type { PackageManager } from './node-package-manager.js';

export const PACKAGE_MANAGER_SETUP_SCRIPT = path.join(packageRoot, 'builders', 'toolchains', 'package-manager-setup.mjs');
/** Where a build carries its package manager's commands, relative to the app root (on the workers' PATH). */
export const PACKAGE_MANAGER_BIN = '.hop3/bin';

/**
 * The user's corepack settings, plus hop3's defaults for what they leave unset: a cache under HOP3_HOME
 * (so builds share what corepack fetched), no download prompt (a build has no one to answer), and no
 * packageManager written into the app. Integrity checks and registries stay the user's choice.
 */
export function corepackEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...env,
    COREPACK_HOME: env.COREPACK_HOME || path.join(hop3Home(env), 'cache', 'corepack'),
    COREPACK_ENABLE_DOWNLOAD_PROMPT: env.COREPACK_ENABLE_DOWNLOAD_PROMPT ?? '0',
    COREPACK_ENABLE_AUTO_PIN: env.COREPACK_ENABLE_AUTO_PIN ?? '0',
  };
}

export interface PackageManagerSetup {
  appRoot: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  signal?: AbortSignal;
}

/** Fetch the manager with corepack (unless cached) and copy it into the build with its shims; returns the version. */
export async function setUpPackageManager(pm: PackageManager, { appRoot, env: userEnv, log, signal }: PackageManagerSetup): Promise<string> {
  const spec = pm.corepackSpec;
  if (!spec) throw new Error(`${pm.name} is not fetched by corepack`);
  const env = corepackEnv(userEnv);
  const home = env.COREPACK_HOME!;
  await mkdir(home, { recursive: true, mode: 0o700 });
  const cached = await cachedVersion(home, spec);
  const exact = cached ? `${pm.name}@${cached}` : spec;
  log.step(cached ? `${pm.name}@${cached}: corepack has it in ${home}` : `fetching ${spec} with corepack into ${home}`);
  const result = await runCommand('node', [PACKAGE_MANAGER_SETUP_SCRIPT, exact, appRoot], { env, ...(signal ? { signal } : {}) });
  if (result.failed) {
    const reason = result.stderr.trim().split('\n').filter((line) => line.startsWith('corepack: ')).at(-1)?.slice('corepack: '.length) ?? result.reason;
    throw new Hop3Error('BUILD_COREPACK_FAILED', `Cannot set up ${pm.name} (${spec}, ${pm.reason}): ${reason}`, {
      hint: corepackHint(reason, home),
      command: result.command,
      ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
      ...(result.canceled || result.timedOut ? { outputTail: tail(result.all) } : {}),
      durationMs: result.durationMs,
    });
  }
  const line = result.stdout.trim().split('\n').at(-1) ?? '{}';
  const version = (JSON.parse(line) as { version?: string }).version ?? '?';
  log.output(`${pm.name} ${version} in ${path.join(appRoot, PACKAGE_MANAGER_BIN)}`);
  return version;
}

/** The newest version corepack holds already that satisfies a range spec ("yarn@1", "pnpm@^9"), so a rebuild needs no network. */
async function cachedVersion(home: string, spec: string): Promise<string | undefined> {
  const at = spec.indexOf('@');
  const [name, range] = [spec.slice(0, at), spec.slice(at + 1)];
  if (semver.valid(range) || range.includes('+') || !semver.validRange(range)) return undefined;
  const dir = path.join(home, 'v1', name);
  const versions: string[] = [];
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    if (semver.valid(entry) && (await stat(path.join(dir, entry, '.corepack')).catch(() => undefined))) versions.push(entry);
  }
  return semver.maxSatisfying(versions, range) ?? undefined;
}

/** What the user can set, by what went wrong: corepack's settings are theirs, hop3 changes none that weakens a check. */
function corepackHint(reason: string, home: string): string {
  if (/not installed/.test(reason)) return 'Install corepack (`npm install -g corepack`), or build with --builder docker on a node image that has it.';
  if (/signature/i.test(reason)) {
    return 'Your registry serves no signatures corepack can check. If you trust it, set COREPACK_INTEGRITY_KEYS=0 in the environment hop3 runs in (this turns off corepack\'s signature check); or set COREPACK_NPM_REGISTRY to a registry that signs.';
  }
  if (/repo\.yarnpkg\.com/.test(reason)) {
    return 'corepack fetches yarn 2+ from repo.yarnpkg.com unless COREPACK_NPM_REGISTRY is set: set COREPACK_NPM_REGISTRY=https://registry.npmjs.org (or your npm mirror) to fetch it from an npm registry.';
  }
  return `corepack fetches package managers from COREPACK_NPM_REGISTRY (default https://registry.npmjs.org), through HTTPS_PROXY if set, into COREPACK_HOME (${home}): check the network or set COREPACK_NPM_REGISTRY to a reachable mirror.`;
}
