import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../../src/package-root.js';
import { shellQuote } from '../../src/process/shell-quote.js';
import { runTool } from '../run-tool.js';
import { pythonDependencyFiles } from './dependency-files.js';
import { firstExisting } from './fs-utils.js';
import { InputDigests } from './input-digests.js';
import { findPython, type PythonHost } from './python-host.js';
import { requirementRefs } from './requirement-refs.js';
import { emptyDefaults } from '../../src/manifest/runtime-defaults.js';
import { NIX_APP_ROOT, nixRuntime, type LocalInstallContext, type Toolchain } from './toolchain.js';

const MANIFESTS = ['requirements.txt', 'pyproject.toml'];
/** What declares a project's dependencies (setuptools may take them from either of the last two). */
const PROJECT_FILES = ['pyproject.toml', 'setup.py', 'setup.cfg'];
/** Bump when the install recipe changes what ends up in .venv: older builds' venvs are then not reused. */
const RECIPE = '3';
/**
 * Files of a venv that may name its absolute path: pyvenv.cfg, bin/ (script shebangs, activate*), and in
 * site-packages the top-level files (.pth, editable finders) and direct_url.json. Relocated on reuse.
 */
const VENV_SELF_REFERENCES = /^\.venv\/(pyvenv\.cfg|bin\/[^/]+|lib\/[^/]+\/site-packages\/([^/]+|[^/]+\.dist-info\/direct_url\.json))$/;
/** Entry points tried, in order, when neither Procfile nor hop3.toml names a web worker. */
const ENTRY_POINTS = ['app.py', 'main.py', 'server.py'];

/** hop3's stdlib WSGI server, shipped inside every Python build so Hop3's `wsgi:` workers run anywhere. */
export const WSGI_SERVER_SCRIPT = path.join(packageRoot, 'builders', 'toolchains', 'wsgi-server.py');
const WSGI_SERVER_IN_APP = '.hop3/wsgi-server.py';
/** `module.path:callable`, what Hop3 (uWSGI) expects after `wsgi:`; anything else is already a command. */
const WSGI_TARGET = /^[A-Za-z_][\w.]*(:[A-Za-z_][\w.]*)?$/;

/** Python: a virtualenv inside the app root, dependencies from requirements.txt or pyproject.toml. */
export const python: Toolchain = {
  name: 'python',

  async detect(config) {
    const file = await firstExisting(config.dir, MANIFESTS);
    return file && `${file} found`;
  },

  async defaults(config, { appRoot }) {
    const venv = path.posix.join(appRoot, '.venv');
    const defaults = emptyDefaults();
    defaults.env_vars = { VIRTUAL_ENV: venv, PYTHONUNBUFFERED: '1' };
    defaults.path_prepend = [path.posix.join(venv, 'bin')];
    const entry = await firstExisting(config.dir, ENTRY_POINTS);
    if (entry) defaults.workers.web = `python ${entry}`;
    return defaults;
  },

  adaptWorker(name, command, { appRoot }) {
    if (name !== 'wsgi' || !WSGI_TARGET.test(command)) return undefined;
    return `python ${shellQuote(path.posix.join(appRoot, WSGI_SERVER_IN_APP))} ${command}`;
  },

  async dependencyInputs(ctx) {
    const host = await findPython(ctx.env, ctx.signal);
    if (host.launcher) ctx.log.info(`${host.launcher} is a launcher in front of ${host.executable}: set HOP3_PYTHON=${host.executable} to skip its start on every build`);
    const manifest = (await firstExisting(ctx.appRoot, MANIFESTS)) ?? 'pyproject.toml';
    const inputs = new InputDigests(ctx.appRoot);
    if (manifest === 'requirements.txt') {
      await inputs.content(manifest);
      const refs = await requirementRefs(ctx.appRoot, manifest);
      for (const file of refs.files) await inputs.content(file);
      for (const tree of refs.trees) await (isInside(ctx.appRoot, tree) ? inputs.content(tree) : inputs.listing(tree));
      // An editable project is imported from the build's own copy: only what declares its dependencies counts.
      for (const project of refs.editables) for (const file of PROJECT_FILES) await inputs.content(path.join(project, file));
    } else {
      // The app itself is reinstalled after a reuse (installLocal): only what declares its dependencies counts.
      for (const file of PROJECT_FILES) await inputs.content(file);
    }
    inputs.value('python3', `${host.executable}\n${host.version}\n${host.platform}`);
    inputs.value('pip', host.pipVersion);
    inputs.value('hop3 python recipe', RECIPE);
    // Indexes and find-links from env or pip config count by their names, not their contents: like any package
    // cache, a reuse keeps what they gave until an input changes. Paths the app's own requirements name count by content.
    inputs.env(ctx.env, ['PIP_']);
    for (const file of pipConfigFiles(ctx.env)) await inputs.content(file, `pip config ${file}`);
    return { manifest, digests: inputs.digests, outputs: ['.venv'], relocate: (rel) => VENV_SELF_REFERENCES.test(rel) || rel.endsWith('.egg-link'), host: { ...host } };
  },

  async installLocal(ctx: LocalInstallContext) {
    await mkdir(path.join(ctx.appRoot, '.hop3'), { recursive: true });
    await copyFile(WSGI_SERVER_SCRIPT, path.join(ctx.appRoot, WSGI_SERVER_IN_APP));
    const hint = 'Check the dependency list; pip reads PIP_INDEX_URL / PIP_FIND_LINKS / PIP_NO_INDEX from your environment.';
    const host = pythonHostOf(ctx.dependencies?.inputs.host) ?? (await findPython(ctx.env, ctx.signal));
    const venv = path.join(ctx.appRoot, '.venv');
    const tool = { cwd: ctx.appRoot, env: ctx.env, log: ctx.log, ...(ctx.signal ? { signal: ctx.signal } : {}) };
    // The host's pip, run under the venv's interpreter: what `pip --python .venv/bin/python` does, without a second
    // pip start-up. A PIP_PYTHON in the user's env would send it to another interpreter: this one is the venv's.
    // SOURCE_DATE_EPOCH makes pip compile hash-based .pyc files (no compile time in them): the venv hashes the same on
    // every build. Its value only switches that mode on (and dates wheels pip builds), so a fixed one is as good.
    const pipEnv = { ...ctx.env, PIP_PYTHON: undefined, SOURCE_DATE_EPOCH: ctx.env.SOURCE_DATE_EPOCH || '315532800', PYTHONHASHSEED: '0' };
    const pip = (args: string[]) => runTool(path.join(venv, 'bin', 'python'), [host.pipRunner, 'install', '--disable-pip-version-check', '--no-input', ...args], { ...tool, env: pipEnv, errorCode: 'BUILD_PIP_FAILED', hint });
    const manifest = await firstExisting(ctx.appRoot, MANIFESTS);
    if (ctx.dependencies?.reused) {
      if (manifest === 'requirements.txt') return;
      // The reused venv holds the older build's copy of the app: replace it, dependencies untouched. pip removes
      // each file before writing it (and uninstalls by moving files away), so the older build's linked files stay as they were.
      ctx.log.step('installing the app itself into the reused virtualenv (pip install --no-deps .)');
      await pip(['--no-deps', '--force-reinstall', '.']);
      return;
    }
    ctx.log.step(`creating virtualenv (python ${host.version.split(' ')[0]}, without pip: the host's pip ${host.pipVersion} installs into it)`);
    await runTool(host.executable, ['-m', 'venv', '--without-pip', venv], { ...tool, errorCode: 'BUILD_PYTHON_VENV_FAILED', hint: 'Install the venv module of python3 (Debian: apt-get install python3-venv).' });
    await writePipCommands(venv, host.executable);
    ctx.log.step(manifest === 'requirements.txt' ? 'pip install -r requirements.txt' : `pip install . (${manifest ?? 'no requirements.txt'})`);
    await pip(manifest === 'requirements.txt' ? ['-r', 'requirements.txt'] : ['.']);
  },

  async planSteps(config, env) {
    const manifest = await firstExisting(config.dir, MANIFESTS);
    return [
      { run: `copy hop3's WSGI server into ${WSGI_SERVER_IN_APP}`, because: 'runs Procfile wsgi: workers' },
      { run: `${env.HOP3_PYTHON || 'python3'} -m venv --without-pip .venv`, because: 'no ensurepip: the host\'s pip installs into it', needs: ['python3', 'python3-venv'] },
      {
        run: `pip install --python .venv/bin/python ${manifest === 'requirements.txt' ? '-r requirements.txt' : '.'} (the host's pip)`,
        because: `${manifest ? `${manifest} found` : 'no requirements.txt: the app itself is the package'}; skipped when an earlier build has the same dependency inputs (its .venv is hard-linked)`,
        needs: ['python3-pip'],
      },
    ];
  },

  async nixExpression(config) {
    const defaults = await python.defaults(config, { appRoot: NIX_APP_ROOT });
    // The store is read-only: don't let Python try to write __pycache__ there.
    defaults.env_vars.PYTHONDONTWRITEBYTECODE = '1';
    return { template: 'python.nix', variables: { runtime: nixRuntime(defaults) } };
  },

  async nixVendor(ctx) {
    await copyFile(WSGI_SERVER_SCRIPT, path.join(ctx.vendorDir, 'wsgi-server.py'));
    const manifest = await firstExisting(ctx.sourceDir, MANIFESTS);
    if (!manifest) return;
    ctx.log.step(`fetching wheels for the Nix build (pip wheel, ${manifest})`);
    const what = manifest === 'requirements.txt' ? ['-r', 'requirements.txt'] : ['.'];
    await runTool(ctx.env.HOP3_PYTHON || 'python3', ['-m', 'pip', 'wheel', '--disable-pip-version-check', '--no-input', '--wheel-dir', ctx.vendorDir, ...what], {
      cwd: ctx.sourceDir,
      // Wheels built from sources get fixed timestamps, so equal sources give equal store paths.
      env: { SOURCE_DATE_EPOCH: '315532800', ...ctx.env },
      log: ctx.log,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      errorCode: 'BUILD_PIP_FAILED',
      hint: 'The Nix build is offline: hop3 fetches wheels first with `pip wheel`, which reads PIP_INDEX_URL / PIP_FIND_LINKS / PIP_NO_INDEX from your environment.',
    });
  },

  async dockerfile(config) {
    return { template: 'python', defaultBaseImage: 'python:3.12-slim', extraFiles: { [WSGI_SERVER_IN_APP]: WSGI_SERVER_SCRIPT }, dependencyFiles: await pythonDependencyFiles(config.dir) };
  },
};

/** The host facts `dependencyInputs` found, handed back through the install context. */
function pythonHostOf(host: Readonly<Record<string, string>> | undefined): PythonHost | undefined {
  if (!host?.executable || !host.version || !host.pipRunner) return undefined;
  return { executable: host.executable, version: host.version, platform: host.platform ?? '', pipVersion: host.pipVersion ?? '', pipRunner: host.pipRunner };
}

function isInside(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** pip's own config files (user, site-wide): they can change the index and so what resolves. */
function pipConfigFiles(env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME || os.homedir();
  const configHome = env.XDG_CONFIG_HOME || path.join(home, '.config');
  const configDirs = (env.XDG_CONFIG_DIRS || '/etc/xdg').split(':').filter(Boolean);
  return [...new Set([path.join(configHome, 'pip', 'pip.conf'), path.join(home, '.pip', 'pip.conf'), ...configDirs.map((dir) => path.join(dir, 'pip', 'pip.conf')), '/etc/pip.conf', ...(env.PIP_CONFIG_FILE ? [path.resolve(env.PIP_CONFIG_FILE)] : [])])];
}

/**
 * The venv has no pip of its own (no ensurepip run per build): `pip`/`pip3` in it run the host's pip against
 * it, so a build hook or a before_run calling `pip install` still installs into the venv. `python -m pip` does not work.
 */
async function writePipCommands(venv: string, hostPython: string): Promise<void> {
  const script = `#!/bin/sh\n# hop3 made this venv without pip: the host's pip installs into it.\nexec ${shellQuote(hostPython)} -m pip --python "$(dirname -- "$0")/python" "$@"\n`;
  for (const name of ['pip', 'pip3']) {
    const file = path.join(venv, 'bin', name);
    await writeFile(file, script, { mode: 0o700 });
  }
}
