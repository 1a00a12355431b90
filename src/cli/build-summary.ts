import type { AppBuildOutcome } from '../app/build-apps.js';
import { Hop3Error } from '../errors.js';
import { printable } from './output.js';

/** `[node-web]  `: every app's label padded to the longest, so interleaved lines stay aligned. */
export function appLabels(apps: readonly string[]): Map<string, string> {
  const width = Math.max(0, ...apps.map((app) => app.length));
  return new Map(apps.map((app) => [app, `${`[${app}]`.padEnd(width + 2)} `]));
}

/** The code an outcome failed with: its Hop3Error code, CLI_CANCELLED for a Ctrl-C, INTERNAL for a bug. */
export function failureOf(error: unknown): { code: string; message: string; hint?: string } {
  if (error instanceof Hop3Error) return { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
  if (error instanceof Error && error.name === 'AbortError') return { code: 'CLI_CANCELLED', message: 'Cancelled before it finished.' };
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

/** `reused`: an unchanged build of the same inputs was found, nothing was built. */
function resultOf(outcome: AppBuildOutcome): 'built' | 'reused' | 'failed' {
  if (!outcome.ok) return 'failed';
  return outcome.result.reused ? 'reused' : 'built';
}

/** The builder an outcome used: the artifact's, else --builder or the app's hop3.toml, else the default. */
function builderOf(outcome: AppBuildOutcome, requested: string | undefined): string {
  return outcome.ok ? outcome.result.artifact.builder : (requested ?? outcome.source.builder ?? 'local');
}

/**
 * The table printed after several builds, then one line of totals:
 *
 *     app          builder  result  build id / error                  time
 *     node-web     local    built   20250101T120000Z-1a2b3c4d        3.2 s
 *     api          local    reused  20250101T110000Z-5e6f7a8b        0.1 s
 *     static-site  local    failed  CONFIG_PROCFILE_INVALID           0.0 s
 */
export function buildSummary(outcomes: readonly AppBuildOutcome[], requestedBuilder?: string): string {
  const rows = outcomes.map((outcome) => [
    outcome.source.app,
    builderOf(outcome, requestedBuilder),
    resultOf(outcome),
    outcome.ok ? outcome.result.artifact.build_id : failureOf(outcome.error).code,
    `${(outcome.durationMs / 1000).toFixed(1)} s`,
  ]);
  const table = [['app', 'builder', 'result', 'build id / error', 'time'], ...rows];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  const lines = table.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join('  '),
  );
  const failed = outcomes.filter((outcome) => !outcome.ok).map((outcome) => outcome.source.app);
  const reused = outcomes.filter((outcome) => resultOf(outcome) === 'reused').length;
  const built = outcomes.length - failed.length - reused;
  const totals = [...(built > 0 ? [`${built} built`] : []), ...(reused > 0 ? [`${reused} reused`] : []), ...(failed.length > 0 ? [`${failed.length} failed: ${failed.join(', ')}`] : [])];
  lines.push(totals.join(', '));
  return `${lines.map(printable).join('\n')}\n`;
}

/** `--json` with several apps: one entry per app, the artifact or the error. */
export function outcomeJson(outcome: AppBuildOutcome, requestedBuilder?: string): Record<string, unknown> {
  const common = {
    app: outcome.source.app,
    dir: outcome.source.dir,
    builder: builderOf(outcome, requestedBuilder),
    started_at: outcome.startedAt.toISOString(),
    duration_ms: outcome.durationMs,
  };
  return outcome.ok
    ? { ...common, result: resultOf(outcome), build_id: outcome.result.artifact.build_id, artifact_file: outcome.result.artifactFile, artifact: outcome.result.artifact }
    : { ...common, result: 'failed', error: failureOf(outcome.error) };
}
