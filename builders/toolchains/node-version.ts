import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import { Hop3Error } from '../../src/errors.js';
import { findOnPath } from '../../src/process/find-on-path.js';
import { runCommand } from '../../src/process/run-command.js';
import { engine, type PackageJson } from './package-json.js';

/** A Node version the app asks for, and where it asks. */
export interface NodeRequirement {
  /** A semver range: ">=18", "20", "20.11.0". */
  range: string;
  /** "engines.node in package.json", ".nvmrc", ".node-version". */
  source: string;
}

/** nvm's aliases for LTS lines. */
const LTS_CODENAMES: Readonly<Record<string, number>> = {
  argon: 4, boron: 6, carbon: 8, dubnium: 10, erbium: 12, fermium: 14, gallium: 16, hydrogen: 18, iron: 20, jod: 22, krypton: 24,
};

/**
 * What the app asks of Node: engines.node (Heroku's), .nvmrc (nvm's) and .node-version (nodenv's, fnm's), each that
 * names a version; aliases that name none ("node", "lts/*", "system") ask nothing checkable. Unreadable ranges are
 * returned as warnings, not errors: a version manager may read what semver does not.
 */
export async function nodeRequirements(dir: string, pkg: PackageJson): Promise<{ requirements: NodeRequirement[]; warnings: string[] }> {
  const requirements: NodeRequirement[] = [];
  const warnings: string[] = [];
  const add = (raw: string | undefined, source: string) => {
    if (raw === undefined) return;
    const range = versionFileRange(raw);
    if (range === null) return; // an alias for "whatever is current": nothing to check
    if (range === undefined || !semver.validRange(range)) warnings.push(`${source} asks for Node "${raw}", which hop3 cannot read as a version range: not checked`);
    else requirements.push({ range, source });
  };
  add(engine(pkg, 'node'), 'engines.node in package.json');
  for (const file of ['.nvmrc', '.node-version']) {
    const text = await readFile(path.join(dir, file), 'utf8').catch(() => undefined);
    if (text !== undefined) add(firstLine(text), file);
  }
  return { requirements, warnings };
}

function firstLine(text: string): string | undefined {
  return text.split('\n').map((line) => line.replace(/#.*$/, '').trim()).find((line) => line !== '');
}

/** A version file's line as a range: "v20.11.0" -> "20.11.0", "lts/iron" -> "20"; null for aliases that name no version. */
function versionFileRange(raw: string): string | null | undefined {
  const value = raw.trim().toLowerCase();
  if (['node', 'stable', 'latest', 'current', 'system', 'lts/*', 'lts'].includes(value)) return null;
  if (value.startsWith('lts/')) {
    const major = LTS_CODENAMES[value.slice(4)];
    return major === undefined ? undefined : String(major);
  }
  return raw.trim().replace(/^v(?=\d)/, '');
}

export type NodeCheck = { ok: true } | { ok: false; fatal: boolean; message: string };

/**
 * `version` (the Node that runs the app) against a requirement. Not satisfied is a warning (a newer Node
 * usually runs an app written for an older one); it is fatal only when every version the range allows is of
 * a later major than this Node: the app needs what this Node does not have.
 */
export function checkNodeVersion(requirement: NodeRequirement, version: string, where: string): NodeCheck {
  const current = semver.coerce(version)?.version;
  if (!current || semver.satisfies(current, requirement.range)) return { ok: true };
  const lowest = semver.minVersion(requirement.range);
  const fatal = lowest !== null && lowest.major > semver.major(current);
  return { ok: false, fatal, message: `${requirement.source} asks for Node "${requirement.range}"; ${where} is ${version}` };
}

/** Check every requirement: warnings for the build log, a Hop3Error when one cannot be met; `fix` says what to do given the major needed. */
export function assertNodeVersion(requirements: readonly NodeRequirement[], version: string, where: string, fix: (major: number, requirement: NodeRequirement) => string): string[] {
  const warnings: string[] = [];
  for (const requirement of requirements) {
    const check = checkNodeVersion(requirement, version, where);
    if (check.ok) continue;
    if (check.fatal) {
      throw new Hop3Error('BUILD_NODE_VERSION_UNSATISFIED', `${check.message}: the app needs a later major version of Node.`, {
        hint: fix(semver.minVersion(requirement.range)?.major ?? 0, requirement),
      });
    }
    warnings.push(`${check.message}: it may still run; hop3 builds it with ${version}`);
  }
  return warnings;
}

/**
 * `node --version` of the node on the build's PATH; hop3's own version without a process start when that is
 * the same executable (usually so). undefined with the reason when it cannot be run.
 */
export function hostNodeVersion(env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<{ version: string } | { reason: string }> {
  // Asked by the build key and by the engines check of one build: one answer per PATH for this process.
  const key = env.PATH ?? '';
  let answer = nodeVersions.get(key);
  if (!answer) {
    nodeVersions.set(key, (answer = queryNodeVersion(env, signal)));
    // A failure (an aborted build among them) is not the answer for the next build of a --jobs run.
    void answer.then((found) => 'reason' in found && nodeVersions.delete(key));
  }
  return answer;
}

const nodeVersions = new Map<string, Promise<{ version: string } | { reason: string }>>();

async function queryNodeVersion(env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<{ version: string } | { reason: string }> {
  const onPath = await findOnPath('node', env);
  if (onPath && (await realpath(onPath).catch(() => onPath)) === (await realpath(process.execPath).catch(() => process.execPath))) return { version: process.version };
  const result = await runCommand('node', ['--version'], { env, ...(signal ? { signal } : {}) });
  return result.failed ? { reason: result.reason } : { version: result.stdout.trim() };
}
