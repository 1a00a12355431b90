import { readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { Hop3Error } from '../../src/errors.js';
import { ensureAppDirs } from '../../src/state/app-dirs.js';
import { hooksNotRun } from '../../src/config/build-hooks.js';
import { packagesNotAdded } from '../../src/config/system-packages.js';
import type { Artifact } from '../../src/artifact/artifact-file.js';
import type { Availability, Builder, BuildDifference, BuilderEngines, BuilderPlan, BuildContext, BuildOutput, PlanContext } from '../builder.js';
import { differingFiles, hashOutputTree } from '../output-hash.js';
import { NIX_FILES } from '../toolchains/generic.js';
import { TOOLCHAINS } from '../toolchains/registry.js';
import type { Toolchain } from '../toolchains/toolchain.js';
import { listNixAttributes, withAttributeList } from './nix-attributes.js';
import { NIX_INSTALL_HINT, nixSmokeProblem, nixVersion, runNix, type NixRun } from './nix-command.js';
import { GENERATED_NIX_FILE, generateNixExpression } from './nix-expression.js';
import { nixOptions, type NixOptions } from './nix-options.js';
import { deleteCheckOutput, rebuildOutputs } from './nix-rebuild.js';
import { readNixRuntime } from './nix-runtime.js';
import { createNixStage, makeGitTree, type NixStage } from './nix-stage.js';

/** `nix build --json`: one entry per installable. */
const BuildJsonSchema = z.array(z.looseObject({ drvPath: z.string(), outputs: z.record(z.string(), z.string()) })).min(1);

/** What nix is asked to build, in the order hop3 looks: the app's flake, its hop3.nix/default.nix, else a generated expression. */
type NixInput =
  | { kind: 'flake'; label: string }
  | { kind: 'file'; file: string; label: string; vendored: boolean; template?: string };

/** Builds with Nix into /nix/store; the artifact's location is the store path, kept alive by a GC root under the app's state. */
export class NixBuilder implements Builder {
  readonly name = 'nix' as const;

  constructor(private readonly engines: BuilderEngines) {}

  async available(): Promise<Availability> {
    const { version, problem } = await nixVersion(this.engines.env);
    if (!version) return { usable: false, detail: problem ?? 'nix does not work', hint: NIX_INSTALL_HINT };
    const smoke = await nixSmokeProblem(this.engines.env);
    if (smoke) return { usable: false, detail: `nix ${version} cannot build: ${smoke}`, hint: 'Check /etc/nix/nix.conf (sandbox = false on Debian) and that this user may write to /nix/store (root, or nix-daemon running and the user in nix-users).' };
    return { usable: true, detail: `nix ${version}` };
  }

  /** Whatever a derivation reads ends up in the store, which every user of the host can read. */
  refuseSecrets(ids: readonly string[]): Hop3Error {
    return new Hop3Error('BUILD_NIX_SECRETS_UNSUPPORTED', `The nix builder cannot use build secrets (${ids.join(', ')}): what a Nix build reads goes into /nix/store, which every user of this host can read. Nothing was built.`, {
      hint: 'Build with --builder local, or fetch what needs the secret before the build (e.g. vendor private packages into the app) and build without --secret / [build] secrets.',
    });
  }

  /** The expression it would build (the app's own, else hop3's template) and what it fetches first; runs no nix. */
  async plan(ctx: PlanContext): Promise<BuilderPlan> {
    const options = nixOptions(ctx.config, ctx.env);
    const own = ownNixFile(ctx);
    const hooks = hooksNotRun(ctx.config, 'nix');
    const steps: BuilderPlan['steps'] = [];
    if (own === 'flake.nix') {
      steps.push({ run: `nix build .#${options.attr ?? 'default'}`, because: 'flake.nix found' });
    } else if (own) {
      steps.push({ run: `nix build -f ${own}${options.attr ? ` ${options.attr}` : ''}`, because: `${own} found` });
    } else {
      const toolchain = templateToolchain(ctx, options);
      const { template } = await generateNixExpression(toolchain, ctx.config, ctx.appName);
      steps.push({ run: `nix build -f ${GENERATED_NIX_FILE}, generated from hop3's nix/${template}`, because: options.template ? `[nix] template in ${ctx.config.settings.file}` : `the ${toolchain.name} toolchain's template: the app has no Nix file` });
    }
    if ((!own || own === GENERATED_NIX_FILE) && ctx.toolchain.nixVendor) {
      steps.unshift({ run: `fetch what the offline Nix build needs (the ${ctx.toolchain.name} toolchain's vendor step, with your pip/npm settings)` });
    }
    if (options.options.length > 0) steps.push({ run: `nix ${options.options.join(' ')}`, because: ctx.env.HOP3_NIX_OFFLINE === '1' ? 'HOP3_NIX_OFFLINE=1' : `[nix] substituters in ${ctx.config.settings.file}` });
    return {
      appRoot: `/nix/store/<hash>-${ctx.appName}/app`,
      steps,
      warnings: [...(hooks ? [hooks] : []), ...(own ? packagesNotAdded(ctx.config, own) : [])],
      ...(own && own !== GENERATED_NIX_FILE ? { runtimeFromBuild: `the runtime defaults ${own} writes to hop3/runtime.json in its output` } : {}),
    };
  }

  /** By store path: the check build's differing output (`<out>.check`, from `nix build --rebuild`) against the checked one, file by file. */
  async compareBuilds(first: Artifact, second: Artifact): Promise<BuildDifference> {
    const check = (second.metadata.nix as { rebuild_check?: string } | undefined)?.rebuild_check;
    const values: [string, string] = [first.location, check ?? second.location];
    if (values[0] === values[1]) return { compared: 'store path', values, files: [], fields: [] };
    const [a, b] = await Promise.all(values.map((dir) => hashOutputTree(dir)));
    return { compared: 'store path', values, files: differingFiles(a!, b!), fields: [] };
  }

  async discardCheckBuild(artifact: Artifact): Promise<void> {
    const check = (artifact.metadata.nix as { rebuild_check?: string } | undefined)?.rebuild_check;
    if (check) await deleteCheckOutput(check, { cwd: '/', env: this.engines.env });
  }

  async build(ctx: BuildContext): Promise<BuildOutput> {
    const options = nixOptions(ctx.config, ctx.env);
    // Asked alongside the build (it is metadata): a missing nix already fails the build itself with BUILD_NIX_MISSING.
    const versionQuery = nixVersion(ctx.env);

    await using stage = await createNixStage(ctx.sourceDir, ctx.sourceEntries, ctx.env);
    const input = await prepareInput(ctx, stage, options);
    const run: NixRun = {
      cwd: stage.sourceDir,
      env: ctx.env,
      log: ctx.log,
      options: options.options,
      failure: { sourceDir: ctx.sourceDir, stageDir: stage.sourceDir, input: input.label, attr: options.attr ?? 'default' },
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    };
    const overrideArgs = Object.entries(options.overrideInputs).flatMap(([name, ref]) => ['--override-input', name, ref]);
    const installable =
      input.kind === 'flake'
        ? [`${stage.sourceDir}#${options.attr ?? 'default'}`, ...overrideArgs]
        : ['-f', path.join(stage.sourceDir, input.file), options.attr ?? '', ...(input.vendored ? ['--arg', 'vendor', stage.vendorDir] : [])];

    // Rooted under a temporary name until the store path (hence the build id) is known: GC can't strike in between.
    await ensureAppDirs(ctx.paths, ctx.paths.gcroots);
    const pending = path.join(ctx.paths.gcroots, `.pending-${process.pid}-${Date.now()}`);
    try {
      ctx.log.step(`nix build of ${input.label}`);
      const built = await runNix(['build', ...installable, '--json', '--print-build-logs', '--out-link', pending], { ...run, live: true }).catch(async (error: unknown) => {
        throw await withAttributeList(error, () =>
          listNixAttributes(input.kind === 'flake' ? { flake: stage.sourceDir, overrideArgs } : { file: path.join(stage.sourceDir, input.file) }, run),
        );
      });
      const [result] = BuildJsonSchema.parse(JSON.parse(built.stdout));
      const out = result!.outputs.out ?? Object.values(result!.outputs)[0];
      if (!out) throw new Hop3Error('BUILD_NIX_NO_OUTPUT', `nix build of ${input.label} reported no output path.`, { hint: 'Check that the attribute is a derivation.' });
      const buildId = buildIdOf(out);
      const gcRoot = path.join(ctx.paths.gcroots, buildId);
      await runNix(['build', out, '--out-link', gcRoot], run);
      // A check build: the same derivation built again and compared by Nix; a differing output stays as `<out>.check`.
      const rebuild = ctx.fromScratch ? await rebuildOutputs(installable, run) : undefined;
      const runtime = await readNixRuntime(out);
      const { version, problem } = await versionQuery;
      if (!version) throw new Hop3Error('BUILD_NIX_MISSING', `The nix builder needs a working Nix: ${problem}.`, { hint: NIX_INSTALL_HINT });
      ctx.log.step(`built ${out} (${(built.durationMs / 1000).toFixed(1)} s), GC root ${gcRoot}`);
      return {
        buildId,
        location: out,
        workingDir: runtime.workingDir,
        defaults: runtime.defaults,
        metadata: {
          nix: {
            version,
            drv_path: result!.drvPath,
            outputs: result!.outputs,
            input: input.label,
            attr: options.attr ?? (input.kind === 'flake' ? 'default' : ''),
            gc_root: path.relative(ctx.paths.root, gcRoot), // relative to the app's state dir: the artifact names no HOP3_HOME
            ...(input.kind === 'file' && input.template ? { template: input.template } : {}),
            ...(rebuild && !rebuild.identical ? { rebuild_check: rebuild.check } : {}),
          },
        },
      };
    } finally {
      await removeLinks(ctx.paths.gcroots, path.basename(pending));
    }
  }
}

/** The store path's hash: the same derivation always gives the same build id. */
export function buildIdOf(storePath: string): string {
  const match = /^\/nix\/store\/([0-9a-z]{32})-/.exec(storePath);
  if (!match) throw new Hop3Error('BUILD_NIX_NO_OUTPUT', `nix build returned ${storePath}, which is not a /nix/store path.`, { hint: 'hop3 supports the default /nix/store only.' });
  return match[1]!.slice(0, 12);
}

/** Find the app's own Nix file, else write the toolchain's generated expression into the stage; vendor what hop3.nix needs. */
async function prepareInput(ctx: BuildContext, stage: NixStage, options: NixOptions): Promise<NixInput> {
  const own = ownNixFile(ctx);
  if (own === 'flake.nix') {
    await makeGitTree(stage.sourceDir, ctx.env);
    return { kind: 'flake', label: own };
  }
  let input: NixInput & { kind: 'file' };
  if (own) {
    input = { kind: 'file', file: own, label: own, vendored: own === GENERATED_NIX_FILE };
  } else {
    const toolchain = templateToolchain(ctx, options);
    const generated = await generateNixExpression(toolchain, ctx.config, ctx.appName);
    await writeFile(path.join(stage.sourceDir, GENERATED_NIX_FILE), generated.text);
    input = { kind: 'file', file: GENERATED_NIX_FILE, label: `hop3.nix (generated from hop3's nix/${generated.template})`, vendored: true, template: generated.template };
  }
  if (input.vendored && ctx.toolchain.nixVendor) {
    await ctx.toolchain.nixVendor({ sourceDir: stage.sourceDir, vendorDir: stage.vendorDir, config: ctx.config, env: ctx.env, log: ctx.log, ...(ctx.signal ? { signal: ctx.signal } : {}) });
  }
  return input;
}

/** The app's own Nix file, in the order the builder looks for one. */
function ownNixFile(ctx: PlanContext): (typeof NIX_FILES)[number] | undefined {
  return NIX_FILES.find((file) => ctx.sourceEntries.some((entry) => entry.path === file && entry.type === 'file'));
}

/** `[nix] template` picks another toolchain's template; default: the detected one. */
function templateToolchain(ctx: PlanContext, options: NixOptions): Toolchain {
  if (!options.template) return ctx.toolchain;
  const toolchain = TOOLCHAINS.find((t) => t.name === options.template);
  if (!toolchain) {
    throw new Hop3Error('CONFIG_TOML_INVALID', `[nix] template = "${options.template}" is not one of hop3's templates.`, {
      hint: `Use one of: ${TOOLCHAINS.filter((t) => t.nixExpression).map((t) => t.name).join(', ')}.`,
    });
  }
  return toolchain;
}

/** Remove the temporary out-link and its `-<output>` siblings. */
async function removeLinks(dir: string, prefix: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter((name) => name === prefix || name.startsWith(`${prefix}-`)).map((name) => rm(path.join(dir, name), { force: true })));
}
