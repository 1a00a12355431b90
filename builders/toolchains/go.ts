import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AppConfig } from '../../src/config/app-config.js';
import { isWebWorker } from '../../src/config/procfile.js';
import { Hop3Error } from '../../src/errors.js';
import { emptyDefaults } from '../../src/manifest/runtime-defaults.js';
import { shellQuote } from '../../src/process/shell-quote.js';
import { runCommand } from '../../src/process/run-command.js';
import { hop3Home } from '../../src/state/hop3-home.js';
import { runTool } from '../run-tool.js';
import { exists } from './fs-utils.js';
import type { Toolchain } from './toolchain.js';

/** Where the binaries go, relative to the app root: `bin/app` for a main package at the module root, `bin/<name>` for `cmd/<name>`. */
export const GO_BIN_DIR = 'bin';
/** The user's module settings the docker build receives as build args (a host's GOCACHE or GOPATH mean nothing in the image). */
export const GO_MODULE_ENV = ['GOPROXY', 'GOFLAGS', 'GOPRIVATE', 'GONOPROXY', 'GONOSUMDB', 'GOSUMDB', 'GOINSECURE'] as const;

export interface GoPlan {
  /** Package paths for `go build`, relative to the module root ("." or "./cmd/<name>"). */
  packages: string[];
  /** Binary path per package, relative to the app root. */
  binaries: string[];
  /** The binary the `web` worker runs, when hop3 can tell. */
  web?: string;
  reason: string;
}

/** A cmd/ folder name: it becomes a file name in bin/ and a word of a shell command. */
const COMMAND_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * What to build, kept simple: a main package at the module root (`bin/app`, the web worker), else every
 * `cmd/<name>/` holding one (`bin/<name>`; the web worker when it is the only one).
 */
export async function goPlan(config: AppConfig): Promise<GoPlan> {
  if (await isMainPackage(config.dir)) return { packages: ['.'], binaries: [`${GO_BIN_DIR}/app`], web: `${GO_BIN_DIR}/app`, reason: 'main package at the module root' };
  const commands: string[] = [];
  for (const entry of await readdir(path.join(config.dir, 'cmd'), { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory() && COMMAND_NAME.test(entry.name) && (await isMainPackage(path.join(config.dir, 'cmd', entry.name)))) commands.push(entry.name);
  }
  commands.sort();
  if (commands.length === 0) {
    throw new Hop3Error('BUILD_GO_NO_MAIN', `${config.dir} has a go.mod but no main package at its root or in cmd/<name>/.`, {
      hint: 'Put `package main` (with func main) at the module root or in cmd/<name>/; or build it yourself with [build] build and [run] start in hop3.toml and set [build] toolchain = "generic".',
    });
  }
  const binaries = commands.map((name) => `${GO_BIN_DIR}/${name}`);
  return {
    packages: commands.map((name) => `./cmd/${name}`),
    binaries,
    ...(binaries.length === 1 ? { web: binaries[0] } : {}),
    reason: `main package${commands.length > 1 ? 's' : ''} in ${commands.map((name) => `cmd/${name}/`).join(', ')}`,
  };
}

/** Some non-test .go file of the folder says `package main` (build constraints are not evaluated). */
async function isMainPackage(dir: string): Promise<boolean> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((name) => name.endsWith('.go') && !name.endsWith('_test.go'));
  for (const file of files) {
    const text = await readFile(path.join(dir, file), 'utf8').catch(() => '');
    // Comments go first: a license header may well say "package".
    const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    if (/^\s*package\s+main\s*(?:;|$)/m.test(code)) return true;
  }
  return false;
}

/** The app names its own web-facing worker (Procfile or hop3.toml), so hop3 need not guess one. */
function declaresWeb(config: AppConfig): boolean {
  return [...Object.keys(config.procfile?.parsed.workers ?? {}), ...Object.keys(config.settings.run.workers)].some(isWebWorker);
}

/** `-mod=vendor` with a vendor/modules.txt, unless the user's GOFLAGS already chooses a -mod. */
function goBuildArgs(plan: GoPlan, vendored: boolean, env: NodeJS.ProcessEnv, appRoot: string): string[] {
  const userFlags = env.GOFLAGS ?? '';
  const output = plan.packages.length === 1 ? path.join(appRoot, plan.binaries[0]!) : `${path.join(appRoot, GO_BIN_DIR)}/`;
  return [
    'build',
    // The source copy has no .git; a VCS stamp would fail on one that has, without git.
    ...(/(^|\s)-buildvcs\b/.test(userFlags) ? [] : ['-buildvcs=false']),
    ...(vendored && !/(^|\s)-mod=/.test(userFlags) ? ['-mod=vendor'] : []),
    '-o',
    output,
    ...plan.packages,
  ];
}

/**
 * The user's Go settings (GOFLAGS, GOPROXY, GOPATH, GOCACHE...) pass through; portable binaries by default
 * (CGO_ENABLED=0); without a HOME for Go's default caches, they live in HOP3_HOME/cache so builds stay incremental.
 */
export function goEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const cache = path.join(hop3Home(env), 'cache');
  return {
    ...env,
    CGO_ENABLED: env.CGO_ENABLED ?? '0',
    ...(env.GOCACHE || env.XDG_CACHE_HOME || env.HOME ? {} : { GOCACHE: path.join(cache, 'go-build') }),
    ...(env.GOPATH || env.HOME ? {} : { GOPATH: path.join(cache, 'go') }),
  };
}

/** Go (go.mod): `go build` into bin/ of the build, run as the `web` worker; local and docker builders. */
export const go: Toolchain = {
  name: 'go',

  async detect(config) {
    return (await exists(config.dir, 'go.mod')) ? 'go.mod found' : undefined;
  },

  async describe(config) {
    const plan = await goPlan(config);
    const vendored = await exists(config.dir, path.join('vendor', 'modules.txt'));
    return `go: building ${plan.packages.join(' ')} -> ${plan.binaries.join(', ')} (${plan.reason})${vendored ? ', with the vendored modules' : ''}`;
  },

  async defaults(config, { appRoot }) {
    const plan = await goPlan(config);
    if (!plan.web && !declaresWeb(config)) {
      throw new Hop3Error('BUILD_GO_NO_MAIN', `${config.dir} has several main packages (${plan.packages.join(', ')}): hop3 cannot tell which one serves HTTP.`, {
        hint: `Name it in the Procfile (e.g. \`web: ${plan.binaries[0]}\`) or in hop3.toml ([run] start = "${plan.binaries[0]}"); every one is built into ${GO_BIN_DIR}/.`,
      });
    }
    const defaults = emptyDefaults();
    defaults.path_prepend = [path.posix.join(appRoot, GO_BIN_DIR)];
    if (plan.web) defaults.workers.web = shellQuote(path.posix.join(appRoot, plan.web));
    return defaults;
  },

  async installLocal(ctx) {
    const env = goEnv(ctx.env);
    const version = await runCommand('go', ['version'], { env, timeoutMs: 30_000 });
    if (version.failed) {
      throw new Hop3Error('BUILD_GO_MISSING', `Cannot build a Go app: ${version.notFound ? 'go is not installed or not on PATH' : `\`go version\` failed (${version.reason})`}.`, {
        hint: 'Install Go (Debian: apt-get install golang-go) or put your Go on PATH; or build with --builder docker.',
        ...(version.notFound ? {} : { command: version.command, outputTail: version.all }),
      });
    }
    const plan = await goPlan({ ...ctx.config, dir: ctx.appRoot });
    const vendored = await exists(ctx.appRoot, path.join('vendor', 'modules.txt'));
    ctx.log.step(`building ${plan.binaries.join(', ')} with ${version.stdout.trim()} (CGO_ENABLED=${env.CGO_ENABLED}${vendored ? ', vendored modules' : ''})`);
    await runTool('go', goBuildArgs(plan, vendored, env, ctx.appRoot), {
      cwd: ctx.appRoot,
      env,
      log: ctx.log,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      errorCode: 'BUILD_GO_FAILED',
      hint: vendored
        ? 'Check the Go output above; vendor/ must match go.mod (`go mod vendor`).'
        : 'Check the Go output above. Modules come through your GOPROXY/GOFLAGS settings; offline, vendor them (`go mod vendor`) or point GOPROXY at a reachable proxy.',
    });
  },

  async planSteps(config, env) {
    const [plan, vendored] = await Promise.all([goPlan(config), exists(config.dir, path.join('vendor', 'modules.txt'))]);
    const goenv = goEnv(env);
    return [{ run: `go ${goBuildArgs(plan, vendored, goenv, '.').join(' ')}`, because: `${plan.reason}; CGO_ENABLED=${goenv.CGO_ENABLED}${vendored ? '; vendored modules' : ''}`, needs: ['go'] }];
  },

  // No dependencyInputs: the binary is made from the whole source, not from go.mod alone; Go's own caches
  // (GOCACHE, the module cache) are what keep rebuilds incremental.

  // No Nix template: buildGoModule needs a vendorHash hop3 cannot know offline. The nix builder says so (BUILD_NIX_NO_TEMPLATE).

  async dockerfile(config) {
    const plan = await goPlan(config);
    const output = plan.packages.length === 1 ? plan.binaries[0]! : `${GO_BIN_DIR}/`;
    return {
      template: 'go',
      defaultBaseImage: 'debian:bookworm-slim',
      buildImage: { default: 'golang:1-bookworm', env: 'HOP3_DOCKER_GO_BUILD_IMAGE' },
      buildArgs: { GO_BUILD: ['-o', output, ...plan.packages].join(' ') },
      passEnv: GO_MODULE_ENV,
    };
  },
};
