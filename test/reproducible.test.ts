import { cp, mkdir, readdir, readFile, utimes } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ROOT, Sandbox } from './helpers/sandbox.js';

const EPOCH = '1700000000';

async function build(sandbox: Sandbox, dir: string, env: NodeJS.ProcessEnv = {}, options: readonly string[] = []) {
  const result = await sandbox.hop3(['build', dir, '--name', 'site', '--quiet', ...options], { env });
  expect(result.exitCode, result.all).toBe(0);
  const file = result.stdout.trim();
  return { file, text: await readFile(file, 'utf8'), artifact: JSON.parse(await readFile(file, 'utf8')) };
}

/** A copy of the static fixture somewhere else, with other mtimes. */
async function copyElsewhere(sandbox: Sandbox, name: string): Promise<string> {
  const dir = path.join(sandbox.dir, name, 'deeper', 'static-site');
  await mkdir(path.dirname(dir), { recursive: true });
  await cp(path.join(ROOT, 'fixtures', 'static-site'), dir, { recursive: true });
  for (const file of await readdir(dir)) await utimes(path.join(dir, file), new Date('2001-01-01'), new Date('2001-01-01'));
  return dir;
}

describe('reproducible local builds', () => {
  it('give the same build_id for the same source in another dir, HOP3_HOME, time and mtimes', async () => {
    await using a = await Sandbox.create();
    await using b = await Sandbox.create({ home: 'other home' });
    const first = await build(a, await a.fixture('static-site'));
    const second = await build(b, await copyElsewhere(b, 'elsewhere'));
    expect(second.artifact.build_id).toBe(first.artifact.build_id);
    expect(first.artifact.build_id).toMatch(/^[0-9a-f]{16}$/);
    expect(first.artifact.metadata.build_key).toBe(`sha256:${first.artifact.build_id}${first.artifact.metadata.build_key.slice(23)}`);
    expect(first.text).not.toContain(a.dir.replace(/\/home$/, '') + '/apps/static-site'); // the source dir is not in the artifact
    expect(first.artifact.metadata.source_dir).toBeUndefined();
  });

  it('with SOURCE_DATE_EPOCH, write byte-identical artifacts from two source dirs into one HOP3_HOME path', async () => {
    await using sandbox = await Sandbox.create();
    const env = { SOURCE_DATE_EPOCH: EPOCH };
    const first = await build(sandbox, await copyElsewhere(sandbox, 'one'), env);
    expect(first.artifact.built_at).toBe('2023-11-14T22:13:20.000Z');
    expect(first.artifact.metadata.built_at_source).toBe('SOURCE_DATE_EPOCH');
    expect(first.artifact.metadata.provenance_inputs).toMatchObject({ source_digest: first.artifact.metadata.source_digest, git: null, command: ['hop3', 'build', '<dir>', '--name', 'site', '--quiet'] });
    // A clean HOP3_HOME at the same path (a CI runner's), the same source elsewhere with other mtimes: the same bytes.
    await execa('rm', ['-rf', sandbox.home]);
    const second = await build(sandbox, await copyElsewhere(sandbox, 'two'), env);
    expect(second.text).toBe(first.text);
    // The artifacts of two HOP3_HOMEs differ only in the paths under HOP3_HOME (the local build's location).
    await using other = await Sandbox.create();
    const third = await build(other, await copyElsewhere(other, 'three'), env);
    expect(third.text.replaceAll(other.home, sandbox.home)).toBe(first.text);

    const same = await sandbox.hop3(['diff', first.file, path.join(sandbox.home, 'apps', 'site', 'BUILD_ARTIFACT.json')]);
    expect(same.exitCode, same.all).toBe(0);
    expect(same.stdout).toContain('are identical');
  });

  it('take built_at from a clean git checkout\'s commit, the clock when it is dirty', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('static-site');
    const git = (...args: string[]) => execa('git', ['-C', app, ...args], { env: { ...process.env, GIT_COMMITTER_DATE: '2020-02-02T02:02:02Z', GIT_AUTHOR_DATE: '2020-02-02T02:02:02Z' } });
    await git('init', '-q');
    await git('add', '.');
    await git('-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'x');
    const commit = (await git('rev-parse', 'HEAD')).stdout.trim();
    const clean = await build(sandbox, app);
    expect(clean.artifact.built_at).toBe('2020-02-02T02:02:02.000Z');
    expect(clean.artifact.metadata.built_at_source).toBe('git-commit');
    expect(clean.artifact.metadata.provenance_inputs.git).toEqual({ commit, dirty: false });

    const withEpoch = await build(sandbox, app, { SOURCE_DATE_EPOCH: EPOCH }, ['--force']); // SOURCE_DATE_EPOCH wins
    expect(withEpoch.artifact.metadata.built_at_source).toBe('SOURCE_DATE_EPOCH');

    await execa('sh', ['-c', 'echo changed > index.html'], { cwd: app });
    const dirty = await build(sandbox, app);
    expect(dirty.artifact.metadata.built_at_source).toBe('clock');
    expect(Math.abs(Date.parse(dirty.artifact.built_at) - Date.now())).toBeLessThan(120_000);
    expect(dirty.artifact.metadata.provenance_inputs.git).toEqual({ commit, dirty: true });

    const bad = await sandbox.hop3(['build', app, '--name', 'site'], { env: { SOURCE_DATE_EPOCH: 'yesterday' } });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('[BUILD_SOURCE_DATE_EPOCH_INVALID]');
  });

  it('keep a forced rebuild in a dir of its own under the same build_id; hop3 diff names what differs', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('static-site');
    const first = await build(sandbox, app, { SOURCE_DATE_EPOCH: EPOCH });
    const forced = await build(sandbox, app, {}, ['--force']);
    const id = first.artifact.build_id;
    expect(forced.artifact.build_id).toBe(id);
    expect([first.artifact.metadata.build_dir, forced.artifact.metadata.build_dir]).toEqual([id, `${id}.2`]);
    expect(forced.artifact.location).toBe(path.join(sandbox.home, 'apps', 'site', 'builds', `${id}.2`));
    expect((await readdir(path.join(sandbox.home, 'apps', 'site', 'builds'))).sort()).toEqual([id, `${id}.2`]);

    const text = await sandbox.hop3(['diff', `site:${id}`, `site:${id}.2`]);
    expect(text.exitCode, text.all).toBe(1);
    expect(text.stdout).toContain(`--- site:${id}\n+++ site:${id}.2\n`);
    expect(text.stdout).toContain('metadata.built_at_source:\n  - "SOURCE_DATE_EPOCH"\n  + "clock"\n');
    expect(text.stdout).toContain('metadata.provenance_inputs.command:');
    expect(text.stdout).not.toContain('build_id:');

    const json = await sandbox.hop3(['diff', first.file, 'site', '--json']);
    expect(json.exitCode, json.all).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ a: first.file, b: 'site', identical: false });
    expect(report.differences.map((d: { field: string }) => d.field)).toEqual([
      'built_at', 'location', 'metadata.build_dir', 'metadata.built_at_source', 'metadata.provenance_inputs.command',
      'runtime.static_paths["/"]', 'runtime.workers.web', 'runtime.working_dir',
    ]);

    await writeIndex(app);
    const changed = await build(sandbox, app);
    const sources = JSON.parse((await sandbox.hop3(['diff', `site:${id}`, 'site', '--json'])).stdout);
    expect(sources.differences.map((d: { field: string }) => d.field)).toEqual(expect.arrayContaining(['build_id', 'location', 'metadata.build_key', 'metadata.provenance_inputs.source_digest', 'metadata.source_digest']));
    expect(changed.artifact.build_id).not.toBe(id);

    const missing = await sandbox.hop3(['diff', 'site@7', `site:${id}`]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('[ARTIFACT_NOT_FOUND]');
    expect(missing.stderr).toContain('site has no release 7');
  });
});

async function writeIndex(app: string): Promise<void> {
  await execa('sh', ['-c', 'echo changed > index.html'], { cwd: app });
}
