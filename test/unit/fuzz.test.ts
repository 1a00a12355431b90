import { describe, expect, it } from 'vitest';
import { formatReport, runTarget } from '../fuzz/fuzz-target.js';
import { TARGETS } from '../fuzz/targets.js';

/** A small sample of every fuzz target on each unit run (`npm run fuzz` runs 10,000 cases per target). */
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);

describe('fuzz sample: bad input is a coded Hop3Error, never a crash or a hang', () => {
  it.each(TARGETS.map((target) => [target.name, target] as const))('%s', async (_name, target) => {
    const report = await runTarget(target, { numRuns: Math.max(1, Math.round(RUNS * (target.sampleFactor ?? 1))) });
    expect(report.failure, formatReport(report)).toBeUndefined();
  });
});
