import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { Hop3Error } from '../errors.js';
import { PRIVATE_FILE_MODE } from '../state/app-dirs.js';
import { formatIssues, formatPath } from '../validation.js';
import { deepFreeze, type DeepReadonly } from './deep-freeze.js';
import { ARTIFACT_READABLE_VERSIONS, ARTIFACT_SCHEMA_VERSION, BuildArtifactSchema, type BuildArtifact } from './schema.js';

export const ARTIFACT_FILE_NAME = 'BUILD_ARTIFACT.json';
const REBUILD_HINT = 'Rebuild the app with `hop3 build <dir>`; artifacts are written by hop3 and should not be edited by hand.';

/** A validated, deeply frozen artifact: nothing downstream of the build can change it. */
export type Artifact = DeepReadonly<BuildArtifact>;

/** Validate an in-memory value (e.g. a builder's output) and freeze it. */
export function parseArtifact(value: unknown, source = 'artifact'): Artifact {
  checkVersion(value, source);
  checkShape(value, source);
  const result = BuildArtifactSchema.safeParse(value);
  if (!result.success) {
    throw new Hop3Error('ARTIFACT_INVALID', `${source} is not a valid build artifact: ${formatIssues(result.error.issues)}`, {
      file: source,
      hint: REBUILD_HINT,
    });
  }
  return deepFreeze(result.data);
}

/** JSON with sorted keys and a trailing newline, so equal artifacts are byte-identical. */
export function serializeArtifact(artifact: Artifact): string {
  return `${JSON.stringify(sortKeys(artifact), null, 2)}\n`;
}

/** Write atomically (temp file + rename): readers never see a partial artifact. Owner-only: it carries env values. */
export async function saveArtifact(file: string, artifact: Artifact): Promise<void> {
  const checked = parseArtifact(artifact, file);
  try {
    await writeFileAtomic(file, serializeArtifact(checked), { mode: PRIVATE_FILE_MODE });
  } catch (error) {
    throw new Hop3Error('ARTIFACT_WRITE_FAILED', `Cannot write artifact ${file}: ${(error as Error).message}`, {
      file,
      cause: error,
      hint: 'Check that the directory exists and is writable; the previous file, if any, is unchanged.',
    });
  }
}

/** Check up front that an artifact can be written at `file`, so a build is not wasted on a bad --output. */
export async function checkArtifactTarget(file: string, option = '--output'): Promise<string> {
  const target = path.resolve(file);
  const [dir, existing] = await Promise.all([stat(path.dirname(target)).catch(() => undefined), stat(target).catch(() => undefined)]);
  if (!dir?.isDirectory() || existing?.isDirectory()) {
    throw new Hop3Error('ARTIFACT_OUTPUT_INVALID', `${option} ${file}: ${existing?.isDirectory() ? 'is a directory' : `the directory ${path.dirname(target)} does not exist`}.`, {
      usage: true,
      hint: `Give a file path in an existing directory, e.g. ${option} ./artifact.json`,
    });
  }
  return target;
}

export async function loadArtifact(file: string): Promise<Artifact> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Hop3Error('ARTIFACT_NOT_FOUND', `Cannot read artifact ${file}: ${code === 'ENOENT' ? 'no such file' : String(error)}`, {
      file,
      cause: error,
      hint: 'Build the app first with `hop3 build <dir> --output <file>`, or pass the right path to --artifact.',
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Hop3Error('ARTIFACT_INVALID_JSON', `Artifact ${file} is not valid JSON (${(error as Error).message}).`, {
      file,
      cause: error,
      hint: 'The file is damaged or truncated: rebuild the app with `hop3 build <dir>`. hop3 never rebuilds silently over a corrupt artifact.',
    });
  }
  return parseArtifact(json, file);
}

function checkVersion(value: unknown, source: string): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return; // the schema reports the type
  const version = (value as Record<string, unknown>).schema_version;
  if (version === undefined || ARTIFACT_READABLE_VERSIONS.includes(version as number)) return; // missing: the schema names the field
  throw new Hop3Error(
    'ARTIFACT_VERSION_UNSUPPORTED',
    `${source} has schema_version ${JSON.stringify(version)}; this hop3 reads schema_version ${ARTIFACT_READABLE_VERSIONS.join(' and ')}.`,
    {
      file: source,
      hint:
        typeof version === 'number' && version > ARTIFACT_SCHEMA_VERSION
          ? 'It was written by a newer hop3: upgrade hop3, or rebuild the app with this one.'
          : 'Rebuild the app with `hop3 build <dir>`.',
    },
  );
}

/** Deeper than any artifact hop3 writes; freezing and serialising recurse, so a hostile file must not. */
const MAX_DEPTH = 32;

/**
 * Refuse what the schema cannot see: a `"__proto__"` key (objects drop it silently, e.g. a worker would
 * vanish), nesting deep enough to overflow the stack, and numbers JSON cannot hold (`1e999` parses as
 * Infinity and would be written back as null). Iterative, so the check itself cannot overflow.
 */
function checkShape(value: unknown, source: string): void {
  const pending: { value: unknown; at: PropertyKey[] }[] = [{ value, at: [] }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (typeof next.value === 'number' && !Number.isFinite(next.value)) {
      throw new Hop3Error('ARTIFACT_INVALID', `${source} is not a valid build artifact: ${formatPath(next.at)}: is not a finite number`, { file: source, hint: REBUILD_HINT });
    }
    if (next.value === null || typeof next.value !== 'object') continue;
    const problem =
      next.at.length > MAX_DEPTH ? `nested more than ${MAX_DEPTH} levels deep` : Object.hasOwn(next.value, '__proto__') ? 'has a "__proto__" key' : undefined;
    if (problem) {
      throw new Hop3Error('ARTIFACT_INVALID', `${source} is not a valid build artifact: ${formatPath(next.at)}: ${problem}`, { file: source, hint: REBUILD_HINT });
    }
    for (const [key, child] of Object.entries(next.value)) pending.push({ value: child, at: [...next.at, Array.isArray(next.value) ? Number(key) : key] });
  }
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}
