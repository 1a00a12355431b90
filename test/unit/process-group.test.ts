import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { checkGroup, findMarkedGroups, MARKER_VARIABLE, newMarker, spawnGroup, stopGroup, type SpawnedGroup } from '../../src/deployers/process-group.js';

// Every process here is one this test starts; only those are ever signalled (stopGroup after checkGroup says "ours").
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-pgroup-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

type Ctx = Pick<TestContext, 'onTestFinished' | 'expect'>;
const record = (group: SpawnedGroup, changes: { marker?: string; startTicks?: number } = {}) => ({ id: String(group.pid), startTicks: group.ticks, marker: group.marker, ...changes });

/**
 * spawnGroup with its output to a temp file; the group is stopped after its test if it is still ours.
 * (The tests run concurrently: a stopped group's orphans linger as zombies until init reaps them.)
 */
async function startGroup(ctx: Ctx, command: string): Promise<SpawnedGroup> {
  const logFd = openSync(path.join(dir, `${Date.now()}-${Math.random()}.log`), 'a');
  try {
    const group = await spawnGroup('/bin/sh', ['-c', command], { cwd: dir, env: { PATH: process.env.PATH }, logFd, marker: newMarker() });
    ctx.onTestFinished(async () => {
      const trust = await checkGroup(record(group));
      if (trust.state === 'ours') await stopGroup(trust.identity, 0);
    });
    return group;
  } finally {
    closeSync(logFd);
  }
}

/** A plain child of this test (not through spawnGroup), killed after the test. */
function startChild(ctx: Ctx, options: { detached: boolean; env?: NodeJS.ProcessEnv }): ChildProcess {
  const child = spawn('sleep', ['30'], { detached: options.detached, stdio: 'ignore', env: { PATH: process.env.PATH, ...options.env } });
  ctx.onTestFinished(() => void child.kill('SIGKILL'));
  return child;
}

function stat(pid: number): { pgrp: number; ticks: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { pgrp: Number(fields[2]), ticks: Number(fields[19]) };
}

/** Live processes carrying this marker (read from /proc, nothing is signalled). */
function carriers(marker: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(`${MARKER_VARIABLE}=${marker}`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

const exited = (ctx: Ctx, group: SpawnedGroup) => ctx.expect.poll(() => group.exit, { timeout: 5000, interval: 20 }).toBeDefined();
const spawned = (child: ChildProcess) => new Promise<void>((resolve, reject) => child.once('spawn', resolve).once('error', reject));

describe.concurrent('process groups', () => {
  it('spawnGroup starts the command in a group of its own, every member carrying its marker (a fresh one each time)', async (ctx) => {
    const { expect } = ctx; // concurrent tests poll with their own expect
    const group = await startGroup(ctx, 'sleep 30 & sleep 30; wait');
    const other = await startGroup(ctx, 'exec sleep 30');
    expect(stat(group.pid)).toEqual({ pgrp: group.pid, ticks: group.ticks });
    expect(group.marker).toMatch(/^[0-9a-f]{24}$/);
    expect(other.marker).not.toBe(group.marker);
    await expect.poll(() => carriers(group.marker).length, { timeout: 5000 }).toBe(3); // sh and its two sleeps
    for (const pid of carriers(group.marker)) expect(stat(pid).pgrp).toBe(group.pid);
    expect(await checkGroup(record(group))).toEqual({ state: 'ours', identity: { pid: group.pid, ticks: group.ticks, marker: group.marker } });
  });

  it('stopGroup ends the grandchildren too, with SIGTERM when it is enough', async (ctx) => {
    const { expect } = ctx;
    const group = await startGroup(ctx, 'sleep 30 & sleep 30 & wait');
    await expect.poll(() => carriers(group.marker).length, { timeout: 5000 }).toBe(3);
    const started = Date.now();
    await stopGroup({ pid: group.pid, ticks: group.ticks, marker: group.marker }, 10_000);
    expect(Date.now() - started).toBeLessThan(9000);
    expect(carriers(group.marker)).toEqual([]);
    expect(await checkGroup(record(group))).toEqual({ state: 'gone' });
    await exited(ctx, group);
    expect(group.exit).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('stopGroup sends SIGKILL after the grace period to a group that ignores SIGTERM', async (ctx) => {
    const { expect } = ctx;
    const group = await startGroup(ctx, "trap '' TERM; sleep 30 & sleep 30; wait");
    await expect.poll(() => carriers(group.marker).length, { timeout: 5000 }).toBe(3);
    const started = Date.now();
    await stopGroup({ pid: group.pid, ticks: group.ticks, marker: group.marker }, 400);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(carriers(group.marker)).toEqual([]);
    await exited(ctx, group);
    expect(group.exit).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('checkGroup and findMarkedGroups: a group whose shell forks and reaps all the time is ours at every look (exiting members have no readable environment)', async (ctx) => {
    const { expect } = ctx;
    // The leader's child loops on short-lived processes; the leader exits, so checkGroup looks at the members.
    const group = await startGroup(ctx, 'sh -c "while :; do /bin/true; done" & exit 0');
    await exited(ctx, group);
    const verdicts = new Set<string>();
    for (let look = 0; look < 50; look++) {
      verdicts.add((await checkGroup(record(group))).state);
      verdicts.add(`found ${(await findMarkedGroups(group.marker)).length}`);
    }
    expect([...verdicts].sort()).toEqual(['found 1', 'ours']);
  });

  it('checkGroup: gone once the group has exited', async (ctx) => {
    const { expect } = ctx;
    const group = await startGroup(ctx, 'exit 0');
    await exited(ctx, group);
    expect(await checkGroup(record(group))).toEqual({ state: 'gone' });
  });

  it('checkGroup: still ours when the leader exited but its children run on, and stopGroup reaches them', async (ctx) => {
    const { expect } = ctx;
    const group = await startGroup(ctx, 'sleep 30 & exit 0');
    await exited(ctx, group);
    const [child] = carriers(group.marker);
    expect(child).toBeDefined();
    const trust = await checkGroup(record(group));
    expect(trust.state).toBe('ours');
    if (trust.state === 'ours') await stopGroup(trust.identity, 5000);
    expect(carriers(group.marker)).toEqual([]);
    expect(await checkGroup(record(group))).toEqual({ state: 'gone' });
  });

  it('checkGroup: refused for ids hop3 could not have started, or without a recorded identity', async () => {
    for (const id of ['1', '0', '-1', '1e3', '', 'abc', ' 42', String(process.pid), String(process.ppid), '99999999999']) {
      expect(await checkGroup({ id, startTicks: 0, marker: 'x' }), id).toEqual({ state: 'refused', reason: `id ${JSON.stringify(id)} is not a process id hop3 could have started` });
    }
    expect(await checkGroup({ id: '4242' })).toEqual({ state: 'refused', reason: 'pid 4242 has no recorded start time and marker, so hop3 cannot tell it is the process it started' });
    expect(await checkGroup({ id: '4242', startTicks: 5 })).toMatchObject({ state: 'refused', reason: expect.stringContaining('no recorded start time and marker') });
  });

  it('checkGroup: refused for a process that does not lead its own group, even with the right start time and marker', async (ctx) => {
    const child = startChild(ctx, { detached: false, env: { [MARKER_VARIABLE]: 'copied' } });
    await spawned(child);
    const pid = child.pid!;
    expect(await checkGroup({ id: String(pid), startTicks: stat(pid).ticks, marker: 'copied' })).toEqual({ state: 'refused', reason: `pid ${pid} does not lead its own process group` });
  });

  it('checkGroup: refused for a group leader without the marker, or with another marker', async (ctx) => {
    const loner = startChild(ctx, { detached: true });
    await spawned(loner);
    const pid = loner.pid!;
    expect(await checkGroup({ id: String(pid), startTicks: stat(pid).ticks, marker: 'guessed' })).toEqual({ state: 'refused', reason: `pid ${pid} does not carry the marker hop3 gave its worker` });
    const group = await startGroup(ctx, 'exec sleep 30');
    expect(await checkGroup(record(group, { marker: 'guessed' }))).toEqual({ state: 'refused', reason: `pid ${group.pid} does not carry the marker hop3 gave its worker` });
  });

  it('checkGroup: refused when the leader is gone and its group holds a process without the marker', async (ctx) => {
    const { expect } = ctx;
    const group = await startGroup(ctx, 'sleep 30 & exit 0');
    await exited(ctx, group);
    const [child] = carriers(group.marker);
    expect(await checkGroup(record(group, { marker: 'guessed' }))).toEqual({ state: 'refused', reason: `process group ${group.pid} holds pid ${child}, which hop3 did not start` });
  });

  it('checkGroup: a recorded pid now held by a process started at another time is not ours', async (ctx) => {
    const loner = startChild(ctx, { detached: true });
    await spawned(loner);
    const pid = loner.pid!;
    expect(await checkGroup({ id: String(pid), startTicks: stat(pid).ticks + 1, marker: 'x' })).toEqual({ state: 'gone' });
  });
});
