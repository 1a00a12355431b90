import { copyFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AppConfig } from '../../src/config/app-config.js';
import { Hop3Error, type ErrorCode } from '../../src/errors.js';
import type { Logger } from '../../src/log/logger.js';
import { emptyDefaults } from '../../src/manifest/runtime-defaults.js';
import { runCommand } from '../../src/process/run-command.js';
import { shellQuote } from '../../src/process/shell-quote.js';
import { runTool } from '../run-tool.js';
import { untrustedCertificate, untrustedCertificateError } from '../../src/config/network-profile.js';
import { PACKAGE_MANAGER_BIN, PACKAGE_MANAGER_SETUP_SCRIPT, setUpPackageManager } from './corepack.js';
import { nodeDependencyFiles } from './dependency-files.js';
import { exists } from './fs-utils.js';
import { InputDigests } from './input-digests.js';
import { detectPackageManager, MANAGER_FILES, managerCommands, managerEnv, type ManagerCommands, type PackageManager } from './node-package-manager.js';
import { buildScript, startPlan, type StartPlan } from './node-start.js';
import { assertNodeVersion, hostNodeVersion, nodeRequirements } from './node-version.js';
import { withNpmReason } from './npm-failure.js';
import { vendorNpmTarballs } from './npm-vendor.js';
import { readPackageJson, type PackageJson } from './package-json.js';
import { describeStatic, installStaticServer, STATIC_SERVER_IN_APP, STATIC_SERVER_SCRIPT, staticServerDefaults } from './static.js';
import { NIX_APP_ROOT, nixRuntime, type LocalInstallContext, type PlanStep, type Toolchain } from './toolchain.js';

/** Bump when the install recipe changes what ends up in node_modules: older builds' node_modules are then not reused. */
const RECIPE = '3';
/** Scripts npm runs for the app itself during `npm ci`/`npm install`: they may read or write the app's code. */
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall', 'prepublish', 'preprepare', 'prepare', 'postprepare'];

/** Where the docker template puts hop3's package manager setup script, relative to the app root. */
const SETUP_IN_APP = '.hop3/package-manager-setup.mjs';

const FAILURES: Readonly<Record<PackageManager['name'], { code: ErrorCode; hint: string }>> = {
  npm: { code: 'BUILD_NPM_FAILED', hint: 'Check package.json and the npm output above; npm reads its registry and cache settings from your npm config.' },
  yarn: { code: 'BUILD_YARN_FAILED', hint: 'Check package.json and the yarn output above; the install is frozen to yarn.lock: when it is out of date, run `yarn install` in the app and commit yarn.lock.' },
  pnpm: { code: 'BUILD_PNPM_FAILED', hint: 'Check package.json and the pnpm output above; the install is frozen to pnpm-lock.yaml: when it is out of date, run `pnpm install` in the app and commit pnpm-lock.yaml.' },
};

/**
 * Node, as Heroku builds it: npm, yarn (1 or berry) or pnpm by lockfile or `packageManager` (yarn and pnpm through
 * corepack), installs frozen to the lockfile, heroku-prebuild, the build script (heroku-postbuild instead when there),
 * dev dependencies pruned, heroku-cleanup; Node version requirements checked against the Node that runs the app.
 */
export const node: Toolchain = {
  name: 'node',

  async detect(config) {
    return (await exists(config.dir, 'package.json')) ? 'package.json found' : undefined;
  },

  async describe(config) {
    // The install and build commands are the plan's steps; this says what they do not: the Node asked for, how the app starts.
    const pkg = await readPackageJson(config.dir);
    const { requirements } = await nodeRequirements(config.dir, pkg);
    const parts = [
      ...(requirements.length > 0 ? [`node: the app asks for Node ${requirements.map((r) => `"${r.range}" (${r.source})`).join(', ')}`] : []),
      // A web worker from the Procfile or hop3.toml replaces package.json's.
      ...(declaresWeb(config) ? [] : [describeStart(await startPlan(config, pkg))]),
    ];
    return parts.length > 0 ? parts.join('; ') : undefined;
  },

  async defaults(config, { appRoot, built }) {
    const pkg = await readPackageJson(config.dir);
    const pm = await detectPackageManager(config.dir, pkg);
    const defaults = emptyDefaults();
    defaults.env_vars = { NODE_ENV: 'production' };
    // The manager too: workers may run `yarn start` or `pnpm run worker`.
    defaults.path_prepend = [path.posix.join(appRoot, 'node_modules', '.bin'), ...(pm.corepackSpec ? [path.posix.join(appRoot, PACKAGE_MANAGER_BIN)] : [])];
    const start = await startPlan(config, pkg, built);
    // Plug'n'Play has no node_modules: node finds packages only when yarn starts it (it loads .pnp.cjs).
    const { pnp } = pm;
    // The start script runs directly, not through `npm start`: the runtime needs no npm.
    if (start.kind === 'script') defaults.workers.web = pnp ? 'yarn run start' : start.command;
    else if (start.kind === 'node') defaults.workers.web = `${pnp ? 'yarn node' : 'node'} ${shellQuote(start.entry)}`;
    else if (start.kind === 'static') staticServerDefaults(defaults, start.plan.mounts, appRoot);
    return defaults;
  },

  async dependencyInputs(ctx) {
    const pkg = await readPackageJson(ctx.appRoot);
    const pm = await detectPackageManager(ctx.appRoot, pkg);
    const inputs = new InputDigests(ctx.appRoot);
    for (const file of ['package.json', ...new Set(Object.values(MANAGER_FILES).flat())]) await inputs.content(file);
    const linked: string[] = [];
    for (const dir of await fileDependencies(pkg, ctx.appRoot)) {
      const rel = path.relative(ctx.appRoot, dir);
      if (rel.startsWith('..') || path.isAbsolute(rel)) await inputs.listing(dir);
      else {
        await inputs.content(rel);
        if ((await stat(dir)).isDirectory()) linked.push(rel);
      }
    }
    const node = await hostNodeVersion(ctx.env, ctx.signal);
    inputs.value('node', `${'version' in node ? node.version : 'unknown'} ${process.platform} ${process.arch}`);
    // As declared (yarn@4.5.3, or yarn@1 from the lockfile's format): installs are frozen to the lockfile, so a patch release of the manager changes nothing.
    inputs.value('package manager', pm.corepackSpec ?? "the host's npm");
    inputs.value('hop3 node recipe', RECIPE);
    inputs.env(ctx.env, ['npm_config_', 'YARN_', 'PNPM_']);
    const userConfig = ctx.env.npm_config_userconfig || ctx.env.NPM_CONFIG_USERCONFIG || path.join(ctx.env.HOME || os.homedir(), '.npmrc');
    await inputs.content(path.resolve(userConfig), `npm config ${userConfig}`);
    return {
      manifest: pm.lockfile ?? 'package.json',
      digests: inputs.digests,
      // npm installs the dependencies of a `file:` folder it links into that folder.
      outputs: ['node_modules', ...linked.map((dir) => path.posix.join(dir.split(path.sep).join('/'), 'node_modules'))],
      // node_modules/.cache, .vite, .package-lock.json...: written by tools and the managers, in place, so each build gets its own copy.
      // pnpm's .pnpm holds every package (each build only reads it): linked.
      copy: (rel) => /^node_modules\/\.(?!bin(\/|$)|pnpm(\/|$))/.test(rel),
      ...noReuse(pkg, pm),
    };
  },

  async installLocal(ctx) {
    const pkg = await readPackageJson(ctx.appRoot);
    const pm = await detectPackageManager(ctx.appRoot, pkg);
    for (const warning of pm.warnings) ctx.log.warn(warning);
    await checkHostNode(ctx, pkg);
    // Before the reuse check: the workers need the manager on their PATH either way.
    const steps = await localSteps(ctx, pm);
    // Nothing to do over reused node_modules: they are pruned already, and noReuse keeps scripts out of this path.
    if (ctx.dependencies?.reused) return;
    const commands = buildCommands(pkg, pm);
    const scripts = pkg.scripts ?? {};
    if (scripts['heroku-prebuild'] !== undefined) await steps.run('running heroku-prebuild, before the install (as on Heroku)', commands.run('heroku-prebuild'));
    await steps.run(`${[pm.name, ...commands.install].join(' ')} (${pm.lockfile ?? 'no lockfile'})`, commands.install);
    const script = buildScript(pkg);
    if (script) await steps.run(`running ${pm.name} run ${script}${script === 'heroku-postbuild' && scripts.build !== undefined ? ' (instead of build, as on Heroku)' : ''}`, commands.run(script));
    if (commands.prune) await steps.run(undefined, commands.prune);
    else if (commands.keptBecause) ctx.log.info(`${pm.name}: dev dependencies kept (${commands.keptBecause})`);
    if (scripts['heroku-cleanup'] !== undefined) await steps.run('running heroku-cleanup', commands.run('heroku-cleanup'));
    // A build without a start script may make a site: the static server is there if the final choice serves it.
    if (script && !scripts.start?.trim() && !declaresWeb(ctx.config)) {
      await installStaticServer(ctx.appRoot);
      const start = await startPlan(ctx.config, pkg, ctx.appRoot);
      if (start.kind === 'none') ctx.log.warn(`no web worker: ${start.reason} (add a start script, a Procfile, or [build] static-dir in hop3.toml)`);
      else ctx.log.info(describeStart(start));
    }
  },

  async planSteps(config) {
    const pkg = await readPackageJson(config.dir);
    const pm = await detectPackageManager(config.dir, pkg);
    const { requirements } = await nodeRequirements(config.dir, pkg);
    const commands = buildCommands(pkg, pm);
    // yarn and pnpm are the build's own copy: the host needs corepack to fetch them, then node only.
    const needs = pm.corepackSpec ? ['node'] : ['npm'];
    const line = (args: readonly string[]) => [pm.name, ...args].join(' ');
    const script = buildScript(pkg);
    const scripts = pkg.scripts ?? {};
    const steps: PlanStep[] = [];
    if (requirements.length > 0) steps.push({ run: `check \`node --version\` against ${requirements.map((r) => `"${r.range}"`).join(', ')}`, because: requirements.map((r) => r.source).join(', '), needs: ['node'] });
    if (pm.corepackSpec) steps.push({ run: `fetch ${pm.corepackSpec} with corepack (cached in COREPACK_HOME), copy it into .hop3/package-manager, its commands into ${PACKAGE_MANAGER_BIN}`, because: pm.reason, needs: ['corepack'] });
    if (scripts['heroku-prebuild'] !== undefined) steps.push({ run: line(commands.run('heroku-prebuild')), because: 'heroku-prebuild runs before the install, as on Heroku', needs });
    const reuse = noReuse(pkg, pm).noReuse === undefined ? `; skipped${commands.prune ? ', with the prune,' : ''} when an earlier build has the same dependency inputs (its node_modules is hard-linked)` : '';
    steps.push({ run: line(commands.install), because: `${pm.lockfile ? `frozen to ${pm.lockfile}` : 'no lockfile'}${commands.omitDev ? '; no build script needs the dev dependencies, so they are not installed' : ''}${reuse}`, needs });
    if (script) steps.push({ run: line(commands.run(script)), because: script === 'heroku-postbuild' && scripts.build !== undefined ? 'heroku-postbuild replaces build, as on Heroku' : `package.json has a ${script} script`, needs });
    if (commands.prune) steps.push({ run: line(commands.prune), because: 'dev dependencies are not shipped', needs });
    else if (commands.keptBecause) steps.push({ run: 'keep dev dependencies', because: commands.keptBecause });
    if (scripts['heroku-cleanup'] !== undefined) steps.push({ run: line(commands.run('heroku-cleanup')), because: 'heroku-cleanup runs last, as on Heroku', needs });
    return steps;
  },

  async nixExpression(config) {
    const pkg = await readPackageJson(config.dir);
    const pm = await detectPackageManager(config.dir, pkg);
    if (pm.name !== 'npm') {
      throw new Hop3Error('BUILD_NIX_NO_TEMPLATE', `hop3's Nix template for node installs with npm, offline; this app uses ${pm.name} (${pm.reason}).`, {
        hint: 'Build it with --builder local or --builder docker, or write your own hop3.nix (nixpkgs has fetchYarnDeps and pnpm.fetchDeps).',
      });
    }
    const defaults = await node.defaults(config, { appRoot: NIX_APP_ROOT });
    return {
      template: 'node.nix',
      variables: {
        runtime: nixRuntime(defaults),
        install: pm.lockfile ? 'ci' : 'install',
        prebuild: pkg.scripts?.['heroku-prebuild'] !== undefined,
        buildScript: buildScript(pkg) ?? null,
        cleanup: pkg.scripts?.['heroku-cleanup'] !== undefined,
        staticServer: servesStatic(defaults),
      },
    };
  },

  async nixVendor(ctx) {
    const defaults = await node.defaults(ctx.config, { appRoot: NIX_APP_ROOT });
    if (servesStatic(defaults)) await copyStaticServer(ctx.vendorDir);
    // Registry dependencies: the build is offline, so their tarballs are fetched here, with the user's npm settings.
    const vendored = await vendorNpmTarballs(ctx);
    if (vendored > 0) ctx.log.info(`${vendored} npm tarballs vendored for the offline build`);
  },

  async dockerfile(config) {
    const pkg = await readPackageJson(config.dir);
    const pm = await detectPackageManager(config.dir, pkg);
    const commands = buildCommands(pkg, pm);
    const env = Object.entries(managerEnv(pm, {})).map(([name, value]) => `${name}=${shellQuote(value)} `).join('');
    const line = (args: readonly string[]) => env + [pm.name, ...args].map(shellQuote).join(' ');
    const script = buildScript(pkg);
    const scriptLine = (name: string) => (pkg.scripts?.[name] !== undefined ? line(commands.run(name)) : '');
    const start = await startPlan(config, pkg);
    return {
      template: 'node',
      defaultBaseImage: 'node:20-slim',
      buildArgs: {
        HOP3_PACKAGE_MANAGER: pm.corepackSpec ?? '',
        HOP3_NODE_PREBUILD: scriptLine('heroku-prebuild'),
        HOP3_NODE_INSTALL: line(commands.install),
        HOP3_NODE_BUILD: script ? line(commands.run(script)) : '',
        HOP3_NODE_PRUNE: commands.prune ? line(commands.prune) : '',
        HOP3_NODE_CLEANUP: scriptLine('heroku-cleanup'),
      },
      // corepack's registry and integrity settings are the user's, in the image's build as on this host.
      passEnv: pm.corepackSpec ? ['COREPACK_NPM_REGISTRY', 'COREPACK_INTEGRITY_KEYS'] : [],
      // What the install reads goes in before the code, so that a code-only change keeps the install in the engine's cache.
      dependencyFiles: await nodeDependencyFiles(config.dir),
      extraFiles: {
        // Always there: the template copies it in before the install, whatever the manager.
        [SETUP_IN_APP]: PACKAGE_MANAGER_SETUP_SCRIPT,
        ...(start.kind === 'static' ? { [STATIC_SERVER_IN_APP]: STATIC_SERVER_SCRIPT } : {}),
      },
    };
  },
};

/**
 * The manager's commands for this package: no prune when there are no dev dependencies (npm's prune alone takes
 * half a second), and npm leaves them out of the install when no build script needs them.
 */
function buildCommands(pkg: PackageJson, pm: PackageManager): ManagerCommands & { omitDev: boolean; keptBecause?: string } {
  const commands = managerCommands(pm);
  if (Object.keys(pkg.devDependencies ?? {}).length === 0) return { ...commands, prune: undefined, omitDev: false };
  if (pm.name === 'npm' && !buildScript(pkg)) return { ...commands, install: [...commands.install, '--omit=dev'], prune: undefined, omitDev: true };
  return { ...commands, omitDev: false, ...(commands.prune ? {} : { keptBecause: 'yarn 2 and 3 prune only with the workspace-tools plugin' }) };
}

function declaresWeb(config: AppConfig): boolean {
  return config.procfile?.parsed.workers.web !== undefined || config.settings.run.workers.web !== undefined;
}

/**
 * Why node_modules from an older build will not do, if so. A build script needs the dev dependencies, which every
 * build prunes once it has run, and may write caches into node_modules; an install script of the app itself, or a
 * heroku-* script, reads or writes the app's code, which is not a dependency input; Plug'n'Play's install is not
 * in node_modules.
 */
function noReuse(pkg: PackageJson, pm: PackageManager): { noReuse?: string } {
  const script = buildScript(pkg);
  if (script) return { noReuse: `package.json has a ${script} script: it needs the dev dependencies, which builds prune` };
  const other = [...INSTALL_SCRIPTS, 'heroku-prebuild', 'heroku-cleanup'].find((name) => pkg.scripts?.[name]);
  if (other) return { noReuse: `package.json has a ${other} script, which runs with the app's code` };
  return pm.pnp ? { noReuse: "yarn Plug'n'Play keeps its install in .pnp.cjs and .yarn/, not in node_modules" } : {};
}

/** The local folders and tarballs `file:` dependencies point at. */
async function fileDependencies(pkg: PackageJson, appRoot: string): Promise<string[]> {
  const dirs: string[] = [];
  for (const deps of [pkg.dependencies, pkg.devDependencies, pkg.optionalDependencies]) {
    for (const spec of Object.values(deps ?? {})) {
      if (typeof spec !== 'string' || !spec.startsWith('file:')) continue;
      const target = path.resolve(appRoot, spec.slice('file:'.length));
      if (await stat(target).catch(() => undefined)) dirs.push(target);
    }
  }
  return [...new Set(dirs)].sort();
}

/** The build log's line on how the app starts. */
function describeStart(start: StartPlan): string {
  switch (start.kind) {
    case 'script':
      return `web: ${start.command} (${start.reason})`;
    case 'node':
      return `web: node ${start.entry} (${start.reason})`;
    case 'static':
      return describeStatic(start.plan);
    case 'none':
      return `no web worker from package.json: ${start.reason}`;
  }
}

function servesStatic(defaults: { workers: Record<string, string> }): boolean {
  return defaults.workers.web?.includes(STATIC_SERVER_IN_APP) ?? false;
}

async function copyStaticServer(dir: string): Promise<void> {
  await copyFile(STATIC_SERVER_SCRIPT, path.join(dir, 'static-server.mjs'));
}

/** engines.node, .nvmrc and .node-version against the node on the build's PATH, which the process deployer runs too. */
async function checkHostNode(ctx: LocalInstallContext, pkg: PackageJson): Promise<void> {
  const { requirements, warnings } = await nodeRequirements(ctx.appRoot, pkg);
  for (const warning of warnings) ctx.log.warn(warning);
  if (requirements.length === 0) return;
  const node = await hostNodeVersion(ctx.env, ctx.signal);
  if (!('version' in node)) {
    ctx.log.warn(`cannot run \`node --version\` (${node.reason}): the app's Node requirement is not checked`);
    return;
  }
  const fix = (major: number, requirement: { source: string }) =>
    `Put Node ${major} first on the PATH hop3 runs with, or build with --builder docker --base-image node:${major}-slim; or change ${requirement.source}.`;
  for (const warning of assertNodeVersion(requirements, node.version, "this host's node", fix)) ctx.log.warn(warning);
}

interface LocalSteps {
  /** Run the manager with `args`; `step` is the build log's step line, if any. */
  run(step: string | undefined, args: readonly string[]): Promise<void>;
}

/** The manager as the build runs it: the host's npm, or yarn/pnpm copied into the build by corepack and on PATH for the scripts. */
async function localSteps(ctx: LocalInstallContext, pm: PackageManager): Promise<LocalSteps> {
  let env = { ...managerEnv(pm, ctx.env), ...ctx.env };
  let program = 'npm';
  if (pm.corepackSpec) {
    await setUpPackageManager(pm, ctx);
    env = { ...env, PATH: `${path.join(ctx.appRoot, PACKAGE_MANAGER_BIN)}:${ctx.env.PATH ?? '/usr/bin:/bin'}` };
    program = pm.name; // found first on that PATH: the build's own copy
  }
  const failure = FAILURES[pm.name];
  return {
    async run(step, args) {
      if (step) ctx.log.step(step);
      // npm prints its reason first and its usage text last: the whole output is kept to find it.
      const lines: string[] = [];
      const log: Logger = { ...ctx.log, output: (text) => (lines.push(text), ctx.log.output(text)) };
      try {
        await runTool(program, args, { cwd: ctx.appRoot, env, log, errorCode: failure.code, hint: failure.hint, ...(ctx.signal ? { signal: ctx.signal } : {}) });
      } catch (error) {
        const failure = withNpmReason(error, lines.join('\n'));
        const tls = failure instanceof Hop3Error ? untrustedCertificate(lines.join('\n')) : undefined;
        throw tls ? untrustedCertificateError(tls, `${pm.name} ${args[0] ?? ''}`.trim(), undefined, failure as Hop3Error) : failure;
      }
    },
  };
}
