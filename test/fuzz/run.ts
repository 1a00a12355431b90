/**
 * `npm run fuzz`: every fuzz target with 10,000 cases (FUZZ_RUNS or --runs), counts per target and failures.
 *
 *   npm run fuzz -- [--runs N] [--seed S] [--target NAME]... [--path P]
 *
 * Each target runs in its own child process that reports the case it is on: a case that hangs, even
 * in a synchronous loop no timer can interrupt, is killed after STALL_MS and reported with a replay line.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatReport, runTarget, type TargetReport } from './fuzz-target.js';
import { TARGETS } from './targets.js';

/** Longest a child may go without starting a new case. Cases have their own 2-5 s bound; this catches the rest. */
const STALL_MS = 30_000;

type ChildMessage = { case: number } | { report: TargetReport };

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: process.env.FUZZ_RUNS ?? '10000' },
    seed: { type: 'string' },
    path: { type: 'string' },
    target: { type: 'string', multiple: true },
    child: { type: 'string' },
  },
});
const runs = Number(values.runs);
const seed = values.seed === undefined ? (Date.now() ^ (Math.random() * 0x100000000)) | 0 : Number(values.seed);

if (values.child) {
  // In the child: run one target, saying which case starts, then hand the report back.
  const target = TARGETS.find((t) => t.name === values.child)!;
  let index = 0;
  const report = await runTarget(target, { numRuns: runs, seed, ...(values.path ? { path: values.path } : {}), onCase: () => process.send!({ case: index++ }) });
  process.send!({ report }, () => process.exit(0));
} else {
  const selected = values.target ? TARGETS.filter((t) => values.target!.includes(t.name)) : TARGETS;
  if (selected.length === 0) {
    process.stderr.write(`no such target; targets: ${TARGETS.map((t) => t.name).join(', ')}\n`);
    process.exit(2);
  }
  process.stdout.write(`fuzzing ${selected.length} targets, ${runs} cases each, seed ${seed}\n`);
  let failures = 0;
  let total = 0;
  for (const target of selected) {
    const report = await runChild(target.name, target.description);
    total += report.runs;
    if (report.failure) failures++;
    process.stdout.write(`${formatReport(report)}\n`);
  }
  process.stdout.write(`${total} cases, ${failures === 0 ? 'no failures' : `${failures} target(s) FAILED`}\n`);
  process.exitCode = failures === 0 ? 0 : 1;
}

/** One target in a child process; a stalled or crashed child becomes a failure with the case to replay. */
function runChild(name: string, description: string): Promise<TargetReport> {
  const started = Date.now();
  const args = ['--child', name, `--runs=${runs}`, `--seed=${seed}`, ...(values.path ? [`--path=${values.path}`] : [])];
  const child = fork(fileURLToPath(import.meta.url), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve) => {
    let current = -1;
    let report: TargetReport | undefined;
    let stalled = false;
    const failed = (error: string): TargetReport => ({
      target: name,
      description,
      runs: Math.max(0, current),
      outcomes: {},
      durationMs: Date.now() - started,
      failure: { counterexample: `(case ${current} of seed ${seed})`, error, seed, path: String(current) },
    });
    let watchdog = setTimeout(stall, STALL_MS);
    function stall() {
      stalled = true;
      child.kill('SIGKILL');
    }
    child.on('message', (message: ChildMessage) => {
      if ('report' in message) report = message.report;
      else current = message.case;
      clearTimeout(watchdog);
      watchdog = setTimeout(stall, STALL_MS);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(watchdog);
      if (report) resolve(report);
      else if (stalled) resolve(failed(`case ${current} ran more than ${STALL_MS / 1000} s without finishing (a hang)`));
      else resolve(failed(`the fuzz process died (${signal ?? `exit ${code}`}) on case ${current}`));
    });
  });
}
