import path from 'node:path';
import type { AppConfig } from '../src/config/app-config.js';
import { appPaths } from '../src/state/hop3-home.js';
import type { Builder, BuilderPlan } from './builder.js';
import { loadBuilder } from './registry.js';
import { listSourceTree, type SourceEntry } from './source-tree.js';
import { detectToolchain, type Detection } from './toolchains/registry.js';
import type { PlanStep } from './toolchains/toolchain.js';

export interface PlanBuildRequest {
  /** Absolute, checked to be a directory. */
  sourceDir: string;
  config: AppConfig;
  appName: string;
  /** `--builder`; else hop3.toml's, else local. */
  builder?: string;
  baseImage?: string;
  env: NodeJS.ProcessEnv;
  /** The source listing when the caller started it already (a build digests it meanwhile); else listed here. */
  sourceEntries?: Promise<readonly SourceEntry[]>;
}

export interface BuilderChoice {
  name: string;
  /** Where it was chosen: `--builder`, `hop3.toml: [build] builder`, `default builder`; names the source in errors. */
  where: string;
}

/** What a build of the app would do, decided before anything is built: `hop3 plan`, and the summary a build opens with. */
export interface PlannedBuild {
  builder: Builder;
  choice: BuilderChoice;
  detection: Detection;
  sourceEntries: readonly SourceEntry[];
  plan: BuilderPlan;
}

/** Chooses the builder, detects the toolchain and asks the builder for its steps; reads the source, writes nothing. */
export async function planBuild(request: PlanBuildRequest): Promise<PlannedBuild> {
  const { sourceDir, config, appName, env } = request;
  const choice = chosenBuilder(request.builder, config);
  const paths = appPaths(appName, env);
  // Independent reads of the source and of hop3 itself: done together, they cost the longest one.
  const [builder, detection, sourceEntries] = await Promise.all([
    loadBuilder(choice.name, { env }, choice.where),
    detectToolchain(config),
    request.sourceEntries ?? listSourceTree(sourceDir, config.settings.build.ignore),
  ]);
  const ctx = { appName, sourceDir, config, toolchain: detection.toolchain, paths, sourceEntries, env, ...(request.baseImage ? { baseImage: request.baseImage } : {}) };
  const plan: BuilderPlan = builder.plan
    ? await builder.plan(ctx)
    : { appRoot: path.join(paths.build('<build_id>'), 'app'), steps: [{ run: `the ${builder.name} builder's build (it does not describe its steps)` }], warnings: [] };
  return { builder, choice, detection, sourceEntries, plan };
}

/** --builder, else `[build] builder` or `[app] builder` (auto = local), else local. */
export function chosenBuilder(builder: string | undefined, config: AppConfig): BuilderChoice {
  if (builder !== undefined) return { name: builder, where: '--builder' };
  const configured = config.settings.build.builder;
  if (configured === undefined) return { name: 'local', where: 'default builder' };
  return { name: configured.name, where: `${config.settings.file}: ${configured.key}` };
}

/** What the summary shows: the toolchain and why, the builder and where it was chosen, the steps. */
export interface SummaryInput {
  toolchain: { name: string; reason: string };
  builder: { name: string; chosenBy: string };
  steps: readonly PlanStep[];
}

/** The short summary a build opens with, and `hop3 plan` too: toolchain and why, builder and where from, numbered steps. */
export function planSummary({ toolchain, builder, steps }: SummaryInput): string[] {
  const numbered = steps.map((step, i) => `${i === 0 ? 'steps' : ''}`.padEnd(11) + `${i + 1}. ${step.run}${step.because ? `  (${step.because})` : ''}`);
  return [`toolchain  ${toolchain.name} (${toolchain.reason})`, `builder    ${builder.name} (${builder.chosenBy})`, ...(numbered.length > 0 ? numbered : ['steps      none'])];
}

/** The summary of a planned build. */
export function plannedSummary({ detection, choice, plan }: PlannedBuild): string[] {
  return planSummary({ toolchain: { name: detection.toolchain.name, reason: detection.reason }, builder: { name: choice.name, chosenBy: choice.where }, steps: plan.steps });
}
