import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Hop3Error } from '../../src/errors.js';
import { ensureAppDirs, PRIVATE_DIR_MODE } from '../../src/state/app-dirs.js';
import type { Builder, BuildContext, BuilderPlan, BuildOutput, PlanContext } from '../builder.js';
import { buildHooks } from '../../src/config/build-hooks.js';
import { runTool } from '../run-tool.js';
import type { PlanStep } from '../toolchains/toolchain.js';
import { writeSecretFiles } from '../secrets/secret-files.js';
import { copySourceTree } from '../source-tree.js';
import { installDependencies } from './dependency-reuse.js';
import type { RuntimeDefaults } from '../../src/manifest/runtime-defaults.js';

/** Sortable and unique per build: local builds are not reproducible (pip/npm resolve at build time). */
function localBuildId(now: Date, sourceDigest: string): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${sourceDigest.slice(0, 8)}`;
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
    const { buildId, dir } = await this.createBuildDir(ctx);
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
      await installDependencies(ctx, { appRoot, config: ctx.config, env, log: ctx.log, ...(ctx.signal ? { signal: ctx.signal } : {}) }, buildId);
      await runHooks(hooks.build);
      await runHooks(hooks.after);
      return { buildId, location: dir, workingDir: appRoot, defaults, metadata: {} };
    } catch (error) {
      await rm(dir, { recursive: true, force: true }); // a failed build leaves nothing half-made behind
      throw error;
    }
  }

  async plan(ctx: PlanContext): Promise<BuilderPlan> {
    const appRoot = path.join(ctx.paths.build('<build_id>'), 'app');
    const hooks = buildHooks(ctx.config);
    const run = (commands: string[], because: string | undefined): PlanStep[] => commands.map((command) => ({ run: command, ...(because ? { because } : {}) }));
    const install = ctx.toolchain.planSteps ? await ctx.toolchain.planSteps(ctx.config, ctx.env) : [{ run: `the ${ctx.toolchain.name} toolchain's install (it does not describe its steps)` }];
    return {
      appRoot,
      steps: [
        { run: `copy the source (${ctx.sourceEntries.length} entries) into ${appRoot}` },
        ...run(hooks.before, hooks.from.before),
        ...install,
        ...run(hooks.build, hooks.from.build),
        ...run(hooks.after, hooks.from.after),
      ],
      warnings: [],
    };
  }

  private async createBuildDir(ctx: BuildContext): Promise<{ buildId: string; dir: string }> {
    await ensureAppDirs(ctx.paths, ctx.paths.builds);
    const base = localBuildId(ctx.now, ctx.sourceDigest);
    for (let attempt = 1; attempt <= 50; attempt++) {
      const buildId = attempt === 1 ? base : `${base}.${attempt}`;
      const dir = ctx.paths.build(buildId);
      try {
        await mkdir(dir, { mode: PRIVATE_DIR_MODE }); // not recursive: fails if another build took this id
        return { buildId, dir };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    throw new Hop3Error('BUILD_ID_EXHAUSTED', `Too many builds of ${ctx.appName} within one second.`, { hint: 'Retry in a second.' });
  }
}
