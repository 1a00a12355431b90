import { readFile } from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import { Hop3Error } from '../../src/errors.js';
import { exists } from './fs-utils.js';
import { engine, type PackageJson } from './package-json.js';

export type PackageManagerName = 'npm' | 'yarn' | 'pnpm';

/** How an app's dependencies are installed: npm (the host's), or yarn/pnpm through corepack. */
export interface PackageManager {
  name: PackageManagerName;
  /** yarn 2 and later: another command line and lockfile format than yarn 1. */
  berry: boolean;
  /** yarn berry with Plug'n'Play (its default nodeLinker): no node_modules, node must be started through yarn. */
  pnp: boolean;
  /**
   * What corepack fetches: "yarn@4.5.3" (from packageManager, maybe with its hash) or a range from engines or
   * the lockfile's format ("yarn@1", "pnpm@9"); undefined for npm, which is the host's.
   */
  corepackSpec?: string;
  /** The lockfile the install is frozen to, when there is one. */
  lockfile?: string;
  /** Why this manager (and version), for the build log. */
  reason: string;
  /** What the build log should warn about: lockfiles of another manager, left unused. */
  warnings: string[];
}

/** Lockfiles in the order hop3 looks for them: npm's first, as before yarn and pnpm were known, so such an app builds as it did. */
const LOCKFILES: readonly { file: string; name: PackageManagerName }[] = [
  { file: 'npm-shrinkwrap.json', name: 'npm' },
  { file: 'package-lock.json', name: 'npm' },
  { file: 'pnpm-lock.yaml', name: 'pnpm' },
  { file: 'yarn.lock', name: 'yarn' },
];

/** Files besides package.json that decide what each manager installs (the local builder's dependency inputs). */
export const MANAGER_FILES: Readonly<Record<PackageManagerName, readonly string[]>> = {
  npm: ['package-lock.json', 'npm-shrinkwrap.json', '.npmrc'],
  yarn: ['yarn.lock', '.yarnrc', '.yarnrc.yml', '.npmrc'],
  pnpm: ['pnpm-lock.yaml', 'pnpm-workspace.yaml', '.pnpmfile.cjs', '.npmrc'],
};

const PACKAGE_MANAGER_FIELD = /^(npm|yarn|pnpm)@([^+\s]+)(\+\S+)?$/;

/**
 * As Heroku does: the `packageManager` field (corepack's) wins; else the lockfile says which manager, and
 * engines.yarn/engines.pnpm or the lockfile's format which version; no lockfile means npm.
 */
export async function detectPackageManager(dir: string, pkg: PackageJson): Promise<PackageManager> {
  const present: { file: string; name: PackageManagerName }[] = [];
  for (const lockfile of LOCKFILES) if (await exists(dir, lockfile.file)) present.push(lockfile);
  const unused = (name: PackageManagerName, why: string) => {
    const others = present.filter((lockfile) => lockfile.name !== name).map((lockfile) => lockfile.file);
    return others.length > 0 ? [`${others.join(', ')} ${others.length > 1 ? 'are' : 'is'} not used: ${why} (remove ${others.length > 1 ? 'them' : 'it'}, or commit only the lockfile of the manager you use)`] : [];
  };

  if (pkg.packageManager !== undefined) {
    const field = pkg.packageManager.trim();
    const match = PACKAGE_MANAGER_FIELD.exec(field);
    if (!match || !semver.valid(match[2]!)) {
      throw new Hop3Error('CONFIG_PACKAGE_JSON_INVALID', `${path.join(dir, 'package.json')}: packageManager "${field}" is not <npm|yarn|pnpm>@<exact version>.`, {
        file: path.join(dir, 'package.json'),
        hint: 'Write it as corepack does, e.g. "packageManager": "yarn@4.5.3" or "pnpm@9.15.0" (`corepack use pnpm@9` writes it for you).',
      });
    }
    const name = match[1] as PackageManagerName;
    const lockfile = present.find((candidate) => candidate.name === name)?.file;
    const why = `packageManager is ${field}`;
    if (name === 'npm') return { name, berry: false, pnp: false, ...(lockfile ? { lockfile } : {}), reason: `packageManager ${field} in package.json (the host's npm runs it)`, warnings: unused(name, why) };
    const berry = name === 'yarn' && semver.major(match[2]!) >= 2;
    return { name, berry, pnp: berry && (await yarnLinker(dir)) === 'pnp', corepackSpec: field, ...(lockfile ? { lockfile } : {}), reason: `packageManager ${field} in package.json`, warnings: unused(name, why) };
  }

  const chosen = present[0];
  if (!chosen) return { name: 'npm', berry: false, pnp: false, reason: 'no lockfile', warnings: [] };
  const warnings = unused(chosen.name, `hop3 installs with ${chosen.name}, from ${chosen.file}`);
  if (chosen.name === 'npm') return { name: 'npm', berry: false, pnp: false, lockfile: chosen.file, reason: `${chosen.file} found`, warnings };
  const lockText = await readFile(path.join(dir, chosen.file), 'utf8');
  const declared = engine(pkg, chosen.name);
  if (declared !== undefined && semver.validRange(declared)) {
    const berry = chosen.name === 'yarn' && (semver.minVersion(declared)?.major ?? 0) >= 2;
    return { name: chosen.name, berry, pnp: berry && (await yarnLinker(dir)) === 'pnp', corepackSpec: `${chosen.name}@${declared}`, lockfile: chosen.file, reason: `${chosen.file}, engines.${chosen.name} "${declared}" in package.json`, warnings };
  }
  if (chosen.name === 'pnpm') {
    const major = pnpmMajor(lockText);
    return { name: 'pnpm', berry: false, pnp: false, corepackSpec: `pnpm@${major}`, lockfile: chosen.file, reason: `${chosen.file} (its format is pnpm ${major}'s; no packageManager field)`, warnings };
  }
  const berryMajor = yarnBerryMajor(lockText);
  const major = berryMajor ?? 1;
  const berry = berryMajor !== undefined;
  return { name: 'yarn', berry, pnp: berry && (await yarnLinker(dir)) === 'pnp', corepackSpec: `yarn@${major}`, lockfile: chosen.file, reason: `${chosen.file} (its format is yarn ${major}'s; no packageManager field)`, warnings };
}

/** Yarn berry's nodeLinker in .yarnrc.yml: pnp (its default), node-modules or pnpm. */
async function yarnLinker(dir: string): Promise<string> {
  const text = await readFile(path.join(dir, '.yarnrc.yml'), 'utf8').catch(() => '');
  return /^nodeLinker:\s*["']?([\w-]+)/m.exec(text)?.[1] ?? 'pnp';
}

/**
 * Environment the manager's steps need, under the user's own (which wins): Plug'n'Play points into yarn's cache,
 * so the cache must be the build's own (.yarn/cache), not the user's global one, which the build does not carry.
 */
export function managerEnv(pm: PackageManager, userEnv: NodeJS.ProcessEnv): Record<string, string> {
  return pm.pnp && userEnv.YARN_ENABLE_GLOBAL_CACHE === undefined ? { YARN_ENABLE_GLOBAL_CACHE: 'false' } : {};
}

/** A berry lockfile starts with `__metadata: version: N` (8: yarn 4, 6: yarn 3, 4: yarn 2); yarn 1's has none. */
export function yarnBerryMajor(lockText: string): number | undefined {
  const match = /^__metadata:\s*\n\s+version:\s*(\d+)/m.exec(lockText);
  if (!match) return undefined;
  const format = Number(match[1]);
  return format >= 8 ? 4 : format >= 6 ? 3 : 2;
}

/** pnpm-lock.yaml's lockfileVersion: 9.0 is pnpm 9 and 10's, 6.x pnpm 8's, 5.4 pnpm 7's, older pnpm 6's. */
export function pnpmMajor(lockText: string): number {
  const match = /^lockfileVersion:\s*['"]?(\d+(?:\.\d+)?)/m.exec(lockText);
  const format = match ? Number(match[1]) : 9;
  return format >= 9 ? 9 : format >= 6 ? 8 : format >= 5.4 ? 7 : 6;
}

/** The major version a corepack spec asks for ("yarn@4.5.3" 4, "yarn@^3" 3), when it can be read. */
export function specMajor(spec: string): number | undefined {
  const range = spec.slice(spec.indexOf('@') + 1).replace(/\+.*$/, '');
  return semver.validRange(range) ? semver.minVersion(range)?.major : undefined;
}

/** A manager's command lines, without the program: install frozen to the lockfile, run a script, prune dev dependencies. */
export interface ManagerCommands {
  install: string[];
  run(script: string): string[];
  /** undefined when this manager cannot prune (yarn 2 and 3 without the workspace-tools plugin). */
  prune: string[] | undefined;
}

export function managerCommands(pm: PackageManager): ManagerCommands {
  const run = (script: string) => ['run', script];
  const frozen = pm.lockfile !== undefined;
  switch (pm.name) {
    case 'npm': {
      const quiet = ['--no-audit', '--no-fund'];
      return { install: [frozen ? 'ci' : 'install', ...quiet], run, prune: ['prune', '--omit=dev', ...quiet] };
    }
    case 'pnpm':
      return { install: ['install', frozen ? '--frozen-lockfile' : '--no-frozen-lockfile'], run, prune: ['prune', '--prod', '--ignore-scripts'] };
    case 'yarn':
      if (!pm.berry) {
        return {
          install: ['install', ...(frozen ? ['--frozen-lockfile'] : []), '--non-interactive'],
          run,
          prune: ['install', ...(frozen ? ['--frozen-lockfile'] : []), '--production=true', '--ignore-scripts', '--prefer-offline', '--non-interactive'],
        };
      }
      return {
        install: frozen ? ['install', '--immutable'] : ['install', '--no-immutable'],
        run,
        // `workspaces focus` is built into yarn 4; yarn 2 and 3 need a plugin, so their dev dependencies stay.
        prune: (specMajor(pm.corepackSpec ?? '') ?? 4) >= 4 ? ['workspaces', 'focus', '--all', '--production'] : undefined,
      };
  }
}
