// A cold local build ÷ what a user would type without hop3, in a copy of the same app: python-web against
// `python3 -m venv .venv && .venv/bin/pip install -r requirements.txt`, node-web against `npm ci`.
import { duration, expectSuccess, hop3, median, repeat, Sandbox, spread, timed, verdict, type Figure, type Row } from '../harness.js';

/** Per language, both sides. */
const BUDGET_MS = 60_000;

const BUILDS = [
  { lang: 'python', fixture: 'python-web', raw: 'python3 -m venv .venv && .venv/bin/pip install -r requirements.txt', goal: 0.6 },
  { lang: 'node', fixture: 'node-web', raw: 'npm ci', goal: 1.1 },
] as const;

export const localBuilds: Figure = {
  id: 'local-builds',
  async run(bench) {
    const rows: Row[] = [];
    for (const build of BUILDS) {
      const hop3Ms: number[] = [];
      const rawMs: number[] = [];
      await repeat(bench, BUDGET_MS, async (run) => {
        // A fresh HOP3_HOME each run: an unchanged source must not find its earlier build.
        await using sandbox = await Sandbox.create();
        const dir = await sandbox.fixture(build.fixture, `bench-build-${build.lang}`);
        const rawDir = await sandbox.fixture(build.fixture, `raw-${build.lang}`);
        // Alternate who goes first, so neither always meets warmer caches.
        for (const who of run % 2 === 0 ? ['hop3', 'raw'] : ['raw', 'hop3']) {
          if (who === 'hop3') hop3Ms.push(expectSuccess(await hop3(sandbox, ['build', dir, '--quiet']), `hop3 build of ${build.fixture}`).ms);
          else rawMs.push(expectSuccess(await timed('sh', ['-c', build.raw], { cwd: rawDir }), `${build.raw} in ${build.fixture}`).ms);
        }
      });
      const runs = hop3Ms.length;
      const [built, raw] = [median(hop3Ms), median(rawMs)];
      rows.push({
        figure: `cold ${build.lang} build ÷ raw \`${build.raw}\` (${build.fixture})`,
        hop3: duration(built),
        reference: duration(raw),
        ratio: built / raw,
        goal: `≤ ${build.goal}`,
        result: verdict(built / raw <= build.goal),
        note: `\`hop3 build\` (local builder, whole command) and the raw commands in another copy, median of ${runs}, alternating; hop3 ${spread(hop3Ms)}, raw ${spread(rawMs)}.`,
      });
    }
    return rows;
  },
};
