/**
 * `npm run bench [-- figure…]`: every figure of issue #11 in one run on this machine — hop3 and its reference
 * measured side by side, the ratio, the goal, met or missed — printed as one table; a full run also writes it
 * into bench/README.md with the machine it ran on. Figures: deploys, local-builds, source-copy, docker, nix,
 * cli, jobs. BENCH_RUNS sets the repetitions of the figures that take a median (default 3).
 * Needs the bundle (`npm run build`; `npm run bench` does it) and, for their figures, docker, nix and nginx.
 */
import { performance } from 'node:perf_hooks';
import type { Bench, Figure, Row } from './harness.js';
import { cliStartup } from './figures/cli-startup.js';
import { deploys } from './figures/deploys.js';
import { docker } from './figures/docker.js';
import { localBuilds } from './figures/local-builds.js';
import { nix } from './figures/nix.js';
import { parallelBuilds } from './figures/parallel-builds.js';
import { skipPythonLauncher } from './python-path.js';
import { sourceCopy } from './figures/source-copy.js';
import { loadAverage, machine, machineLine, notes, README, table, updateReadme } from './report.js';

/** In the order of the issue's list. */
const FIGURES: readonly Figure[] = [deploys, localBuilds, sourceCopy, docker, nix, cliStartup, parallelBuilds];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((id) => !FIGURES.some((figure) => figure.id === id));
if (unknown.length > 0) {
  process.stderr.write(`unknown figure ${unknown.join(', ')}; figures: ${FIGURES.map((f) => f.id).join(', ')}\n`);
  process.exit(2);
}
const figures = wanted.length > 0 ? FIGURES.filter((figure) => wanted.includes(figure.id)) : FIGURES;
const bench: Bench = { runs: Number(process.env.BENCH_RUNS || 3) };

const started = performance.now();
const host = await machine();
const python = await skipPythonLauncher();
const rows: Row[] = [];
for (const figure of figures) {
  const start = performance.now();
  process.stderr.write(`==> ${figure.id}\n`);
  try {
    rows.push(...(await figure.run(bench)));
  } catch (error) {
    // One broken figure must not lose the others: it gets a row that says why.
    const message = error instanceof Error ? error.message : String(error);
    rows.push({ figure: figure.id, hop3: `error: ${message.split('\n')[0]}`, reference: '—', goal: '—', result: 'failed', note: message.split('\n').slice(0, 8).join(' / ') });
  }
  process.stderr.write(`    ${figure.id}: ${((performance.now() - start) / 1000).toFixed(0)} s\n`);
}
const minutes = (performance.now() - started) / 60_000;

const section = `${machineLine(host, loadAverage(), minutes)}${python ? `\n${python}` : ''}\n\n${table(rows)}\n\nHow each figure was measured:\n\n${notes(rows)}\n`;
process.stdout.write(`\n${section}`);
if (wanted.length === 0) {
  await updateReadme(section);
  process.stdout.write(`\n(written to ${README})\n`);
}
if (minutes > 15) process.stderr.write(`warning: the run took ${minutes.toFixed(1)} min, over the 15 min budget\n`);
process.exitCode = rows.some((row) => row.result === 'failed') ? 1 : 0;
