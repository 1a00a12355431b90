import { lstat, mkdir, mkdtemp, open, readdir, readFile, readlink, rename, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { ARTIFACT_FILE_NAME, checkArtifactTarget, loadArtifact, parseArtifact, saveArtifact, type Artifact } from '../artifact/artifact-file.js';
import { isInside, locationKind } from '../artifact/location.js';
import { Hop3Error, tail } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { runCommand } from '../process/run-command.js';
import { ensureAppDirs } from '../state/app-dirs.js';
import { withAppLock } from '../state/app-lock.js';
import { createBuildDir } from '../state/build-dirs.js';
import { appPaths, hop3Home, validateAppName } from '../state/hop3-home.js';

/**
 * A local build as a tarball: `hop3-bundle.json` (the artifact, the host it was made on, the absolute links out of the
 * build it needs: interpreters) and the build dir. A local build runs only on a host with the same OS and interpreters;
 * unbundle checks what it can of that and moves every path naming the old build dir to the new one.
 */
const MANIFEST = 'hop3-bundle.json';
const BUNDLE_VERSION = 1;
/** Text files larger than this are not searched for the old path: what names it is scripts and small metadata. */
const RELOCATE_MAX_BYTES = 1 << 20;

const ManifestSchema = z.object({
  hop3_bundle: z.literal(BUNDLE_VERSION),
  build_dir: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/),
  artifact: z.unknown(),
  host: z.object({ os: z.string(), arch: z.string(), os_release: z.string() }),
  external_links: z.array(z.object({ path: z.string(), target: z.string() })),
});

export interface BundleRequest {
  target: string;
  output?: string | undefined;
  env: NodeJS.ProcessEnv;
  log: Logger;
  signal?: AbortSignal | undefined;
}

export interface BundleResult {
  file: string;
  artifact: Artifact;
  bytes: number;
  /** Absolute links out of the build the other host must have (the interpreter). */
  needs: string[];
}

export async function bundleBuild(request: BundleRequest): Promise<BundleResult> {
  const isFile = (await stat(request.target).catch(() => undefined))?.isFile() ?? false;
  const artifact = await loadArtifact(isFile ? path.resolve(request.target) : appPaths(request.target, request.env).latestArtifact);
  if (locationKind(artifact.location) !== 'host-path') {
    throw new Hop3Error('SHIP_NOT_LOCAL', `${artifact.app_name} build ${artifact.build_id} is a ${artifact.builder} build (${artifact.location}): bundle is for local builds.`, {
      usage: true,
      hint: 'Ship docker and nix builds with `hop3 push` (a registry, a Nix store).',
    });
  }
  const buildDir = artifact.location;
  if (!(await stat(buildDir).catch(() => undefined))?.isDirectory()) {
    throw new Hop3Error('SHIP_BUNDLE_FAILED', `${artifact.app_name} build ${artifact.build_id}: its directory ${buildDir} is not on this host.`, { hint: 'Bundle on the host that built it.' });
  }
  const file = request.output ? await checkArtifactTarget(request.output, '-o') : path.resolve(`${artifact.app_name}-${artifact.build_id}.tar.gz`);
  const external = await externalLinks(buildDir);
  const manifest: z.infer<typeof ManifestSchema> = {
    hop3_bundle: BUNDLE_VERSION,
    build_dir: path.basename(buildDir),
    artifact,
    host: await hostFacts(),
    external_links: external,
  };
  const staging = await mkdtemp(path.join(path.dirname(file), '.hop3-bundle-'));
  try {
    await writeFile(path.join(staging, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    const partial = path.join(staging, 'bundle.tar.gz');
    request.log.step(`bundling ${buildDir} (${artifact.app_name} build ${artifact.build_id})`);
    await tar(['--create', '--gzip', '--file', partial, '--numeric-owner', '-C', staging, MANIFEST, '-C', path.dirname(buildDir), path.basename(buildDir)], request, 'SHIP_BUNDLE_FAILED');
    await rename(partial, file);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  const needs = [...new Set(external.map((link) => link.target))];
  return { file, artifact, bytes: (await stat(file)).size, needs };
}

export interface UnbundleRequest {
  file: string;
  name?: string | undefined;
  output?: string | undefined;
  env: NodeJS.ProcessEnv;
  log: Logger;
  signal?: AbortSignal | undefined;
}

export interface UnbundleResult {
  artifact: Artifact;
  /** The build's artifact file (also the app's latest). */
  file: string;
  /** Files and links rewritten to name the new build dir. */
  relocated: number;
  /** Binary files (compiled bytecode) that still name the old dir: only tracebacks show it. */
  unrelocated: string[];
}

export async function unbundleBuild(request: UnbundleRequest): Promise<UnbundleResult> {
  const bundle = path.resolve(request.file);
  if (!(await stat(bundle).catch(() => undefined))?.isFile()) throw invalid(`${request.file}: no such file.`, 'Give the tarball `hop3 bundle` wrote.');
  const output = request.output ? await checkArtifactTarget(request.output, '-o') : undefined;
  const home = hop3Home(request.env);
  await mkdir(home, { recursive: true, mode: 0o700 });
  const staging = await mkdtemp(path.join(home, '.unbundle-'));
  try {
    await tar(['--extract', '--gzip', '--file', bundle, '--no-same-owner', '-C', staging, MANIFEST], request, 'SHIP_BUNDLE_INVALID');
    const manifest = await readManifest(path.join(staging, MANIFEST), request.file);
    const old = parseArtifact(manifest.artifact, `${request.file}: ${MANIFEST}`);
    if (locationKind(old.location) !== 'host-path' || path.basename(old.location) !== manifest.build_dir) throw invalid(`${request.file}: its artifact does not name the bundled build dir.`, 'Bundle again with `hop3 bundle`.');
    await checkHost(manifest, request);
    const app = validateAppName(request.name ?? old.app_name);
    const paths = appPaths(app, request.env);
    await ensureAppDirs(paths, paths.builds);
    return await withAppLock(paths, async () => {
      request.log.step(`unpacking ${path.basename(bundle)}`);
      await tar(['--extract', '--gzip', '--file', bundle, '--no-same-owner', '-C', staging, manifest.build_dir], request, 'SHIP_BUNDLE_INVALID');
      const unpacked = path.join(staging, manifest.build_dir);
      if (!(await lstat(unpacked).catch(() => undefined))?.isDirectory()) throw invalid(`${request.file} holds no directory ${manifest.build_dir}.`, 'Bundle again with `hop3 bundle`.');
      const { name, dir } = await createBuildDir(paths, old.build_id, app);
      await rename(unpacked, dir); // onto the empty dir createBuildDir made: same file system, atomic
      const moved = await relocateTree(dir, old.location, dir);
      if (moved.relocated > 0) request.log.step(`moved ${moved.relocated} file(s) and link(s) from ${old.location} to ${dir}`);
      if (moved.unrelocated.length > 0) request.log.warn(`${moved.unrelocated.length} binary file(s) still name ${old.location} (compiled bytecode: only tracebacks show it), e.g. ${moved.unrelocated[0]}`);
      const artifact = parseArtifact(
        {
          ...(relocateStrings(old, old.location, dir) as object),
          app_name: app,
          metadata: { ...(relocateStrings(old.metadata, old.location, dir) as object), build_dir: name, unbundled: { from: old.location, bundle: path.basename(bundle) } },
        },
        request.file,
      );
      const file = path.join(dir, ARTIFACT_FILE_NAME);
      await saveArtifact(file, artifact);
      await saveArtifact(paths.latestArtifact, artifact);
      if (output) await saveArtifact(output, artifact);
      return { artifact, file, ...moved };
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

function invalid(message: string, hint: string): Hop3Error {
  return new Hop3Error('SHIP_BUNDLE_INVALID', message, { usage: true, hint });
}

async function readManifest(file: string, bundle: string): Promise<z.infer<typeof ManifestSchema>> {
  try {
    return ManifestSchema.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch {
    throw invalid(`${bundle} is not a hop3 bundle (its ${MANIFEST} is missing or not one this hop3 reads).`, 'Give a tarball written by `hop3 bundle`.');
  }
}

/** Same OS and architecture, and every interpreter the build links to: a local build runs nowhere else. */
async function checkHost(manifest: z.infer<typeof ManifestSchema>, request: UnbundleRequest): Promise<void> {
  const here = await hostFacts();
  if (manifest.host.os !== here.os || manifest.host.arch !== here.arch) {
    throw new Hop3Error('SHIP_BUNDLE_INVALID', `The bundle was made on ${manifest.host.os}/${manifest.host.arch}; this host is ${here.os}/${here.arch}.`, {
      hint: 'A local build runs only where the OS and interpreters match: build here, or use the docker or nix builder.',
    });
  }
  if (manifest.host.os_release !== here.os_release) request.log.warn(`the bundle was made on ${manifest.host.os_release}, this host is ${here.os_release}: it runs only if the interpreters and libraries match`);
  const missing: string[] = [];
  for (const link of manifest.external_links) if (!(await stat(link.target).catch(() => undefined))) missing.push(`${link.path} -> ${link.target}`);
  if (missing.length > 0) {
    throw new Hop3Error('SHIP_BUNDLE_INVALID', `This host lacks what the build links to: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` (and ${missing.length - 5} more)` : ''}.`, {
      hint: 'Install the same interpreter here (the same path and version), or rebuild here; nothing was unpacked.',
    });
  }
}

async function hostFacts(): Promise<{ os: string; arch: string; os_release: string }> {
  const text = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const field = (name: string) => new RegExp(`^${name}="?([^"\\n]*)"?$`, 'm').exec(text)?.[1] ?? '';
  return { os: process.platform, arch: process.arch, os_release: `${field('ID') || 'unknown'} ${field('VERSION_ID')}`.trim() };
}

/** Absolute symlinks in the build that point out of it (a venv's python): the other host must have their targets. */
async function externalLinks(root: string): Promise<{ path: string; target: string }[]> {
  const links: { path: string; target: string }[] = [];
  for (const rel of await readdir(root, { recursive: true })) {
    const full = path.join(root, rel);
    if (!(await lstat(full)).isSymbolicLink()) continue;
    const target = await readlink(full);
    if (path.isAbsolute(target) && !isInside(target, root)) links.push({ path: rel, target });
  }
  return links;
}

/** Rewrite what names `from` (venv scripts' shebangs, pyvenv.cfg, .pth files, absolute links) to name `to`. */
async function relocateTree(root: string, from: string, to: string): Promise<{ relocated: number; unrelocated: string[] }> {
  if (from === to) return { relocated: 0, unrelocated: [] };
  const needle = Buffer.from(`${from}/`);
  let relocated = 0;
  const unrelocated: string[] = [];
  for (const rel of await readdir(root, { recursive: true })) {
    const full = path.join(root, rel);
    const info = await lstat(full);
    if (info.isSymbolicLink()) {
      const target = await readlink(full);
      if (target !== from && !target.startsWith(`${from}/`)) continue;
      await unlink(full);
      await symlink(to + target.slice(from.length), full);
      relocated++;
      continue;
    }
    if (!info.isFile() || info.size > RELOCATE_MAX_BYTES) continue;
    const content = await readFile(full);
    if (content.indexOf(needle) < 0) continue;
    if (content.includes(0)) {
      unrelocated.push(rel);
      continue;
    }
    const handle = await open(full, 'w', info.mode); // in place: keeps the mode (a script's x bit)
    try {
      await handle.writeFile(content.toString('latin1').split(`${from}/`).join(`${to}/`), 'latin1');
    } finally {
      await handle.close();
    }
    relocated++;
  }
  return { relocated, unrelocated };
}

/** Every string of a JSON value with the old build dir replaced by the new one. */
function relocateStrings(value: unknown, from: string, to: string): unknown {
  if (typeof value === 'string') return value === from ? to : value.split(`${from}/`).join(`${to}/`);
  if (Array.isArray(value)) return value.map((item) => relocateStrings(item, from, to));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [relocateStrings(key, from, to) as string, relocateStrings(item, from, to)]));
  return value;
}

async function tar(args: string[], request: { env: NodeJS.ProcessEnv; signal?: AbortSignal | undefined }, code: 'SHIP_BUNDLE_FAILED' | 'SHIP_BUNDLE_INVALID'): Promise<void> {
  const result = await runCommand('tar', args, { env: request.env, ...(request.signal ? { signal: request.signal } : {}) });
  if (!result.failed) return;
  throw new Hop3Error(code, `tar failed (${result.reason}): ${tail(result.stderr || result.stdout, 3)}`, {
    command: result.command,
    usage: code === 'SHIP_BUNDLE_INVALID', // the file given is not a whole bundle
    hint: code === 'SHIP_BUNDLE_INVALID' ? 'Give a tarball written by `hop3 bundle`, whole (not truncated).' : 'Check the free space and permissions where the tarball goes.',
  });
}
