import path from 'node:path';
import { runTool } from '../run-tool.js';
import { firstExisting } from './fs-utils.js';
import { emptyDefaults, type LocalInstallContext, type Toolchain } from './toolchain.js';

const MANIFESTS = ['requirements.txt', 'pyproject.toml'];
/** Entry points tried, in order, when neither Procfile nor hop3.toml names a web worker. */
const ENTRY_POINTS = ['app.py', 'main.py', 'server.py'];

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

  async installLocal(ctx: LocalInstallContext) {
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
};
