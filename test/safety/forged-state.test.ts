import { execa } from 'execa';
import path from 'node:path';
import { expect, it } from 'vitest';
import { engineGate } from '../helpers/engines.js';
import { ROOT, Sandbox } from '../helpers/sandbox.js';

const describeWithPidNamespace = await engineGate('unshare');

// A forged run state must never make hop3 signal a process it did not start. Run in a private pid
// namespace, so that a regression (kill(-1), kill(0), a stranger's group) cannot reach this machine.
describeWithPidNamespace('a forged worker id in the run state', () => {
  it('is refused with DEPLOY_WORKER_UNTRUSTED, and processes outside hop3 survive', async () => {
    await using sandbox = await Sandbox.create();
    const scenario = path.join(ROOT, 'test/safety/forged-state-scenario.mjs');
    const run = await execa('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', process.execPath, scenario, path.join(ROOT, 'bin/hop3.js'), sandbox.home], { timeout: 60_000 });
    const results = JSON.parse(run.stdout) as Record<string, { statusExit: number; worker: { running: boolean; problem?: string }; stopExit: number; stopStderr: string; bystandersAlive: boolean }>;
    // Why each forgery is refused (pids are the namespace's own, so only their shape is known here).
    const notOurs = (id: string) => `id "${id}" is not a process id hop3 could have started`;
    const reasons: Record<string, RegExp | string> = {
      init: notOurs('1'),
      initUnrecorded: notOurs('1'),
      minusOne: notOurs('-1'),
      zero: notOurs('0'),
      exponent: notOurs('1e3'),
      self: notOurs('1'), // the scenario is pid 1 of its namespace
      lonerCopiedTicks: /^pid \d+ does not carry the marker hop3 gave its worker$/,
      lonerNoMarker: /^pid \d+ has no recorded start time and marker, so hop3 cannot tell it is the process it started$/,
      siblingCopiedTicks: /^pid \d+ does not lead its own process group$/,
    };
    expect(Object.keys(results).sort()).toEqual(Object.keys(reasons).sort());
    for (const [name, result] of Object.entries(results)) {
      expect({ name, alive: result.bystandersAlive }).toEqual({ name, alive: true });
      expect(result.stopExit, `${name}: ${result.stopStderr}`).toBe(1);
      expect(result.stopStderr).toContain('[DEPLOY_WORKER_UNTRUSTED]');
      expect(result.stopStderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(result.statusExit).toBe(0);
      expect(result.worker.running).toBe(false);
      const reason = reasons[name]!;
      if (typeof reason === 'string') expect(result.worker.problem, name).toBe(reason);
      else expect(result.worker.problem, name).toMatch(reason);
      expect(result.stopStderr, name).toContain(result.worker.problem!); // stop refuses for the reason status gives
    }
  });
});
