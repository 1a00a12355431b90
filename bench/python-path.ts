// Both sides of the python figures run the same interpreter: when python3 on PATH is a launcher (pyenv's
// shim, a shell script that takes 0.3 s and more to pick the interpreter), the bench puts the interpreter it
// picks first on PATH for the whole run, and the README header says so.
import { mkdtemp, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findPython } from '../builders/toolchains/python-host.js';

/** Returns a line for the README header when it changed PATH, else undefined. */
export async function skipPythonLauncher(): Promise<string | undefined> {
  const host = await findPython(process.env).catch(() => undefined);
  if (!host?.launcher) return undefined;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-bench-python-'));
  await symlink(host.executable, path.join(dir, 'python3'));
  process.env.PATH = `${dir}:${process.env.PATH ?? ''}`;
  return `python3 is ${host.executable} for hop3 and the raw commands alike (PATH's python3, ${host.launcher}, is a launcher in front of it).`;
}
