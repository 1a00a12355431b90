import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { engineGate } from '../helpers/engines.js';
import { ROOT } from '../helpers/sandbox.js';

const describeWithPidNamespace = await engineGate('unshare');

interface Scenario {
  started: boolean;
  cleared: boolean;
  clearedAfterMs: number;
  left: string[];
  result?: { canceled: boolean; signal?: string; reason: string; durationMs: number };
  mark?: string | null;
}

// The tools hop3 runs (and what they start) must not run on once hop3 is gone. In a private pid
// namespace: every process the scenario starts dies with it, and the scan of /proc sees only them.
describeWithPidNamespace('tools run by runCommand', () => {
  it('die with hop3 (SIGKILL, or SIGSTOP then SIGKILL), a cancellation stops their whole group, a daemon they leave stays', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-tool-group-'));
    try {
      const scenario = path.join(ROOT, 'test/safety/tool-group-scenario.mjs');
      const run = await execa('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', process.execPath, scenario, ROOT, path.join(dir, 'mark')], { timeout: 90_000 });
      const { leftBehind, ...report } = JSON.parse(run.stdout) as Record<'killed' | 'stoppedThenKilled' | 'cancelled', Scenario> & { leftBehind: { left: string[] } };
      for (const [name, outcome] of Object.entries(report)) {
        expect({ name, started: outcome.started, left: outcome.left }, run.stderr).toEqual({ name, started: true, left: [] });
      }
      // Gone at once, not after some timeout of their own.
      expect(report.killed.clearedAfterMs).toBeLessThan(3000);
      expect(report.stoppedThenKilled.clearedAfterMs).toBeLessThan(3000);
      const { result, mark } = report.cancelled;
      expect(mark).toBe('got TERM');
      expect(result).toMatchObject({ canceled: true, signal: 'SIGKILL', reason: 'cancelled' });
      expect(result!.durationMs).toBeGreaterThanOrEqual(4900);
      // What a tool that exited normally left running is not hop3's to stop (a daemon, as nginx starts).
      expect(leftBehind.left).toHaveLength(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
