import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { procStat } from '../process/proc-stat.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** Environment variable carrying a worker's random marker: how hop3 recognises a group it started. */
export const MARKER_VARIABLE = 'HOP3_WORKER_MARKER';

/** What hop3 recorded when it started a process group: enough to recognise that group later. */
export interface GroupIdentity {
  pid: number;
  /** Start time of the leader (field 22 of /proc/<pid>/stat). */
  ticks: number;
  /** Value of MARKER_VARIABLE in every member's environment. */
  marker: string;
}

/** ours: safe to signal. gone: nothing of it is left. refused: something else answers to that id. */
export type GroupTrust = { state: 'ours'; identity: GroupIdentity } | { state: 'gone' } | { state: 'refused'; reason: string };

function carriesMarker(pid: number, marker: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`${MARKER_VARIABLE}=${marker}`);
  } catch {
    return false;
  }
}

/** Living (not zombie) members of process group `pgid` other than its leader (the leader may have exited before them). */
function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const stat = procStat(pid);
    if (pid !== pgid && stat?.pgrp === pgid && stat.state !== 'Z') members.push(pid);
  }
  return members;
}

/** How often, and how far apart, a member without a readable marker is looked at again. */
const SETTLE_LOOKS = 10;
const SETTLE_MS = 10;

/**
 * True when `pid` stays in group `pgid` without the marker. A process caught exiting has no
 * environment to read for a moment (a worker's shell forks and reaps all the time), so a missing
 * marker is looked at again until the process carries it, leaves the group, or clearly never will.
 */
async function isStranger(pid: number, pgid: number, marker: string): Promise<boolean> {
  for (let look = 1; ; look++) {
    if (carriesMarker(pid, marker)) return false;
    const stat = procStat(pid);
    if (!stat || stat.state === 'Z' || stat.pgrp !== pgid) return false;
    if (look === SETTLE_LOOKS) return true;
    await sleep(SETTLE_MS);
  }
}

/** The first member of group `pgid` that is not hop3's (no marker, or started before the leader hop3 recorded), if any. */
async function firstStranger(pgid: number, members: number[], marker: string, leaderTicks: number): Promise<number | undefined> {
  const verdicts = await Promise.all(members.map(async (member) => (procStat(member)?.ticks ?? Infinity) < leaderTicks || (await isStranger(member, pgid, marker))));
  return members[verdicts.indexOf(true)];
}

/**
 * Decide whether a recorded worker may be signalled. Only a group hop3 started passes: a pid > 1
 * that is not hop3 itself, leading its own group, with the recorded start time, every member
 * carrying the recorded marker. A forged or stale record can name any pid; this is the gate.
 */
export async function checkGroup(record: { id: string; startTicks?: number | undefined; marker?: string | undefined }): Promise<GroupTrust> {
  const pid = /^[0-9]{1,10}$/.test(record.id) ? Number(record.id) : NaN;
  if (!Number.isSafeInteger(pid) || pid <= 1 || pid === process.pid || pid === process.ppid) {
    return { state: 'refused', reason: `id ${JSON.stringify(record.id)} is not a process id hop3 could have started` };
  }
  const { startTicks: ticks, marker } = record;
  if (ticks === undefined || !Number.isInteger(ticks) || ticks < 0 || !marker) {
    return { state: 'refused', reason: `pid ${pid} has no recorded start time and marker, so hop3 cannot tell it is the process it started` };
  }
  const identity = { pid, ticks, marker };
  const leader = procStat(pid);
  if (leader && leader.ticks === ticks && leader.state !== 'Z') {
    if (leader.pgrp !== pid) return { state: 'refused', reason: `pid ${pid} does not lead its own process group` };
    if (await isStranger(pid, pid, marker)) return { state: 'refused', reason: `pid ${pid} does not carry the marker hop3 gave its worker` };
    return { state: 'ours', identity };
  }
  // The leader is gone (or its pid now belongs to a newer process). A group id stays allocated while
  // any member lives, so leftover members of group `pid` are the leader's children, if they carry our marker.
  const members = groupMembers(pid);
  if (members.length === 0) return { state: 'gone' };
  const stranger = await firstStranger(pid, members, marker, ticks);
  if (stranger !== undefined) return { state: 'refused', reason: `process group ${pid} holds pid ${stranger}, which hop3 did not start` };
  return { state: 'ours', identity };
}

/**
 * Groups whose processes carry `marker`: how a worker is found when hop3 died between starting it
 * and recording its pid. Only a group every member of which carries the marker is returned.
 */
export async function findMarkedGroups(marker: string): Promise<GroupIdentity[]> {
  const groups = new Set<number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const pgrp = procStat(pid)?.pgrp;
    if (pgrp !== undefined && pgrp > 1 && carriesMarker(pid, marker)) groups.add(pgrp);
  }
  const found: GroupIdentity[] = [];
  for (const pgid of groups) {
    const members = [pgid, ...groupMembers(pgid)].filter((pid) => procStat(pid)?.pgrp === pgid);
    if ((await firstStranger(pgid, members, marker, 0)) === undefined) found.push({ pid: pgid, ticks: procStat(pgid)?.ticks ?? 0, marker });
  }
  return found;
}

/** A fresh marker for a worker about to start (recorded before the start, so a crash cannot lose it). */
export function newMarker(): string {
  return randomBytes(12).toString('hex');
}

export interface SpawnedGroup extends GroupIdentity {
  /** Set when the leader exits while this process still watches it. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

/**
 * Start a program as the leader of its own process group with output to `logFd`, detached so it
 * outlives hop3; the group id lets stop() reach its children too, and the marker in its
 * environment (inherited by every child) lets a later hop3 recognise it.
 */
export function spawnGroup(file: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; logFd: number; marker: string }): Promise<SpawnedGroup> {
  const { marker } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: { ...options.env, [MARKER_VARIABLE]: marker },
      detached: true,
      stdio: ['ignore', options.logFd, options.logFd],
    });
    child.once('error', reject);
    child.once('spawn', () => {
      const ticks = procStat(child.pid!)?.ticks;
      if (ticks === undefined) {
        reject(new Error(`pid ${child.pid} vanished before hop3 could record it`));
        return;
      }
      const group: SpawnedGroup = { pid: child.pid!, ticks, marker, exit: undefined };
      child.once('exit', (code, signal) => {
        group.exit = { code, signal };
      });
      child.unref();
      resolve(group);
    });
  });
}

/** How long a SIGKILLed group may take to vanish before stop gives up waiting (a D-state process can). */
const KILL_WAIT_MS = 5000;

/** SIGTERM the group, then SIGKILL whatever is left after `graceMs`. Only for an identity checkGroup accepted. */
export async function stopGroup(identity: GroupIdentity, graceMs = 10_000): Promise<void> {
  if (!signalGroup(identity.pid, 'SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(50);
    if (!groupAlive(identity.pid)) return;
  }
  signalGroup(identity.pid, 'SIGKILL');
  const killDeadline = Date.now() + KILL_WAIT_MS;
  while (groupAlive(identity.pid) && Date.now() < killDeadline) await sleep(20);
}

/** True while group `pid` has a living member; zombies (exited, waiting for their parent to reap them) do not count. */
export function groupAlive(pid: number): boolean {
  if (!signalGroup(pid, 0)) return false;
  return [pid, ...groupMembers(pid)].some((member) => {
    const stat = procStat(member);
    return stat !== undefined && stat.pgrp === pid && stat.state !== 'Z';
  });
}

/** Signal group `pid`; false when it has no member left. A pid ≤ 1 would mean "every process": never. */
function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 1) throw new Error(`refusing to signal process group ${pid}`);
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}
