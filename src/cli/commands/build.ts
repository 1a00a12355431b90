import os from 'node:os';
import type { BuildRequest } from '../../../builders/build-app.js';
import type { SecretRequest } from '../../../builders/secrets/build-secrets.js';
import type { AppSource } from '../../app/build-targets.js';
import { Hop3Error } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import { appLabels, buildSummary, outcomeJson } from '../build-summary.js';
import { recordedCommandLine } from '../command-line.js';
import { cliContext, type CliContext } from '../context.js';
import type { LiveProgress } from '../live-progress.js';
import { formatError, printJson } from '../output.js';

export interface BuildFlags {
  name?: string;
  builder?: string;
  output?: string;
  baseImage?: string;
  secret?: SecretRequest[];
  caBundle?: string;
  proxy?: string;
  force?: boolean;
  check?: boolean;
  quiet?: boolean;
  json?: boolean;
}

/** The build options shared by `build` and `deploy`, normalised once. */
export function buildRequest(dir: string, flags: BuildFlags, ctx: CliContext, log: Logger = ctx.log): BuildRequest {
  return {
    sourceDir: dir,
    ...(flags.name !== undefined ? { name: flags.name } : {}),
    ...(flags.output ? { output: flags.output } : {}),
    ...sharedOptions(flags, ctx),
    log,
  };
}

/** What every app of a `build` of several shares: all but its dir, name, artifact file and logger. */
function sharedOptions(flags: BuildFlags, ctx: CliContext): Omit<BuildRequest, 'sourceDir' | 'name' | 'output' | 'log'> {
  return {
    ...(flags.builder ? { builder: flags.builder } : {}),
    ...(flags.baseImage ? { baseImage: flags.baseImage } : {}),
    ...(flags.secret?.length ? { secrets: flags.secret } : {}),
    ...(flags.caBundle !== undefined || flags.proxy !== undefined ? { network: { ...(flags.caBundle !== undefined ? { caBundle: flags.caBundle } : {}), ...(flags.proxy !== undefined ? { proxy: flags.proxy } : {}) } } : {}),
    ...(flags.force ? { force: true } : {}),
    commandLine: recordedCommandLine(process.argv.slice(2)),
    env: ctx.env,
    signal: ctx.signal,
  };
}

/**
 * Default --jobs: one build per CPU, as `make -j$(nproc)` would. A build mostly waits (on pip, npm, the Docker or
 * Nix daemon, the disk), so the CPUs are not all busy with fewer; more than that and the tools, several of which
 * are parallel themselves, only slow each other down. --jobs 1 builds one after the other.
 */
export const DEFAULT_JOBS = os.availableParallelism();

export async function run(dirs: string[], flags: BuildFlags & { jobs?: number }): Promise<number> {
  const ctx = cliContext(flags);
  const { resolveBuildTargets } = await import('../../app/build-targets.js');
  const plan = await resolveBuildTargets(dirs);
  if (plan.kind === 'many') {
    for (const option of ['output', 'name', 'check'] as const) {
      if (flags[option] === undefined) continue;
      throw new Hop3Error('CLI_INVALID_OPTION', `--${option} is for one app; it cannot be used when building several apps or a directory of apps.`, {
        usage: true,
        hint: `Build that app on its own: hop3 build <dir> --${option} ...`,
      });
    }
  }
  const progress = await ctx.liveProgress();
  try {
    return plan.kind === 'one' ? await buildOne(plan.dir, flags, ctx, progress) : await buildMany(plan.apps, plan.from, flags, ctx, progress);
  } finally {
    progress?.close();
  }
}

async function buildOne(dir: string, flags: BuildFlags, ctx: CliContext, progress: LiveProgress | undefined): Promise<number> {
  if (flags.check) return checkOne(dir, flags, ctx, progress);
  const { buildApp } = await import('../../../builders/build-app.js');
  const result = await buildApp(buildRequest(dir, flags, ctx, progress?.task() ?? ctx.log));
  progress?.close();
  if (flags.json) printJson(result.artifact);
  else process.stdout.write(`${flags.output ?? result.artifactFile}\n`);
  return 0;
}

/** `--check`: the build, a second one from scratch, the comparison; with --json the summary a pipeline archives. */
async function checkOne(dir: string, flags: BuildFlags, ctx: CliContext, progress: LiveProgress | undefined): Promise<number> {
  const { checkBuild, notReproducible } = await import('../../app/check-build.js');
  const { result, summary } = await checkBuild(buildRequest(dir, flags, ctx, progress?.task() ?? ctx.log));
  progress?.close();
  if (flags.json) printJson(summary);
  else process.stdout.write(`${flags.output ?? result.artifactFile}\n`);
  if (!summary.reproducible) throw notReproducible(summary);
  ctx.log.step(`reproducible: a second build from scratch has the same ${summary.compared} (${summary.first})`);
  return 0;
}

/** Several apps: each with its own labelled logger; the failures, a summary table, and exit 1 if any failed (130 on Ctrl-C). */
async function buildMany(apps: AppSource[], from: string[], flags: BuildFlags & { jobs?: number }, ctx: CliContext, progress: LiveProgress | undefined): Promise<number> {
  const { buildApps } = await import('../../app/build-apps.js');
  const jobs = Math.min(flags.jobs ?? DEFAULT_JOBS, apps.length);
  const labels = appLabels(apps.map((source) => source.app));
  const found = from.length > 0 ? ` (apps found in ${from.join(', ')})` : '';
  ctx.log.step(`building ${apps.length} apps, ${jobs} at a time${found}: ${apps.map((source) => source.app).join(', ')}`);
  const outcomes = await buildApps({
    apps,
    jobs,
    options: sharedOptions(flags, ctx),
    logFor: (source) => {
      const label = labels.get(source.app);
      const task = progress?.task(label);
      const log = task ?? ctx.logger(label);
      return {
        ...log,
        // A failure shows when it happens, among the other apps' lines; the summary then says which failed.
        end: (outcome) => {
          if (!outcome.ok) for (const line of formatError(outcome.error).trimEnd().split('\n')) log.info(line);
          task?.end();
        },
      };
    },
  });
  progress?.close();
  process.stderr.write(`\n${buildSummary(outcomes, flags.builder)}`);
  if (flags.json) printJson(outcomes.map((outcome) => outcomeJson(outcome, flags.builder)));
  if (ctx.signal.aborted) return 130;
  return outcomes.every((outcome) => outcome.ok) ? 0 : 1;
}
