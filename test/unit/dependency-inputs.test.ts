import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dependencyKey } from '../../builders/local/dependency-reuse.js';
import { InputDigests, withoutCredentials } from '../../builders/toolchains/input-digests.js';
import { requirementRefs, requirementTokens } from '../../builders/toolchains/requirement-refs.js';

describe('dependency inputs: what decides whether a build reuses an older build\'s dependencies', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-deps-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function files(entries: Record<string, string>) {
    for (const [file, text] of Object.entries(entries)) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), text);
    }
  }
  const digestOf = async (file: string) => {
    const inputs = new InputDigests(dir);
    await inputs.content(file);
    return inputs.digests;
  };

  it('the key depends on every digest, not on their order', () => {
    const a = dependencyKey('python', { 'requirements.txt': '1', python3: '2' });
    expect(dependencyKey('python', { python3: '2', 'requirements.txt': '1' })).toBe(a);
    expect(dependencyKey('python', { 'requirements.txt': '1', python3: '3' })).not.toBe(a);
    expect(dependencyKey('python', { 'requirements.txt': '1' })).not.toBe(a);
    expect(dependencyKey('node', { 'requirements.txt': '1', python3: '2' })).not.toBe(a);
  });

  it('a folder counts by content, names and exec bits, not by what installs and runs leave in it', async () => {
    await files({ 'wheels/a.whl': 'A', 'wheels/sub/b.whl': 'B' });
    const before = await digestOf('wheels');
    expect(Object.keys(before)).toEqual(['wheels']);
    await files({ 'wheels/__pycache__/x.pyc': 'junk', 'wheels/node_modules/y': 'junk', 'wheels/.git/HEAD': 'junk' });
    expect(await digestOf('wheels')).toEqual(before);
    await files({ 'wheels/sub/b.whl': 'B2' });
    expect(await digestOf('wheels')).not.toEqual(before);
    await files({ 'wheels/sub/b.whl': 'B' });
    expect(await digestOf('wheels')).toEqual(before);
    await files({ 'wheels/c.whl': '' });
    expect(await digestOf('wheels')).not.toEqual(before);
  });

  it('a missing file is an input too: adding it changes the digest', async () => {
    const missing = await digestOf('.npmrc');
    await files({ '.npmrc': '' });
    expect(await digestOf('.npmrc')).not.toEqual(missing);
  });

  it('env: only the given prefixes, never credentials, URLs without user:password, values never in clear', () => {
    const inputs = new InputDigests(dir);
    inputs.env({ PIP_INDEX_URL: 'https://me:hunter2@pypi.example/simple', pip_no_index: '1', PATH: '/bin', PIP_PASSWORD: 'x', npm_config__authToken: 't', HOME: '/root' }, ['PIP_', 'npm_config_']);
    expect(Object.keys(inputs.digests).sort()).toEqual(['env PIP_INDEX_URL', 'env pip_no_index']);
    expect(JSON.stringify(inputs.digests)).not.toContain('hunter2');
    const plain = new InputDigests(dir);
    plain.env({ PIP_INDEX_URL: 'https://pypi.example/simple' }, ['PIP_']);
    expect(plain.digests['env PIP_INDEX_URL']).toBe(inputs.digests['env PIP_INDEX_URL']);
    expect(withoutCredentials('--index-url https://u:p@a/ --extra https://b/')).toBe('--index-url https://a/ --extra https://b/');
  });

  it('reads pip requirement syntax: comments, continuations, --opt=value, -rfile', () => {
    expect(requirementTokens('# top\nflask>=3 # web\n--find-links=./w \\\n  -rmore.txt\n-e .\n')).toEqual(['flask>=3', '--find-links', './w', '-r', 'more.txt', '-e', '.']);
  });

  it('finds the local paths a requirements file names, through -r and -c, relative to each file', async () => {
    await files({
      'requirements.txt': '--no-index\n--find-links wheels\n-r reqs/base.txt\n./libs/tool-1.0.tar.gz\nflask>=3\nhttps://example.org/x.whl\n-i https://pypi.example/simple\n-e .\n',
      'reqs/base.txt': '-c constraints.txt\n-f ../more-wheels\nlocal @ file:../vendor/local\n',
      'reqs/constraints.txt': 'flask<4\n',
      'wheels/a.whl': '',
      'more-wheels/b.whl': '',
      'libs/tool-1.0.tar.gz': '',
      'vendor/local/pyproject.toml': '',
      'pyproject.toml': '',
    });
    const refs = await requirementRefs(dir, 'requirements.txt');
    const rel = (list: string[]) => list.map((file) => path.relative(dir, file) || '.');
    expect(rel(refs.files)).toEqual(['reqs/base.txt', 'reqs/constraints.txt']);
    expect(rel(refs.trees).sort()).toEqual(['libs/tool-1.0.tar.gz', 'more-wheels', 'vendor/local', 'wheels']);
    expect(rel(refs.editables)).toEqual(['.']);
  });

  it('ignores what does not exist and survives a cycle of -r includes', async () => {
    await files({ 'requirements.txt': '-r other.txt\n--find-links ./nowhere\n', 'other.txt': '-r requirements.txt\nrequests\n' });
    const refs = await requirementRefs(dir, 'requirements.txt');
    expect(refs.files.map((file) => path.basename(file))).toEqual(['other.txt', 'requirements.txt']);
    expect(refs.trees).toEqual([]);
  });
});
