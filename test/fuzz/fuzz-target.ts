import fc from 'fast-check';
import { ERROR_CODES, Hop3Error } from '../../src/errors.js';

/** What a case ended as, for the counts: `ok`, or the code of the Hop3Error that refused the input. */
export type Outcome = string;

/**
 * One thing hop3 reads from outside (a file, a name, the command line): how to make inputs for it,
 * and how to feed it one. `check` returns the outcome, or throws FuzzFailure when the property breaks.
 */
export interface FuzzTarget<T = unknown> {
  readonly name: string;
  /** What is fuzzed, one line, for the report. */
  readonly description: string;
  readonly arbitrary: fc.Arbitrary<T>;
  /** Per-target state (a temp HOP3_HOME...), created once per run and disposed after. */
  setup?(): Promise<unknown>;
  teardown?(state: unknown): Promise<void>;
  check(input: T, state: unknown): Promise<Outcome> | Outcome;
  /** Milliseconds one case may take (default 2,000): more is a failure, as a hang would be. */
  readonly timeoutMs?: number;
  /** Share of the unit suite's small sample for a costly target (files, processes); `npm run fuzz` runs every target in full. */
  readonly sampleFactor?: number;
}

/** The property broke: not a refusal of bad input, but a hop3 bug. */
export class FuzzFailure extends Error {
  override readonly name = 'FuzzFailure';
}

const CODES = new Set<string>(ERROR_CODES);

/** What every refusal must be: a Hop3Error with a catalog code, a message and a hint. */
export function expectHop3Error(error: unknown, where?: { file?: string; message?: RegExp }): Hop3Error {
  if (!(error instanceof Hop3Error)) {
    throw new FuzzFailure(`not a Hop3Error: ${error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error)}`, { cause: error });
  }
  if (!CODES.has(error.code)) throw new FuzzFailure(`code ${error.code} is not in ERROR_CODES`);
  if (!error.message) throw new FuzzFailure(`${error.code} without a message`);
  if (!error.hint) throw new FuzzFailure(`${error.code} without a hint: ${error.message}`);
  if (where?.file !== undefined && error.file !== where.file) throw new FuzzFailure(`${error.code} names file ${JSON.stringify(error.file)}, expected ${JSON.stringify(where.file)}: ${error.message}`);
  if (where?.message && !where.message.test(error.message)) throw new FuzzFailure(`${error.code} message does not say where (${where.message}): ${error.message}`);
  return error;
}

/** Run `fn`: `ok` if it returns, the code if it refuses with a proper Hop3Error, FuzzFailure otherwise. */
export async function outcomeOf(fn: () => unknown, where?: (error: Hop3Error) => { file?: string; message?: RegExp } | undefined): Promise<Outcome> {
  try {
    await fn();
    return 'ok';
  } catch (error) {
    if (error instanceof FuzzFailure) throw error;
    const hop3 = expectHop3Error(error);
    expectHop3Error(hop3, where?.(hop3));
    return hop3.code;
  }
}

export interface TargetReport {
  target: string;
  description: string;
  runs: number;
  outcomes: Record<Outcome, number>;
  durationMs: number;
  /** The shrunk input that broke the property, with what broke and how to replay it. */
  failure?: { counterexample: string; error: string; seed: number; path: string | undefined };
}

export interface RunOptions {
  numRuns: number;
  seed?: number;
  /** Replays one failing case (the `path` of a report). */
  path?: string;
  /** Called before each case with the input, so a watchdog can say which one hung. */
  onCase?: (input: unknown) => void;
}

/** Feed `numRuns` generated inputs to a target; stops at the first failure and shrinks it. */
export async function runTarget<T>(target: FuzzTarget<T>, options: RunOptions): Promise<TargetReport> {
  const started = Date.now();
  const state = await target.setup?.();
  const outcomes: Record<Outcome, number> = {};
  let runs = 0;
  let failed = false;
  const timeoutMs = target.timeoutMs ?? 2000;
  try {
    const property = fc.asyncProperty(target.arbitrary, async (input) => {
      options.onCase?.(input);
      const began = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new FuzzFailure(`no answer within ${timeoutMs} ms (a hang)`)), timeoutMs);
      });
      try {
        const outcome = await Promise.race([Promise.resolve().then(() => target.check(input, state)), timeout]);
        const took = performance.now() - began;
        // A synchronous loop cannot be interrupted, but it must not be slow either.
        if (took > timeoutMs) throw new FuzzFailure(`took ${Math.round(took)} ms, more than ${timeoutMs} ms`);
        if (!failed) {
          runs++;
          outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        }
      } catch (error) {
        failed = true;
        throw error;
      } finally {
        clearTimeout(timer);
      }
    });
    const details = await fc.check(property, { numRuns: options.numRuns, ...(options.seed !== undefined ? { seed: options.seed } : {}), ...(options.path ? { path: options.path } : {}), endOnFailure: false });
    const report: TargetReport = { target: target.name, description: target.description, runs, outcomes, durationMs: Date.now() - started };
    if (details.failed) {
      const error = details.errorInstance;
      report.failure = {
        counterexample: fc.stringify(details.counterexample?.[0]),
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        seed: details.seed,
        path: details.counterexamplePath ?? undefined,
      };
    }
    return report;
  } finally {
    await target.teardown?.(state);
  }
}

/** `artifact-json: 10000 cases in 812 ms — ok 3120, ARTIFACT_INVALID 6880` */
export function formatReport(report: TargetReport): string {
  const counts = Object.entries(report.outcomes)
    .sort(([, a], [, b]) => b - a)
    .map(([outcome, count]) => `${outcome} ${count}`)
    .join(', ');
  const head = `${report.target.padEnd(22)} ${String(report.runs).padStart(6)} cases in ${String(report.durationMs).padStart(6)} ms: ${counts || 'none'}`;
  if (!report.failure) return head;
  const { counterexample, error, seed, path } = report.failure;
  return `${head}\n  FAILED (replay: npm run fuzz -- --target ${report.target} --seed=${seed} --path=${path})\n  input: ${counterexample.slice(0, 2000)}\n  ${error.split('\n').slice(0, 12).join('\n  ')}`;
}
