import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { detectToolchain } from '../../builders/toolchains/registry.js';
import { loadAppConfig } from '../config/app-config.js';
import { Hop3Error } from '../errors.js';
import { appNameFromDir } from '../state/hop3-home.js';

/** One app to build among several: its dir, the name it builds under, and the builder its hop3.toml names. */
export interface AppSource {
  app: string;
  dir: string;
  /** `[build] builder` of its hop3.toml when it could be read; undefined: the default (local) or unknown. */
  builder?: string;
}

/**
 * What `hop3 build <dir>…` builds: one app as before (one dir that is an app, or that nothing else fits, so the
 * build says what is wrong with it), or several: every dir given, a directory of apps standing for the apps in it.
 */
export type BuildTargets = { kind: 'one'; dir: string } | { kind: 'many'; apps: AppSource[]; from: string[] };

/**
 * A dir is an app when it has a Procfile or a hop3.toml, or a toolchain detects it (the same detection as the build).
 * A dir that is not one is a directory of apps when some of its subdirs (not hidden, not node_modules) are apps;
 * a dir that is an app is always built as one app, even with app-like subdirs (an app with its frontend/ inside).
 */
export async function resolveBuildTargets(dirs: readonly string[]): Promise<BuildTargets> {
  const expanded = await Promise.all(dirs.map(async (dir) => ({ dir: path.resolve(dir), apps: await appsIn(path.resolve(dir)) })));
  if (expanded.length === 1 && !expanded[0]!.apps) return { kind: 'one', dir: dirs[0]! };
  const apps = (
    await Promise.all(expanded.map(async ({ dir, apps: found }) => found ?? [await appSource(dir)]))
  ).flat();
  refuseSameName(apps);
  return { kind: 'many', apps, from: expanded.filter((e) => e.apps).map((e) => e.dir) };
}

/** Two dirs of one name would build into the same app, one after the other under its lock, the second replacing the first. */
function refuseSameName(apps: readonly AppSource[]): void {
  const byName = new Map<string, AppSource[]>();
  for (const source of apps) byName.set(source.app, [...(byName.get(source.app) ?? []), source]);
  const clashes = [...byName].filter(([, sources]) => sources.length > 1);
  if (clashes.length === 0) return;
  const list = clashes.map(([app, sources]) => `${app} (${sources.map((s) => s.dir).join(', ')})`).join('; ');
  throw new Hop3Error('BUILD_DUPLICATE_APP', `Several directories would build the same app: ${list}. Nothing was built.`, {
    usage: true,
    hint: 'Each app is named after its directory: build them separately with --name, or rename a directory.',
  });
}

/** The apps a directory of apps holds, or undefined when the dir is to be built as one app. */
async function appsIn(dir: string): Promise<AppSource[] | undefined> {
  if ((await probe(dir)).app) return undefined;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => undefined);
  if (!entries) return undefined; // not a directory, or unreadable: its build says so
  const candidates = entries
    .filter((entry) => !entry.name.startsWith('.') && entry.name !== 'node_modules' && (entry.isDirectory() || entry.isSymbolicLink()))
    .map((entry) => path.join(dir, entry.name))
    .sort();
  const found = await Promise.all(
    candidates.map(async (sub) => {
      if (!(await stat(sub).catch(() => undefined))?.isDirectory()) return undefined;
      const { app, builder } = await probe(sub);
      return app ? { app: appNameFromDir(sub), dir: sub, ...(builder ? { builder } : {}) } : undefined;
    }),
  );
  const apps = found.filter((source) => source !== undefined);
  return apps.length > 0 ? apps : undefined;
}

async function appSource(dir: string): Promise<AppSource> {
  const { builder } = await probe(dir);
  return { app: appNameFromDir(dir), dir, ...(builder ? { builder } : {}) };
}

/** Whether `dir` is an app; a Procfile or hop3.toml that does not parse still makes one (its build says what is wrong). */
async function probe(dir: string): Promise<{ app: boolean; builder?: string }> {
  try {
    const config = await loadAppConfig(dir);
    const builder = config.settings.build.builder?.name;
    const found = { app: true, ...(builder ? { builder } : {}) };
    if (config.procfile || config.settings.file) return found;
    await detectToolchain(config);
    return found;
  } catch (error) {
    return { app: !(error instanceof Hop3Error && error.code === 'BUILD_NO_TOOLCHAIN') };
  }
}
