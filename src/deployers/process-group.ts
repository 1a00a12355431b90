import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Field 22 of /proc/<pid>/stat: distinguishes our process from a later one that reused its pid. */
export function startTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

/** True while the process group led by `pid` has a member (and the leader, if alive, is still ours). */
export function groupAlive(pid: number, ticks?: number): boolean {
  const leaderTicks = startTicks(pid);
  if (leaderTicks !== undefined && ticks !== undefined && leaderTicks !== ticks) return false;
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface SpawnedGroup {
  pid: number;
  ticks: number | undefined;
  /** Set when the leader exits while this process still watches it. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

/**
 * Start `command` under /bin/sh in its own process group with output to `logFd`,
 * detached so it outlives hop3; the group id lets stop() reach its children too.
 */
export function spawnGroup(command: string, options: { cwd: string; env: NodeJS.ProcessEnv; logFd: number }): Promise<SpawnedGroup> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', options.logFd, options.logFd],
    });
    child.once('error', reject);
    child.once('spawn', () => {
      const group: SpawnedGroup = { pid: child.pid!, ticks: startTicks(child.pid!), exit: undefined };
      child.once('exit', (code, signal) => {
        group.exit = { code, signal };
      });
      child.unref();
      resolve(group);
    });
  });
}

/** SIGTERM the group, then SIGKILL whatever is left after `graceMs`. */
export async function stopGroup(pid: number, ticks: number | undefined, graceMs = 10_000): Promise<void> {
  if (!groupAlive(pid, ticks)) return;
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(50);
    if (!groupAlive(pid)) return;
  }
  signalGroup(pid, 'SIGKILL');
  while (groupAlive(pid)) await sleep(20);
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
