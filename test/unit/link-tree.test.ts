import { chmod, lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { linkTree } from '../../builders/local/link-tree.js';

describe('linkTree: an older build\'s dependencies shared with a new build, never changed', () => {
  let dir: string;
  let oldRoot: string;
  let newRoot: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-link-'));
    oldRoot = path.join(dir, 'builds', 'A', 'app');
    newRoot = path.join(dir, 'builds', 'B', 'app');
    await mkdir(oldRoot, { recursive: true });
    await mkdir(newRoot, { recursive: true });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function files(root: string, entries: Record<string, string>) {
    for (const [file, text] of Object.entries(entries)) {
      await mkdir(path.dirname(path.join(root, file)), { recursive: true });
      await writeFile(path.join(root, file), text);
    }
  }
  const link = (rel: string, options: { relocate?: (rel: string) => boolean; copy?: (rel: string) => boolean } = {}) =>
    linkTree(path.join(oldRoot, rel), path.join(newRoot, rel), { rel, oldRoot, newRoot, ...options });

  it('hard-links files, makes new directories with the same modes, recreates relative symlinks', async () => {
    await files(oldRoot, { 'deps/pkg/a.js': 'a', 'deps/pkg/sub/b.js': 'b' });
    await chmod(path.join(oldRoot, 'deps/pkg/a.js'), 0o751);
    await chmod(path.join(oldRoot, 'deps/pkg/sub'), 0o550);
    await symlink('../pkg/a.js', path.join(oldRoot, 'deps/alias'));
    await link('deps');
    const [before, after] = [await stat(path.join(oldRoot, 'deps/pkg/a.js')), await stat(path.join(newRoot, 'deps/pkg/a.js'))];
    expect(after.ino).toBe(before.ino);
    expect(after.nlink).toBe(2);
    expect((await stat(path.join(newRoot, 'deps/pkg/sub'))).mode & 0o7777).toBe(0o550);
    expect((await stat(path.join(newRoot, 'deps/pkg/sub'))).ino).not.toBe((await stat(path.join(oldRoot, 'deps/pkg/sub'))).ino);
    expect(await readFile(path.join(newRoot, 'deps/pkg/sub/b.js'), 'utf8')).toBe('b');
    expect(await readlink(path.join(newRoot, 'deps/alias'))).toBe('../pkg/a.js');
    for (const root of [oldRoot, newRoot]) await chmod(path.join(root, 'deps/pkg/sub'), 0o750); // so the temp dir can be removed
  });

  it('writes files that name the old root anew, with the new root, and leaves the old ones as they were', async () => {
    const shebang = `#!${oldRoot}/.venv/bin/python\nprint(1)\n`;
    await files(oldRoot, { '.venv/bin/tool': shebang, '.venv/bin/plain': 'no path here', '.venv/lib/big.py': `"${oldRoot}"` });
    await chmod(path.join(oldRoot, '.venv/bin/tool'), 0o755);
    await link('.venv', { relocate: (rel) => rel.startsWith('.venv/bin/') });
    expect(await readFile(path.join(newRoot, '.venv/bin/tool'), 'utf8')).toBe(`#!${newRoot}/.venv/bin/python\nprint(1)\n`);
    expect((await stat(path.join(newRoot, '.venv/bin/tool'))).mode & 0o7777).toBe(0o755);
    expect(await readFile(path.join(oldRoot, '.venv/bin/tool'), 'utf8')).toBe(shebang);
    expect((await stat(path.join(oldRoot, '.venv/bin/tool'))).nlink).toBe(1);
    // Asked about but naming nothing: linked. Not asked about: linked as it is.
    expect((await stat(path.join(newRoot, '.venv/bin/plain'))).ino).toBe((await stat(path.join(oldRoot, '.venv/bin/plain'))).ino);
    expect((await stat(path.join(newRoot, '.venv/lib/big.py'))).ino).toBe((await stat(path.join(oldRoot, '.venv/lib/big.py'))).ino);
  });

  it('retargets absolute symlinks into the old root, keeps others', async () => {
    await files(oldRoot, { 'node_modules/x/index.js': '' });
    await symlink(path.join(oldRoot, 'vendor/x'), path.join(oldRoot, 'node_modules/abs'));
    await symlink('/usr/bin/env', path.join(oldRoot, 'node_modules/outside'));
    await link('node_modules');
    expect(await readlink(path.join(newRoot, 'node_modules/abs'))).toBe(path.join(newRoot, 'vendor/x'));
    expect(await readlink(path.join(newRoot, 'node_modules/outside'))).toBe('/usr/bin/env');
  });

  it('copies what build steps write into, so a write there cannot reach the older build', async () => {
    await files(oldRoot, { 'node_modules/.cache/babel/x.json': 'cache', 'node_modules/.package-lock.json': '{}', 'node_modules/pkg/index.js': '' });
    await link('node_modules', { copy: (rel) => /^node_modules\/\.(?!bin(\/|$))/.test(rel) });
    for (const file of ['.cache/babel/x.json', '.package-lock.json']) {
      const copy = path.join(newRoot, 'node_modules', file);
      expect((await stat(copy)).ino, file).not.toBe((await stat(path.join(oldRoot, 'node_modules', file))).ino);
      await writeFile(copy, 'rewritten in place');
      expect(await readFile(path.join(oldRoot, 'node_modules', file), 'utf8')).not.toBe('rewritten in place');
    }
    expect((await stat(path.join(newRoot, 'node_modules/pkg/index.js'))).ino).toBe((await stat(path.join(oldRoot, 'node_modules/pkg/index.js'))).ino);
  });

  it('refuses to link over an existing tree', async () => {
    await files(oldRoot, { 'node_modules/a': '' });
    await files(newRoot, { 'node_modules/b': '' });
    await expect(link('node_modules')).rejects.toMatchObject({ code: 'EEXIST' });
    expect((await lstat(path.join(newRoot, 'node_modules/b'))).isFile()).toBe(true);
  });
});
