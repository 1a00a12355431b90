// 8 apps built with `hop3 build --jobs 2` ÷ the same 8 with `--jobs 1`, each in its own fresh HOP3_HOME.
import { duration, expectSuccess, hop3, Sandbox, verdict, type Figure } from '../harness.js';

const APPS = 8;
const FIXTURE = 'node-web';
const FIGURE = `${APPS} apps \`hop3 build --jobs 2\` ÷ serial (\`--jobs 1\`, ${FIXTURE} copies)`;
const GOAL_RATIO = 0.6;
const GOAL = `≤ ${GOAL_RATIO}`;

async function buildAll(jobs: number) {
  await using sandbox = await Sandbox.create();
  const dirs: string[] = [];
  for (let i = 1; i <= APPS; i++) dirs.push(await sandbox.fixture(FIXTURE, `bench-jobs-${i}`));
  return await hop3(sandbox, ['build', '--jobs', String(jobs), ...dirs, '--quiet'], { timeoutMs: 600_000 });
}

export const parallelBuilds: Figure = {
  id: 'jobs',
  async run() {
    const parallel = await buildAll(2);
    // Not there until `hop3 build --jobs N <dir>…` lands: say so rather than time something else.
    if (parallel.exitCode !== 0 && /unknown option '--jobs'|too many arguments/.test(parallel.all)) {
      return [{ figure: FIGURE, hop3: 'not available (hop3 build --jobs missing)', reference: '—', goal: GOAL, result: 'not available' }];
    }
    expectSuccess(parallel, 'hop3 build --jobs 2');
    const serial = expectSuccess(await buildAll(1), 'hop3 build --jobs 1');
    const ratio = parallel.ms / serial.ms;
    return [
      {
        figure: FIGURE,
        hop3: duration(parallel.ms),
        reference: duration(serial.ms),
        ratio,
        goal: GOAL,
        result: verdict(ratio <= GOAL_RATIO),
        note: `one run each, local builder, the whole command; a 2-core machine shared with others.`,
      },
    ];
  },
};
