import { chmod, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPython } from '../../builders/toolchains/python-host.js';

// The host's real interpreter, behind a launcher script or a plain symlink on PATH.
describe('findPython', () => {
  let dir: string;
  let real: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-python-host-'));
    real = (await execa('python3', ['-c', 'import sys; print(sys.executable)'])).stdout.trim();
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('names a launcher script in front of the interpreter (a pyenv shim), so the build can say how to skip it', async () => {
    await writeFile(path.join(dir, 'python3'), `#!/bin/sh\nexec ${real} "$@"\n`);
    await chmod(path.join(dir, 'python3'), 0o755);
    const host = await findPython({ ...process.env, PATH: `${dir}:${process.env.PATH}` });
    expect(host.launcher).toBe(path.join(dir, 'python3'));
    expect(host.executable).toBe(real);
  });

  it('a symlink to the interpreter, or the interpreter itself, is no launcher', async () => {
    const linked = path.join(dir, 'linked');
    await symlink(real, linked);
    expect((await findPython({ ...process.env, HOP3_PYTHON: linked })).launcher).toBeUndefined();
    expect((await findPython({ ...process.env, HOP3_PYTHON: real })).launcher).toBeUndefined();
  });
});
