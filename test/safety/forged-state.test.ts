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
    expect(Object.keys(results)).toHaveLength(9);
    for (const [name, result] of Object.entries(results)) {
      expect({ name, alive: result.bystandersAlive }).toEqual({ name, alive: true });
      expect(result.stopExit, `${name}: ${result.stopStderr}`).toBe(1);
      expect(result.stopStderr).toContain('[DEPLOY_WORKER_UNTRUSTED]');
      expect(result.stopStderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(result.statusExit).toBe(0);
      expect(result.worker.running).toBe(false);
      expect(result.worker.problem).toBeTruthy();
    }
    expect(results.init!.stopStderr).toContain('id "1" is not a process id hop3 could have started');
    expect(results.lonerCopiedTicks!.stopStderr).toContain('does not carry the marker');
    expect(results.siblingCopiedTicks!.stopStderr).toContain('does not lead its own process group');
  });
});
