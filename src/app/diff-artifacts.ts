import { isDeepStrictEqual } from 'node:util';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { ARTIFACT_FILE_NAME, loadArtifact, type Artifact } from '../artifact/artifact-file.js';
import { Hop3Error } from '../errors.js';
import { appPaths, validateAppName } from '../state/hop3-home.js';
import { listReleases } from '../state/releases.js';

/** One field that differs between two artifacts; a side without the field has no `a`/`b`. */
export interface FieldDifference {
  /** The field's path from the artifact's root, e.g. ["metadata", "provenance_inputs", "lockfiles", "package-lock.json"]. */
  path: string[];
  a?: unknown;
  b?: unknown;
}

/**
 * What differs between two artifacts, field by field, in key order: objects are compared key by key at any depth
 * (metadata, provenance_inputs...), arrays and scalars as whole values. Empty when they are equal.
 */
export function diffArtifacts(a: unknown, b: unknown): FieldDifference[] {
  const out: FieldDifference[] = [];
  walk(a, b, [], out);
  return out;
}

function walk(a: unknown, b: unknown, at: string[], out: FieldDifference[]): void {
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) {
      const inA = Object.hasOwn(a, key);
      const inB = Object.hasOwn(b, key);
      if (inA && inB) walk(a[key], b[key], [...at, key], out);
      else out.push({ path: [...at, key], ...(inA ? { a: a[key] } : {}), ...(inB ? { b: b[key] } : {}) });
    }
    return;
  }
  if (!isDeepStrictEqual(a, b)) out.push({ path: at, a, b });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A field path as text: `metadata.provenance_inputs.lockfiles["package-lock.json"]`. */
export function fieldName(at: readonly string[]): string {
  return at.map((key, i) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${i === 0 ? '' : '.'}${key}` : `[${JSON.stringify(key)}]`)).join('') || '(artifact)';
}

export interface DiffOperand {
  /** What the user gave, for the output. */
  label: string;
  artifact: Artifact;
}

/**
 * One side of `hop3 diff`: an artifact file; `app@N`, the artifact of release N; `app:dir`, the build whose dir under
 * builds/ is named so (its build_id, or `<build_id>.2`... for a forced rebuild); or `app`, the app's latest build.
 */
export async function resolveDiffOperand(spec: string, env: NodeJS.ProcessEnv): Promise<DiffOperand> {
  if ((await stat(spec).catch(() => undefined))?.isFile()) return { label: spec, artifact: await loadArtifact(path.resolve(spec)) };
  const release = /^([^@:/]+)@(\d+)$/.exec(spec);
  if (release) {
    const paths = appPaths(validateAppName(release[1]!), env);
    const number = Number(release[2]);
    const found = (await listReleases(paths)).find((r) => r.release === number);
    if (!found) throw notFound(spec, `${paths.app} has no release ${number}`, `List them with \`hop3 releases ${paths.app}\`.`);
    return { label: spec, artifact: found.artifact };
  }
  const build = /^([^@:/]+):([A-Za-z0-9][A-Za-z0-9._-]*)$/.exec(spec);
  if (build) {
    const paths = appPaths(validateAppName(build[1]!), env);
    const file = path.join(paths.build(build[2]!), ARTIFACT_FILE_NAME);
    if (!(await stat(file).catch(() => undefined))?.isFile()) throw notFound(spec, `${paths.app} has no build ${build[2]} (no ${file})`, `Build ids are in \`hop3 releases ${paths.app}\` and under ${paths.builds}.`);
    return { label: spec, artifact: await loadArtifact(file) };
  }
  if (!spec.includes('/') && !spec.endsWith('.json')) {
    const paths = appPaths(validateAppName(spec), env);
    if ((await stat(paths.latestArtifact).catch(() => undefined))?.isFile()) return { label: spec, artifact: await loadArtifact(paths.latestArtifact) };
    throw notFound(spec, `App ${spec} has no build yet (no ${paths.latestArtifact})`, 'Build it first with `hop3 build <dir>`.');
  }
  throw notFound(spec, `${spec} is not a file`, 'Give an artifact file, app@<release>, app:<build_id> or an app name.');
}

function notFound(spec: string, why: string, hint: string): Hop3Error {
  return new Hop3Error('ARTIFACT_NOT_FOUND', `Cannot diff ${spec}: ${why}.`, { usage: true, hint });
}
