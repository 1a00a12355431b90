import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { packageRoot } from '../../src/package-root.js';
import { shellQuote } from '../../src/process/shell-quote.js';
import { runTool } from '../run-tool.js';
import { firstExisting } from './fs-utils.js';
import { emptyDefaults } from '../../src/manifest/runtime-defaults.js';
import { NIX_APP_ROOT, nixRuntime, type LocalInstallContext, type Toolchain } from './toolchain.js';

const MANIFESTS = ['requirements.txt', 'pyproject.toml'];
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

  async installLocal(ctx: LocalInstallContext) {
    await mkdir(path.join(ctx.appRoot, '.hop3'), { recursive: true });
    await copyFile(WSGI_SERVER_SCRIPT, path.join(ctx.appRoot, WSGI_SERVER_IN_APP));
    const hint = 'Check the dependency list; pip reads PIP_INDEX_URL / PIP_FIND_LINKS / PIP_NO_INDEX from your environment.';
    const python3 = ctx.env.HOP3_PYTHON || 'python3';
    const tool = { cwd: ctx.appRoot, env: ctx.env, log: ctx.log, ...(ctx.signal ? { signal: ctx.signal } : {}) };
    ctx.log.step('creating virtualenv');
    await runTool(python3, ['-m', 'venv', '.venv'], { ...tool, errorCode: 'BUILD_PYTHON_VENV_FAILED', hint: 'Install python3 and python3-venv (Debian: apt-get install python3-venv).' });
    const pip = path.join(ctx.appRoot, '.venv', 'bin', 'pip');
    const common = ['install', '--disable-pip-version-check', '--no-input'];
    const manifest = await firstExisting(ctx.appRoot, MANIFESTS);
    ctx.log.step(`installing dependencies from ${manifest}`);
    const args = manifest === 'requirements.txt' ? [...common, '-r', 'requirements.txt'] : [...common, '.'];
    await runTool(pip, args, { ...tool, errorCode: 'BUILD_PIP_FAILED', hint });
  },

  async planSteps(config, env) {
    const manifest = await firstExisting(config.dir, MANIFESTS);
    return [
      { run: `copy hop3's WSGI server into ${WSGI_SERVER_IN_APP}`, because: 'runs Procfile wsgi: workers' },
      { run: `${env.HOP3_PYTHON || 'python3'} -m venv .venv`, needs: ['python3', 'python3-venv'] },
      {
        run: `.venv/bin/pip install --disable-pip-version-check --no-input ${manifest === 'requirements.txt' ? '-r requirements.txt' : '.'}`,
        because: manifest ? `${manifest} found` : 'no requirements.txt: the app itself is the package',
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

  async dockerfile() {
    return { template: 'python', defaultBaseImage: 'python:3.12-slim', extraFiles: { [WSGI_SERVER_IN_APP]: WSGI_SERVER_SCRIPT } };
  },
};
