import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { Hop3Error } from '../src/errors.js';
import { runCommand } from '../src/process/run-command.js';

/** Where an artifact's built_at came from, recorded as metadata.built_at_source. */
export type BuiltAtSource = 'SOURCE_DATE_EPOCH' | 'git-commit' | 'clock';

export interface BuildTime {
  date: Date;
  source: BuiltAtSource;
}

/** SOURCE_DATE_EPOCH in seconds (reproducible-builds.org convention); undefined when unset or empty. */
export function sourceDateEpoch(env: NodeJS.ProcessEnv): number | undefined {
  const value = env.SOURCE_DATE_EPOCH;
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,12}$/.test(value)) {
    throw new Hop3Error('BUILD_SOURCE_DATE_EPOCH_INVALID', `SOURCE_DATE_EPOCH=${value} is not a number of seconds.`, {
      usage: true,
      hint: 'Set it to a Unix timestamp, e.g. SOURCE_DATE_EPOCH=$(git log -1 --format=%ct), or unset it.',
    });
  }
  return Number(value);
}

/**
 * A build's time, so that rebuilding the same source gives the same artifact: SOURCE_DATE_EPOCH when set;
 * else the last commit's time when the source is a clean git checkout; else the clock.
 */
export function buildTime(env: NodeJS.ProcessEnv, git: GitState | undefined, clock: () => Date): BuildTime {
  const epoch = sourceDateEpoch(env);
  if (epoch !== undefined) return { date: new Date(epoch * 1000), source: 'SOURCE_DATE_EPOCH' };
  if (git && !git.dirty && git.commitTime !== undefined) return { date: new Date(git.commitTime * 1000), source: 'git-commit' };
  return { date: clock(), source: 'clock' };
}

export interface GitState {
  commit: string;
  dirty: boolean;
  /** Committer time, seconds since the epoch. */
  commitTime?: number;
}

/** The checkout the source dir is in: HEAD and whether it has changes; undefined without git or outside a repository. */
export async function gitState(sourceDir: string, env: NodeJS.ProcessEnv): Promise<GitState | undefined> {
  if (!env.GIT_DIR && !(await insideCheckout(sourceDir))) return undefined; // two git starts saved for most apps
  const git = (...args: string[]) => runCommand('git', ['-C', sourceDir, ...args], { env, timeoutMs: 10_000 });
  const [head, status] = await Promise.all([git('log', '-1', '--format=%H %ct'), git('status', '--porcelain')]);
  if (head.failed || status.failed) return undefined; // no git, not a repository, or no commit yet
  const [commit, time] = head.stdout.trim().split(' ');
  if (!commit) return undefined;
  return { commit, dirty: status.stdout.trim() !== '', ...(time && /^\d+$/.test(time) ? { commitTime: Number(time) } : {}) };
}

/** Whether the dir or one above it has a `.git` (a directory, or a worktree's file), as git looks for one. */
async function insideCheckout(dir: string): Promise<boolean> {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    if (await lstat(path.join(current, '.git')).then(() => true, () => false)) return true;
    if (path.dirname(current) === current) return false;
  }
}
