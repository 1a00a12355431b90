import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { exists, readJson } from './fs-utils.js';
import { requirementRefs } from './requirement-refs.js';

/**
 * The files and folders (POSIX paths relative to the app) that a dependency install reads, so a
 * build can install from them alone and reuse that install while only the rest changes; undefined
 * when the install may read anything (a local `.` package, install scripts, workspaces, a path it
 * cannot follow). Only paths inside the app are listed: one outside it is in no build anyway.
 */
export type DependencyFiles = string[] | undefined;

/**
 * requirements.txt and what it points to inside the app (nested requirement and constraint files, local wheels and
 * archives, find-links folders, editable projects: see requirement-refs.ts); undefined for pyproject.toml apps
 * (`pip install .`), when a requirement is the app itself, or when a file uses `${VARIABLES}` pip expands.
 */
export async function pythonDependencyFiles(dir: string): Promise<DependencyFiles> {
  if (!(await exists(dir, 'requirements.txt'))) return undefined;
  const refs = await requirementRefs(dir, 'requirements.txt');
  const found = new Set<string>(['requirements.txt']);
  for (const target of [...refs.files, ...refs.trees, ...refs.editables]) {
    const rel = path.relative(dir, target).split(path.sep).join('/');
    if (rel === '') return undefined;
    if (rel !== '..' && !rel.startsWith('../') && !path.isAbsolute(rel)) found.add(rel);
  }
  for (const file of ['requirements.txt', ...refs.files]) if ((await readFile(path.resolve(dir, file), 'utf8')).includes('${')) return undefined;
  return outermost(found);
}

/** package.json, the lockfile, .npmrc and local `file:` packages; undefined with install scripts or workspaces. */
export async function nodeDependencyFiles(dir: string): Promise<DependencyFiles> {
  const pkg = (await readJson(path.join(dir, 'package.json')).catch(() => undefined)) as Record<string, unknown> | undefined;
  if (!pkg || typeof pkg !== 'object') return undefined;
  const scripts = (pkg.scripts ?? {}) as Record<string, unknown>;
  // npm runs these for the app itself during `npm ci`, heroku-prebuild runs before it: they may read any file of it.
  if (['preinstall', 'install', 'postinstall', 'prepublish', 'preprepare', 'prepare', 'postprepare', 'heroku-prebuild'].some((name) => name in scripts)) return undefined;
  if (pkg.workspaces !== undefined || (await exists(dir, 'binding.gyp')) || (await exists(dir, 'pnpm-workspace.yaml'))) return undefined;
  const found = new Set<string>(['package.json']);
  // yarn's and pnpm's lockfiles and config too; .yarn/ holds berry's own release (yarnPath), plugins, patches and offline cache.
  const managerFiles = ['package-lock.json', 'npm-shrinkwrap.json', '.npmrc', 'yarn.lock', '.yarnrc', '.yarnrc.yml', '.yarn', 'pnpm-lock.yaml', '.pnpmfile.cjs'];
  for (const file of managerFiles) if (await exists(dir, file)) found.add(file);
  const specs: string[] = [];
  const collect = (value: unknown): void => {
    if (typeof value === 'string') specs.push(value);
    else if (value && typeof value === 'object') Object.values(value).forEach(collect);
  };
  for (const field of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies', 'overrides', 'resolutions']) collect(pkg[field]);
  // yarn's patch:, portal: and exec: name files hop3 does not follow.
  if (specs.some((spec) => /^(patch|portal|exec):/.test(spec))) return undefined;
  // pnpm's patches: package -> a file relative to the app.
  const patches = (pkg.pnpm as { patchedDependencies?: Record<string, unknown> } | undefined)?.patchedDependencies ?? {};
  for (const file of Object.values(patches)) {
    const local = typeof file === 'string' ? localPath('.', file) : null;
    if (local === null) return undefined;
    if (local !== undefined) found.add(local);
  }
  for (const spec of specs) {
    const target = /^(file|link):/.test(spec) ? spec.replace(/^(file|link):/, '') : /^(\.{1,2}\/|\/|~)/.test(spec) ? spec : undefined;
    if (target === undefined) continue;
    const local = localPath('.', target);
    if (local === null) return undefined;
    if (local !== undefined) found.add(local);
  }
  // The lockfile lists local packages the app's own packages depend on (`"vendor/a": {...}`) and local tarballs.
  for (const lockfile of ['package-lock.json', 'npm-shrinkwrap.json']) {
    if (!found.has(lockfile)) continue;
    const lock = (await readJson(path.join(dir, lockfile)).catch(() => undefined)) as { packages?: Record<string, { resolved?: unknown }> } | undefined;
    for (const [key, entry] of Object.entries(lock?.packages ?? {})) {
      const resolved = typeof entry?.resolved === 'string' && entry.resolved.startsWith('file:') ? entry.resolved.slice(5) : undefined;
      for (const target of [key !== '' && !/(^|\/)node_modules\//.test(key) ? key : undefined, resolved]) {
        if (target === undefined) continue;
        const local = localPath('.', target);
        if (local === null) return undefined;
        if (local !== undefined) found.add(local);
      }
    }
  }
  return outermost(found);
}

/**
 * `value` relative to `base` (both inside the app) as a POSIX path inside the app; undefined for
 * a URL or a path outside the app; null when the install reads the app itself or a path hop3
 * cannot follow (`.`, variables, wildcards the engine would expand).
 */
function localPath(base: string, value: string): string | undefined | null {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && !value.startsWith('file://')) return undefined;
  let target = value.replace(/^file:(\/\/)?/, '').replace(/[[#].*$/, '');
  if (/[$*?\\\n"]/.test(target) || target.startsWith('~')) return null;
  if (path.posix.isAbsolute(target)) return undefined;
  target = path.posix.normalize(path.posix.join(base, target)).replace(/\/+$/, '');
  if (target === '..' || target.startsWith('../')) return undefined;
  if (target === '.' || target === '') return null;
  return target;
}

/** Sorted, without paths inside another listed folder (copying the folder copies them). */
function outermost(paths: Set<string>): string[] {
  return [...paths].filter((p) => ![...paths].some((other) => p.startsWith(`${other}/`))).sort();
}
