import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ARTIFACT_FILE_NAME, parseArtifact, type Artifact } from '../src/artifact/artifact-file.js';
import { locationKind } from '../src/artifact/location.js';
import { ARTIFACT_SCHEMA_VERSION } from '../src/artifact/schema.js';
import { packageRoot } from '../src/package-root.js';
import type { AppPaths } from '../src/state/hop3-home.js';
import type { Builder } from './builder.js';

/** What decides a build's output, as far as hop3 can know it before building. */
export interface BuildKeyInputs {
  appName: string;
  builder: string;
  toolchain: string;
  /** Digest of the source as the builder sees it: hop3.toml and the Procfile are part of it. */
  sourceDigest: string;
  baseImage?: string;
  /** Secret ids only: a value may change without changing what is built. */
  secretIds: readonly string[];
  /** The interpreter hop3 builds Python apps with. */
  python?: string;
  /** Reproducible mode, for a builder whose output it changes (a normalised image). */
  reproducible?: boolean;
}

/** hop3's own version: a new hop3 may build the same source differently. */
export const hop3Version: Promise<string> = readFile(path.join(packageRoot, 'package.json'), 'utf8').then((text) => (JSON.parse(text) as { version: string }).version);

/** The key under which an identical build is found again: equal inputs, equal key. */
export async function buildKey(inputs: BuildKeyInputs): Promise<string> {
  const canonical = JSON.stringify({
    v: 1,
    hop3: await hop3Version,
    // An artifact of an older schema may lack what this hop3 reads from the same source (e.g. scheduled jobs).
    artifact: ARTIFACT_SCHEMA_VERSION,
    app: inputs.appName,
    builder: inputs.builder,
    toolchain: inputs.toolchain,
    source: inputs.sourceDigest,
    base: inputs.baseImage ?? null,
    secrets: [...inputs.secretIds].sort(),
    python: inputs.python ?? null,
    // Only when set: the keys of every other build stay as they were.
    ...(inputs.reproducible ? { reproducible: true } : {}),
  });
  return `sha256:${createHash('sha256').update(canonical).digest('hex')}`;
}

/**
 * A finished build of the app with this key whose output still exists, newest first: building
 * unchanged source again returns it rather than copying and installing everything again.
 */
export async function findBuild(paths: AppPaths, key: string, builder: Builder): Promise<{ artifact: Artifact; artifactFile: string } | undefined> {
  const candidates = await Promise.all(
    (await readdir(paths.builds).catch(() => [] as string[])).map(async (dir) => {
      const artifactFile = path.join(paths.build(dir), ARTIFACT_FILE_NAME);
      // Only a file that names the key is validated: an app's many other builds cost a read each, not a parse.
      const text = await readFile(artifactFile, 'utf8').catch(() => '');
      if (!text.includes(key)) return undefined;
      const artifact = parsedOrNone(text, artifactFile); // a damaged old build is not reused, never fatal
      return artifact?.metadata.build_key === key && artifact.builder === builder.name ? { artifact, artifactFile } : undefined;
    }),
  );
  const matches = candidates.filter((c) => c !== undefined).sort((a, b) => b.artifact.built_at.localeCompare(a.artifact.built_at));
  for (const match of matches) if (await outputExists(match.artifact, builder)) return match;
  return undefined;
}

/** A directory or store path is checked on disk; an image only its builder can look up. */
async function outputExists(artifact: Artifact, builder: Builder): Promise<boolean> {
  if (locationKind(artifact.location) === 'image') return (await builder.isCurrent?.(artifact)) ?? false;
  return (await stat(artifact.location).catch(() => undefined))?.isDirectory() ?? false;
}

function parsedOrNone(text: string, file: string): Artifact | undefined {
  try {
    return parseArtifact(JSON.parse(text), file);
  } catch {
    return undefined;
  }
}
