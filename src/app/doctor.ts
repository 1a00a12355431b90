import { stat } from 'node:fs/promises';
import { BUILDER_NAMES, loadBuilder } from '../../builders/registry.js';
import { NginxRouter } from '../deployers/nginx-router.js';
import { isHop3Error, tail } from '../errors.js';
import { runCommand } from '../process/run-command.js';
import { hop3Home } from '../state/hop3-home.js';
import { describeNetworkProfile, resolveNetworkProfile } from '../config/network-profile.js';

export interface Check {
  name: string;
  usable: boolean;
  detail: string;
  hint?: string;
  /** Usable, but something the user should fix (the hint says what). */
  warning?: true;
}

async function tool(name: string, file: string, args: string[], hint: string, env: NodeJS.ProcessEnv): Promise<Check> {
  const result = await runCommand(file, args, { env, timeoutMs: 15_000 });
  if (result.failed) return { name, usable: false, detail: result.notFound ? 'not found' : `${result.reason}: ${tail(result.all, 1)}`, hint };
  return { name, usable: true, detail: `${result.stdout || result.stderr}`.trim().split('\n')[0]! };
}

/** The host tools build steps run, by the names toolchains give in their plan steps' `needs`. */
const HOST_TOOLS: Record<string, (env: NodeJS.ProcessEnv) => Promise<Check>> = {
  node: (env) => tool('node', process.execPath, ['--version'], 'Install Node.js 20 or newer.', env),
  npm: (env) => tool('npm', 'npm', ['--version'], 'Install npm (Debian: apt-get install npm) to build Node apps locally.', env),
  python3: (env) => tool('python3', env.HOP3_PYTHON || 'python3', ['--version'], 'Install python3 to build Python apps locally.', env),
  // Builds make venvs without pip (no ensurepip) and install into them with the host's pip (22.3+, for --python).
  'python3-venv': (env) => tool('python3-venv', env.HOP3_PYTHON || 'python3', ['-c', 'import venv; print("venv available")'], 'Install python3-venv (Debian: apt-get install python3-venv).', env),
  'python3-pip': (env) =>
    tool(
      'python3-pip',
      env.HOP3_PYTHON || 'python3',
      ['-c', 'import os, pip; assert os.path.exists(os.path.join(os.path.dirname(pip.__file__), "__pip-runner__.py")), "pip " + pip.__version__ + " is older than 22.3"; print("pip", pip.__version__)'],
      'Install pip 22.3 or newer for python3 (Debian: apt-get install python3-pip).',
      env,
    ),
  go: (env) => tool('go', 'go', ['version'], 'Install Go (Debian: apt-get install golang-go) to build Go apps locally.', env),
};

/** Checks of these host tools, in order; a tool hop3 has no check for is looked for with `<name> --version`. */
export async function hostToolChecks(names: readonly string[], env: NodeJS.ProcessEnv): Promise<Check[]> {
  return Promise.all(names.map((name) => (Object.hasOwn(HOST_TOOLS, name) ? HOST_TOOLS[name]!(env) : tool(name, name, ['--version'], `Install ${name}.`, env))));
}

/** What this host can build and run with, for `hop3 doctor`. */
export async function runDoctor(env: NodeJS.ProcessEnv): Promise<Check[]> {
  const checks = await hostToolChecks(Object.keys(HOST_TOOLS), env);
  checks.push(await homeCheck(env));
  for (const name of BUILDER_NAMES) {
    try {
      const availability = await (await loadBuilder(name, { env })).available();
      checks.push({ name: `builder ${name}`, ...availability });
    } catch (error) {
      checks.push({ name: `builder ${name}`, usable: false, detail: isHop3Error(error) ? error.message : String(error), ...(isHop3Error(error) && error.hint ? { hint: error.hint } : {}) });
    }
  }
  checks.push(await routerCheck(env));
  checks.push(...(await networkChecks(env)));
  return checks;
}

/** The network profile builds get from this environment and the user's npm config (an app's hop3.toml, .npmrc and --ca-bundle/--proxy add to it); secrets masked. */
async function networkChecks(env: NodeJS.ProcessEnv): Promise<Check[]> {
  const profile = await resolveNetworkProfile({ env });
  return [
    ...describeNetworkProfile(profile).map(({ name, detail }) => ({ name: `network ${name}`, usable: true, detail })),
    ...profile.warnings.map((detail) => ({ name: 'network', usable: true, warning: true as const, detail, hint: 'Point the variable at a readable PEM file, or unset it; --ca-bundle FILE sets the bundle for one build.' })),
  ];
}

/** The router for zero-downtime swaps: nginx, and whether hop3's own master is running for this HOP3_HOME. */
async function routerCheck(env: NodeJS.ProcessEnv): Promise<Check> {
  const router = await NginxRouter.find(env);
  if (!router) {
    return {
      name: 'router nginx',
      usable: false,
      detail: env.HOP3_ROUTER === 'off' ? 'off (HOP3_ROUTER=off): deploys stop, then start' : 'not found: deploys stop, then start (not zero-downtime)',
      hint: 'Install nginx (Debian: apt-get install nginx-light); hop3 runs its own master under HOP3_HOME/router.',
    };
  }
  const pid = router.masterPid();
  return { name: 'router nginx', usable: true, detail: `nginx ${await router.version()}; ${pid ? `running (pid ${pid})` : 'starts on the first deploy'}, config in ${router.dir}` };
}

/** HOP3_HOME holds artifacts, run state and logs, which carry env values: group or others must not get in. */
async function homeCheck(env: NodeJS.ProcessEnv): Promise<Check> {
  const home = hop3Home(env);
  const info = await stat(home).catch(() => undefined);
  if (!info) return { name: 'HOP3_HOME', usable: true, detail: `${home} (not created yet; hop3 creates it 0700)` };
  const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
  if ((info.mode & 0o077) === 0) return { name: 'HOP3_HOME', usable: true, detail: `${home} (${mode})` };
  return {
    name: 'HOP3_HOME',
    usable: true,
    warning: true,
    detail: `${home} is ${mode}: other users may read its artifacts, run state and logs, which hold env values`,
    hint: `chmod 700 ${home} (hop3 creates it 0700, but leaves the modes of an existing one to you)`,
  };
}
