import { rm } from 'node:fs/promises';
import path from 'node:path';
import { createBuildDir } from '../../src/state/build-dirs.js';
import type { Artifact } from '../../src/artifact/artifact-file.js';
import type { Builder, BuildContext, BuildDifference, BuilderPlan, BuildOutput, PlanContext } from '../builder.js';
import { buildHooks } from '../../src/config/build-hooks.js';
import { runTool } from '../run-tool.js';
import type { PlanStep } from '../toolchains/toolchain.js';
import { writeSecretFiles } from '../secrets/secret-files.js';
import { copySourceTree } from '../source-tree.js';
import { installDependencies } from './dependency-reuse.js';
import { differingFiles, hashOutputTree } from '../output-hash.js';
import { checkHostPackages, installHint, missingHostPackages } from './host-packages.js';
import type { RuntimeDefaults } from '../../src/manifest/runtime-defaults.js';

/** The build key's first 16 hex digits: the same inputs give the same id, wherever and whenever they are built. */
export function localBuildId(buildKey: string): string {
  return buildKey.replace(/^sha256:/, '').slice(0, 16);
}

/** Build hooks run in the app root with the toolchain's environment (venv or node_modules/.bin on PATH). */
async function runBuildCommands(commands: string[], { ctx, env: stepEnv, appRoot, defaults }: { ctx: BuildContext; env: NodeJS.ProcessEnv; appRoot: string; defaults: RuntimeDefaults }): Promise<void> {
  const env = { ...stepEnv, ...defaults.env_vars, PATH: [...defaults.path_prepend, stepEnv.PATH ?? '/usr/bin:/bin'].join(':') };
  for (const command of commands) {
    ctx.log.step(`build hook: ${command}`);
    await runTool('/bin/sh', ['-c', command], {
      cwd: appRoot,
      env,
      log: ctx.log,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      errorCode: 'BUILD_HOOK_FAILED',
      hint: 'Fix the command ([build] before-build/build/after-build in hop3.toml, or the Procfile prebuild/postbuild line).',
    });
  }
}

/** Builds on this host: source copy + toolchain install into `$HOP3_HOME/apps/<app>/builds/<build_id>/`. */
export class LocalBuilder implements Builder {
  readonly name = 'local' as const;

  async available() {
    return { usable: true, detail: `node ${process.version}; python/npm checked per toolchain` };
  }

  refuseSecrets() {
    return undefined; // its steps run on this host: secrets go to their environment and a temp dir, never into the build dir
  }

  async build(ctx: BuildContext): Promise<BuildOutput> {
    await checkHostPackages(ctx.config.settings, ctx.env); // before anything is copied: a missing package fails at once
    const buildId = localBuildId(ctx.buildKey);
    // A forced rebuild of the same inputs gets a dir of its own (`<build_id>.2`): older releases keep theirs.
    const { name, dir } = await createBuildDir(ctx.paths, buildId, ctx.appName);
    const appRoot = path.join(dir, 'app');
    try {
      ctx.log.step(`copying source to ${appRoot}`);
      await copySourceTree(ctx.sourceDir, ctx.sourceEntries, appRoot);
      const defaults = await ctx.toolchain.defaults(ctx.config, { appRoot });
      await using secrets = await writeSecretFiles(ctx.secrets, ctx.env);
      // Secrets reach the steps only (hooks, pip, npm): the toolchain's defaults, hence the artifact, never see them.
      const env = { ...ctx.env, ...secrets.env };
      const hooks = buildHooks(ctx.config);
      const runHooks = (commands: string[]) => runBuildCommands(commands, { ctx, env, appRoot, defaults });
      await runHooks(hooks.before);
      const inputs = await installDependencies(ctx, { appRoot, config: ctx.config, env, log: ctx.log, ...(ctx.signal ? { signal: ctx.signal } : {}) }, name);
      await runHooks(hooks.build);
      await runHooks(hooks.after);
      const python = ctx.toolchain.name === 'python' ? inputs?.host?.version?.split(' ')[0] : undefined;
      // What the install was made from (digests only: a value may be secret): `hop3 diff` names the one that changed.
      // What the build made, hashed without its own path: two clean builds of the same source give the same hash.
      const output = await hashOutputTree(dir);
      const metadata = { ...(inputs ? { dependency_inputs: sortedRecord(inputs.digests) } : {}), ...(python ? { engines: { python } } : {}), output_hash: output.hash };
      // Chosen again from what the steps made (a dist/ folder, a server file): the first choice only set up their environment.
      const built = await ctx.toolchain.defaults(ctx.config, { appRoot, built: appRoot });
      return { buildId, buildDir: name, location: dir, workingDir: appRoot, defaults: built, metadata };
    } catch (error) {
      await rm(dir, { recursive: true, force: true }); // a failed build leaves nothing half-made behind
      throw error;
    }
  }

  /** By output tree hash; when they differ, the files whose bytes, type or exec bit differ. */
  async compareBuilds(first: Artifact, second: Artifact): Promise<BuildDifference> {
    const [a, b] = await Promise.all([hashOutputTree(first.location), hashOutputTree(second.location)]);
    return { compared: 'output tree hash', values: [a.hash, b.hash], files: a.hash === b.hash ? [] : differingFiles(a, b), fields: [] };
  }

  async plan(ctx: PlanContext): Promise<BuilderPlan> {
    const appRoot = path.join(ctx.paths.build('<build_id>'), 'app');
    const hooks = buildHooks(ctx.config);
    const run = (commands: string[], because: string | undefined): PlanStep[] => commands.map((command) => ({ run: command, ...(because ? { because } : {}) }));
    const install = ctx.toolchain.planSteps ? await ctx.toolchain.planSteps(ctx.config, ctx.env) : [{ run: `the ${ctx.toolchain.name} toolchain's install (it does not describe its steps)` }];
    const { settings } = ctx.config;
    const packages = [...new Set([...settings.build.packages, ...settings.run.packages])];
    const missing = [...new Set((await missingHostPackages(ctx.config.settings, ctx.env)).map((m) => m.name))];
    return {
      appRoot,
      steps: [
        ...(packages.length > 0 ? [{ run: `check that this host has the system packages ${packages.join(', ')}`, because: `[build]/[run] packages in ${ctx.config.settings.file}; the local builder installs none` }] : []),
        { run: `copy the source (${ctx.sourceEntries.length} entries) into ${appRoot}` },
        ...run(hooks.before, hooks.from.before),
        ...install,
        ...run(hooks.build, hooks.from.build),
        ...run(hooks.after, hooks.from.after),
      ],
      warnings: missing.length > 0 ? [`this host lacks the system packages ${missing.join(', ')}: the build will stop (BUILD_PACKAGES_MISSING). ${installHint(missing)}`] : [],
    };
  }
}

/** Keys in a stable order: the artifact is byte-identical for identical inputs. */
function sortedRecord(record: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
