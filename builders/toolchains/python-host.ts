import { existsSync } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { Hop3Error, tail } from '../../src/errors.js';
import { findOnPath } from '../../src/process/find-on-path.js';
import { runCommand } from '../../src/process/run-command.js';

/** The host's Python, found once per build: its interpreter makes the venv, its pip installs into it. */
export interface PythonHost {
  /** The real interpreter (`sys.executable`), so later steps skip a launcher such as pyenv's shim. */
  executable: string;
  /** `sys.version` and the platform tag: what compiled wheels depend on. */
  version: string;
  platform: string;
  pipVersion: string;
  /** The script `pip --python` re-executes itself with under another interpreter, run directly to skip a pip start-up. */
  pipRunner: string;
  /** Set when what HOP3_PYTHON/python3 names is a launcher (pyenv's shim) in front of `executable`: each build pays its start. */
  launcher?: string;
}

const Probe = z.object({ executable: z.string().min(1), version: z.string(), platform: z.string(), pip: z.string().nullable(), pipDir: z.string().nullable() });

const PROBE = `
import json, os, sys, sysconfig
try:
    import pip
    pip_version, pip_dir = pip.__version__, os.path.dirname(pip.__file__)
except ImportError:
    pip_version = pip_dir = None
print(json.dumps({"executable": sys.executable, "version": sys.version, "platform": sysconfig.get_platform(), "pip": pip_version, "pipDir": pip_dir}))
`;

const PIP_HINT = 'Install pip for the host python3 (Debian: apt-get install python3-pip), version 22.3 or newer; hop3 creates venvs without pip and installs into them with the host\'s.';

/** `HOP3_PYTHON` (default python3): what it runs as, and its pip. */
export async function findPython(env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<PythonHost> {
  const python3 = env.HOP3_PYTHON || 'python3';
  const result = await runCommand(python3, ['-c', PROBE], { env, ...(signal ? { signal } : {}) });
  if (result.failed) {
    throw new Hop3Error('BUILD_PYTHON_MISSING', `Cannot run ${python3}: ${result.reason}`, {
      hint: 'Install python3 (Debian: apt-get install python3 python3-pip), or set HOP3_PYTHON to the interpreter to build with.',
      command: result.command,
      ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
      outputTail: tail(result.all),
    });
  }
  let probe: z.infer<typeof Probe>;
  try {
    probe = Probe.parse(JSON.parse(result.stdout.trim().split('\n').at(-1) ?? ''));
  } catch (error) {
    throw new Hop3Error('BUILD_PYTHON_MISSING', `${python3} did not answer like a Python 3 interpreter.`, { cause: error, outputTail: tail(result.all), hint: 'Point HOP3_PYTHON (or python3 on PATH) at a Python 3 interpreter.' });
  }
  if (probe.pip === null || probe.pipDir === null) {
    throw new Hop3Error('BUILD_PYTHON_PIP_MISSING', `${python3}${probe.executable === python3 ? '' : ` (${probe.executable})`} has no pip.`, { hint: PIP_HINT });
  }
  const pipRunner = path.join(probe.pipDir, '__pip-runner__.py');
  if (!existsSync(pipRunner)) {
    throw new Hop3Error('BUILD_PYTHON_PIP_MISSING', `The pip of ${probe.executable} (${probe.pip}) cannot install into another environment (pip --python needs 22.3 or newer).`, { hint: PIP_HINT });
  }
  const named = await findOnPath(python3, env);
  const launcher = named && (await realpath(named).catch(() => named)) !== (await realpath(probe.executable).catch(() => probe.executable)) && (await isScript(named)) ? named : undefined;
  return { executable: probe.executable, version: probe.version, platform: probe.platform, pipVersion: probe.pip, pipRunner, ...(launcher ? { launcher } : {}) };
}

/** A `#!` script rather than the interpreter itself (a symlink to python3.11 is not a launcher). */
async function isScript(file: string): Promise<boolean> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return false;
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer.toString('latin1') === '#!';
  } finally {
    await handle.close();
  }
}
