import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEPENDENCY_FILES_MARKER, withDependencyLayer } from '../../builders/docker/dependency-layer.js';
import { listSourceTree } from '../../builders/source-tree.js';
import { nodeDependencyFiles, pythonDependencyFiles } from '../../builders/toolchains/dependency-files.js';

const root = await mkdtemp(path.join(os.tmpdir(), 'hop3-depfiles-'));
afterAll(() => rm(root, { recursive: true, force: true }));
let apps = 0;

async function app(files: Record<string, string>): Promise<string> {
  const dir = path.join(root, `app-${++apps}`);
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return dir;
}

describe('what a Python install reads', () => {
  it('is requirements.txt and the files and folders it names inside the app', async () => {
    const requirements = [
      '# comment -r ignored.txt',
      '--no-index',
      '--find-links ./wheels',
      '-r reqs/base.txt',
      '--constraint=constraints.txt',
      'requests==2.0 --hash=sha256:abc',
      'localpkg @ file:./vendor/localpkg',
      './dist/tool-1.0-py3-none-any.whl',
      '-e libs/editable',
      'remote @ https://example.com/x/remote.tar.gz',
      'git+https://user@example.com/repo.git#egg=repo',
      '-i https://pypi.example/simple',
      '../outside-the-app',
      'vendor/localpkg/sub',
    ].join('\n');
    const dir = await app({
      'requirements.txt': requirements,
      'reqs/base.txt': '-r ../reqs/more.txt\nflask\n',
      'reqs/more.txt': '--find-links=../wheels\n',
      'constraints.txt': '',
      'wheels/a-1.0-py3-none-any.whl': '',
      'vendor/localpkg/setup.py': '',
      'vendor/localpkg/sub/x.py': '',
      'dist/tool-1.0-py3-none-any.whl': '',
      'libs/editable/pyproject.toml': '',
      'app.py': '',
    });
    await mkdir(path.join(dir, '..', 'outside-the-app'), { recursive: true });
    expect(await pythonDependencyFiles(dir)).toEqual(['constraints.txt', 'dist/tool-1.0-py3-none-any.whl', 'libs/editable', 'reqs/base.txt', 'reqs/more.txt', 'requirements.txt', 'vendor/localpkg', 'wheels']);
  });

  it.each([
    ['the app itself is a requirement', '-e .\n'],
    ['a bare `.`', 'flask\n.\n'],
    ['a path built from a variable pip expands', '--find-links ${WHEELS}\n'],
  ])('is everything when %s', async (_title, requirements) => {
    expect(await pythonDependencyFiles(await app({ 'requirements.txt': requirements }))).toBeUndefined();
  });

  it('is everything for a pyproject.toml app (pip install .)', async () => {
    expect(await pythonDependencyFiles(await app({ 'pyproject.toml': '[project]\nname = "x"\n' }))).toBeUndefined();
  });
});

describe('what npm ci reads', () => {
  it('is package.json, the lockfile, .npmrc and local packages (fixtures/node-web)', async () => {
    const dir = path.join(root, 'node-web');
    await cp(path.join(import.meta.dirname, '../../fixtures/node-web'), dir, { recursive: true });
    await writeFile(path.join(dir, '.npmrc'), 'fund=false\n');
    expect(await nodeDependencyFiles(dir)).toEqual(['.npmrc', 'package-lock.json', 'package.json', 'vendor/greeting']);
  });

  it('follows file:, link: and relative specs and local packages in the lockfile, not registry or git ones', async () => {
    const pkg = { dependencies: { a: 'file:libs/a', b: 'link:./libs/b', c: '../outside', d: 'user/repo', e: '^1.0.0', f: 'file:vendor/f-1.0.0.tgz' }, overrides: { g: { h: './libs/h' } } };
    const lock = { packages: { '': {}, 'node_modules/a': { resolved: 'libs/a', link: true }, 'libs/a': {}, 'libs/shared': {}, 'libs/a/node_modules/x': {}, 'node_modules/t': { resolved: 'file:vendor/t.tgz' } } };
    const dir = await app({ 'package.json': JSON.stringify(pkg), 'package-lock.json': JSON.stringify(lock) });
    expect(await nodeDependencyFiles(dir)).toEqual(['libs/a', 'libs/b', 'libs/h', 'libs/shared', 'package-lock.json', 'package.json', 'vendor/f-1.0.0.tgz', 'vendor/t.tgz']);
  });

  it.each([
    ['a postinstall script', { scripts: { postinstall: 'node setup.js' } }, {}],
    ['a prepare script', { scripts: { prepare: 'tsc' } }, {}],
    ['workspaces', { workspaces: ['packages/*'] }, {}],
    ['a native addon of its own (binding.gyp)', {}, { 'binding.gyp': '{}' }],
    ['the app as a file: dependency of itself', { dependencies: { me: 'file:.' } }, {}],
  ])('is everything with %s', async (_title, pkg, files) => {
    expect(await nodeDependencyFiles(await app({ 'package.json': JSON.stringify(pkg), ...files }))).toBeUndefined();
  });
});

describe('the dependency layer of a generated Dockerfile', () => {
  const template = `FROM x\nWORKDIR /app\n${DEPENDENCY_FILES_MARKER}\nRUN install\nCOPY . /app\n`;

  it('copies the dependency files before the install: files by folder, then each folder', async () => {
    const dir = await app({ 'requirements.txt': '', 'reqs/a.txt': '', 'reqs/b.txt': '', 'wheels/x.whl': '', 'my dir/p.txt': '', 'app.py': '' });
    const layer = withDependencyLayer(template, ['my dir', 'reqs/a.txt', 'reqs/b.txt', 'requirements.txt', 'wheels', 'not-there.txt'], await listSourceTree(dir), '/app');
    expect(layer.text).toBe(
      'FROM x\nWORKDIR /app\nCOPY ["requirements.txt", "/app/"]\nCOPY ["reqs/a.txt", "reqs/b.txt", "/app/reqs/"]\nCOPY ["my dir", "/app/my dir/"]\nCOPY ["wheels", "/app/wheels/"]\nRUN install\nCOPY . /app\n',
    );
    expect(layer.copied).toEqual(['my dir', 'reqs/a.txt', 'reqs/b.txt', 'requirements.txt', 'wheels']);
  });

  it('copies everything first when the toolchain cannot tell, a symlink is among them, or none is in the context', async () => {
    const dir = await app({ 'requirements.txt': '', 'wheels/x.whl': '' });
    await symlink('x.whl', path.join(dir, 'wheels', 'y.whl'));
    const entries = await listSourceTree(dir);
    for (const files of [undefined, ['requirements.txt', 'wheels'], ['gone.txt']]) {
      const layer = withDependencyLayer(template, files, entries, '/app');
      expect(layer.text).toBe('FROM x\nWORKDIR /app\nCOPY . /app\nRUN install\nCOPY . /app\n');
      expect(layer.copied).toBeUndefined();
    }
  });
});
