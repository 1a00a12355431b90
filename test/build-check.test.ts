import { readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Sandbox } from './helpers/sandbox.js';

/** hop3's temporary HOP3_HOMEs of check builds still in the temp dir: a check must remove its own. */
async function checkHomes(): Promise<string[]> {
  return (await readdir(os.tmpdir())).filter((name) => name.startsWith('hop3-check-'));
}

describe('reproducible local output and hop3 build --check', () => {
  it('two clean builds of the same source in other dirs and HOP3_HOMEs give the same output tree hash (venv included)', async () => {
    await using a = await Sandbox.create();
    // No space in this one: pip writes a venv script's shebang another way for a path with a space, a difference of place, not of time.
    await using b = await Sandbox.create({ home: 'other-home' });
    const hashes: string[] = [];
    for (const sandbox of [a, b]) {
      const app = await sandbox.fixture('python-web', 'repro-py');
      const build = await sandbox.hop3(['build', app, '--json', '--quiet']);
      expect(build.exitCode, build.all).toBe(0);
      const artifact = JSON.parse(build.stdout);
      expect(artifact.location.startsWith(sandbox.home)).toBe(true);
      hashes.push(artifact.metadata.output_hash);
    }
    expect(hashes[0]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(hashes[1]).toBe(hashes[0]);
  });

  it('passes for a reproducible app, with a summary on --json, and leaves the checked build and HOP3_HOME as they were', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('static-site', 'check-ok');
    const first = await sandbox.hop3(['build', app, '--quiet']);
    expect(first.exitCode, first.all).toBe(0);
    const artifactFile = first.stdout.trim();
    const before = await readFile(artifactFile, 'utf8');
    const buildsBefore = await readdir(path.join(sandbox.home, 'apps', 'check-ok', 'builds'));
    const homesBefore = await checkHomes();

    const check = await sandbox.hop3(['build', app, '--check', '--json', '--quiet']);
    expect(check.exitCode, check.all).toBe(0);
    const summary = JSON.parse(check.stdout);
    const artifact = JSON.parse(before);
    expect(summary).toEqual({
      app: 'check-ok',
      builder: 'local',
      build_id: artifact.build_id,
      check_build_id: artifact.build_id,
      reproducible: true,
      compared: 'output tree hash',
      first: artifact.metadata.output_hash,
      second: artifact.metadata.output_hash,
      files: [],
      files_total: 0,
      fields: [],
    });
    expect(check.stderr).toMatch(/reproducible: a second build from scratch has the same output tree hash/);
    expect(await readFile(artifactFile, 'utf8')).toBe(before);
    expect(await readdir(path.join(sandbox.home, 'apps', 'check-ok', 'builds'))).toEqual(buildsBefore);
    expect(await checkHomes()).toEqual(homesBefore);
  });

  it('fails with BUILD_NOT_REPRODUCIBLE naming the file a build hook writes the time into', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('static-site', 'check-stamp');
    await writeFile(path.join(app, 'hop3.toml'), '[build]\nbuild = "date +%s%N > stamp.txt"\n');
    const check = await sandbox.hop3(['build', app, '--check', '--json', '--quiet']);
    expect(check.exitCode, check.all).toBe(1);
    expect(check.stderr).toContain('BUILD_NOT_REPRODUCIBLE');
    expect(check.stderr).toMatch(/Differing files: app\/stamp\.txt\./);
    const summary = JSON.parse(check.stdout);
    expect(summary).toMatchObject({ app: 'check-stamp', builder: 'local', reproducible: false, compared: 'output tree hash', files: ['app/stamp.txt'], files_total: 1, fields: [] });
    expect(summary.first).not.toBe(summary.second);
    // The checked build is still the app's latest, whatever the check found.
    const latest = JSON.parse(await readFile(path.join(sandbox.home, 'apps', 'check-stamp', 'BUILD_ARTIFACT.json'), 'utf8'));
    expect(latest.metadata.output_hash).toBe(summary.first);
  });
});
