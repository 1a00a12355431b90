import { resolveSourceDir } from '../../builders/build-app.js';
import { planBuild } from '../../builders/plan-build.js';
import type { PlanStep } from '../../builders/toolchains/toolchain.js';
import type { RuntimeConfig } from '../artifact/schema.js';
import { loadAppConfig } from '../config/app-config.js';
import { notActedOnWarning } from '../config/app-settings.js';
import { staticfileWarning } from '../config/staticfile.js';
import { declaredKeys, type DeclaredKey } from '../config/declared-keys.js';
import { procfileEntries, type ProcfileEntry } from '../config/procfile-entries.js';
import { mergeManifest, type Provenance } from '../manifest/merge-manifest.js';
import { appNameFromDir, validateAppName } from '../state/hop3-home.js';
import { hostToolChecks, type Check } from './doctor.js';

/** Bumped when a field of AppPlan changes meaning or goes away (new fields do not bump it). */
export const PLAN_VERSION = 1;

export interface PlanRequest {
  sourceDir: string;
  name?: string;
  /** `--builder`; else hop3.toml's, else local. */
  builder?: string;
  baseImage?: string;
  env: NodeJS.ProcessEnv;
}

/** What `hop3 build` (then `run`) would do with an app dir, and what this host lacks for it: `hop3 plan [--json]`. */
export interface AppPlan {
  plan_version: number;
  app: string;
  source_dir: string;
  /** The config files read, relative to the app dir; null when absent. */
  files: { procfile: string | null; hop3_toml: string | null; staticfile: string | null };
  /** `detail`: what the toolchain chose from the source (the folder a static site serves), when it says. */
  toolchain: { name: string; reason: string; declined: string[]; detail: string | null };
  /** `chosen_by`: `--builder`, `hop3.toml: [build] builder` (or `[app] builder`), or `default builder`. */
  builder: { name: string; chosen_by: string };
  steps: PlanStep[];
  /** The merged runtime manifest; paths as the builder would lay the app out (`<build_id>`, `<hash>` left as such). */
  runtime: RuntimeConfig;
  /** Field path (`workers.web`, `env_vars.DEBUG`) -> where the value came from, as in `hop3 inspect --explain`. */
  provenance: Record<string, Provenance>;
  procfile: ProcfileEntry[];
  hop3_toml: DeclaredKey[];
  warnings: string[];
  /** The checks this plan needs on this host: the builder, and the tools its steps run. */
  host: Check[];
  /** The names of the host checks that failed. */
  missing: string[];
}

/** The plan for an app dir; reads the source and asks the host, builds nothing, fetches nothing. */
export async function planApp(request: PlanRequest): Promise<AppPlan> {
  const sourceDir = await resolveSourceDir(request.sourceDir);
  const config = await loadAppConfig(sourceDir);
  const appName = request.name !== undefined ? validateAppName(request.name) : appNameFromDir(sourceDir);
  const planned = await planBuild({
    sourceDir,
    config,
    appName,
    ...(request.builder !== undefined ? { builder: request.builder } : {}),
    ...(request.baseImage ? { baseImage: request.baseImage } : {}),
    env: request.env,
  });
  const { toolchain, reason, declined } = planned.detection;
  const { appRoot, steps, runtimeFromBuild } = planned.plan;
  const file = config.settings.file;
  const [defaults, detail, keys, host] = await Promise.all([
    toolchain.defaults(config, { appRoot }),
    toolchain.describe?.(config),
    file ? declaredKeys(sourceDir, file) : [],
    hostChecks(planned.builder.name, () => planned.builder.available(), steps, request.env),
  ]);
  const manifest = mergeManifest({ config, defaults, workingDir: appRoot, adaptWorker: (name, command) => toolchain.adaptWorker?.(name, command, { appRoot }) });
  const unacted = [notActedOnWarning(config.settings), staticfileWarning(config.staticfile)].filter((warning) => warning !== undefined);
  return {
    plan_version: PLAN_VERSION,
    app: appName,
    source_dir: sourceDir,
    files: { procfile: config.procfile?.file ?? null, hop3_toml: file ?? null, staticfile: config.staticfile?.file ?? null },
    toolchain: { name: toolchain.name, reason, declined, detail: detail ?? null },
    builder: { name: planned.choice.name, chosen_by: planned.choice.where },
    steps,
    runtime: manifest.runtime,
    provenance: manifest.provenance,
    procfile: config.procfile ? procfileEntries(config.procfile.parsed) : [],
    hop3_toml: keys,
    warnings: [...unacted, ...planned.plan.warnings, ...manifest.warnings, ...(runtimeFromBuild ? [`the runtime above leaves out what only the build tells: ${runtimeFromBuild}`] : [])],
    host,
    missing: host.filter((check) => !check.usable).map((check) => check.name),
  };
}

/** The builder's own check (as `hop3 doctor` shows it), then the host tools the steps need. */
async function hostChecks(builder: string, available: () => Promise<Omit<Check, 'name'>>, steps: readonly PlanStep[], env: NodeJS.ProcessEnv): Promise<Check[]> {
  const tools = [...new Set(steps.flatMap((step) => step.needs ?? []))];
  const [availability, toolChecks] = await Promise.all([available(), hostToolChecks(tools, env)]);
  return [{ name: `builder ${builder}`, ...availability }, ...toolChecks];
}
