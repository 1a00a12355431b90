import { execa } from 'execa';
import path from 'node:path';
import { expect, it } from 'vitest';
import { engineGate } from '../helpers/engines.js';
import { ROOT, Sandbox } from '../helpers/sandbox.js';

const describeWithPidNamespace = await engineGate('unshare');

const TRIALS = Number(process.env.HOP3_CRASH_TRIALS ?? 50);

// SIGKILL of hop3 at random moments of a deploy (build hooks, worker start, health wait). Run in a
// private pid namespace: what the trials leave behind, and what stop signals, cannot reach the machine.
describeWithPidNamespace('hop3 killed at a random moment of a deploy', () => {
  it(`leaves true state, a working stop and no orphaned tool (${TRIALS} trials)`, async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('crash-app');
    const scenario = path.join(ROOT, 'test/safety/crash-scenario.mjs');
    const run = await execa('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', process.execPath, scenario, path.join(ROOT, 'bin/hop3.js'), sandbox.home, app, String(TRIALS), String(Date.now() % 100_000)], {
      timeout: TRIALS * 20_000,
    });
    const report = JSON.parse(run.stdout) as { trials: number; failures: { trial: number; delay: number; what: string }[]; moments: number[] };
    console.log(`crash test: ${report.trials} SIGKILL trials at ${Math.min(...report.moments)}-${Math.max(...report.moments)} ms, ${report.failures.length} failures`);
    expect(report.failures).toEqual([]);
  }, TRIALS * 20_000 + 10_000);
});
