import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { GitState } from './build-time.js';
import type { SourceEntry } from './source-tree.js';

/** Files that pin what a toolchain installs, at the app's root: their digests say which one changed between two builds. */
const LOCKFILES = [
  'package.json', 'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml',
  'requirements.txt', 'pyproject.toml', 'poetry.lock', 'Pipfile.lock', 'uv.lock',
  'go.mod', 'go.sum', 'flake.lock', 'Gemfile.lock', 'Cargo.lock',
];

export interface ProvenanceInputs {
  source_digest: string;
  /** The checkout the source came from; null outside git (or without git installed). */
  git: { commit: string; dirty: boolean } | null;
  /** Lockfile -> sha256 of its content, for those at the source root. */
  lockfiles: Record<string, string>;
  /** The local builder's dependency inputs, label -> digest (what decides a reuse of an earlier install). */
  dependency_inputs?: Record<string, string>;
  hop3_version: string;
  /** Only the engines this build used. */
  engines: Record<string, string>;
  /** Base image reference -> image ID (docker builder). */
  base_images?: Record<string, string>;
  /** The command that asked for the build, with paths and secret sources left out (see ARCHITECTURE.md). */
  command: string[] | null;
}

export interface ProvenanceRequest {
  sourceDir: string;
  sourceEntries: readonly SourceEntry[];
  sourceDigest: string;
  git: GitState | undefined;
  hop3Version: string;
  builderMetadata: Readonly<Record<string, unknown>>;
  command: readonly string[] | undefined;
}

/** What a build was made from and with, as one object in the artifact's metadata (metadata.provenance_inputs). */
export async function provenanceInputs(request: ProvenanceRequest): Promise<ProvenanceInputs> {
  const present = new Set(request.sourceEntries.filter((entry) => entry.type === 'file').map((entry) => entry.path));
  const lockfiles: Record<string, string> = {};
  for (const file of LOCKFILES.filter((name) => present.has(name)).sort()) {
    lockfiles[file] = `sha256:${createHash('sha256').update(await readFile(path.join(request.sourceDir, file))).digest('hex')}`;
  }
  const meta = request.builderMetadata;
  const engines: Record<string, string> = { node: process.version }; // hop3's own runtime, used by every build
  const builderEngines = meta.engines as Record<string, string> | undefined;
  if (builderEngines?.python) engines.python = builderEngines.python;
  if (typeof meta.docker_server_version === 'string') engines.docker_server = meta.docker_server_version;
  const nix = meta.nix as { version?: unknown } | undefined;
  if (typeof nix?.version === 'string') engines.nix = nix.version;
  const baseImages = meta.base_images as Record<string, string> | undefined;
  const dependencyInputs = meta.dependency_inputs as Record<string, string> | undefined;
  return {
    source_digest: `sha256:${request.sourceDigest}`,
    git: request.git ? { commit: request.git.commit, dirty: request.git.dirty } : null,
    lockfiles,
    ...(dependencyInputs ? { dependency_inputs: dependencyInputs } : {}),
    hop3_version: request.hop3Version,
    engines: Object.fromEntries(Object.entries(engines).sort(([a], [b]) => (a < b ? -1 : 1))),
    ...(baseImages && Object.keys(baseImages).length > 0 ? { base_images: baseImages } : {}),
    command: request.command ? [...request.command] : null,
  };
}
