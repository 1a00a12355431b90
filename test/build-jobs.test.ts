import { appendFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { logLines, Sandbox } from './helpers/sandbox.js';

interface Outcome {
  app: string;
  result: 'built' | 'reused' | 'failed';
  builder: string;
  started_at: string;
  duration_ms: number;
  artifact_file?: string;
  artifact?: { app_name: string; build_id: string };
  error?: { code: string; message: string };
}

const span = (outcome: Outcome) => {
  const start = Date.parse(outcome.started_at);
  return { start, end: start + outcome.duration_ms };
};

/** `hop3 build --jobs N <dir>…` and `hop3 build <dir of apps>`: several apps at once, real builds. */
describe('hop3 build of several apps', () => {
  it('builds apps in parallel; a broken one fails alone, is in the summary, and the exit code is 1', async () => {
    await using sandbox = await Sandbox.create();
    const procfileApp = await sandbox.fixture('procfile-app');
    const pythonWeb = await sandbox.fixture('python-web');
    const broken = await sandbox.fixture('static-site');
    await writeFile(path.join(broken, 'Procfile'), 'this is not a procfile line\n');
    // A build hook that lasts: procfile-app's build alone takes over 1 s, so a parallel build of python-web overlaps it.
    for (const app of [procfileApp, pythonWeb]) await appendFile(path.join(app, 'Procfile'), '\nprebuild: sleep 1\n');

    const build = await sandbox.hop3(['build', '--jobs', '2', '--json', procfileApp, broken, pythonWeb]);
    expect(build.exitCode, build.all).toBe(1);

    const outcomes = JSON.parse(build.stdout) as Outcome[];
    expect(outcomes.map((o) => [o.app, o.result])).toEqual([
      ['procfile-app', 'built'],
      ['static-site', 'failed'],
      ['python-web', 'built'],
    ]);
    const byApp = Object.fromEntries(outcomes.map((o) => [o.app, o]));
    expect(byApp['static-site']!.error).toMatchObject({ code: 'CONFIG_PROCFILE_INVALID', message: expect.stringContaining('Procfile:1') });
    for (const app of ['procfile-app', 'python-web']) {
      const outcome = byApp[app]!;
      expect(outcome.artifact!.app_name).toBe(app);
      const saved = JSON.parse(await readFile(outcome.artifact_file!, 'utf8'));
      expect(saved.build_id).toBe(outcome.artifact!.build_id);
    }

    // Two builds ran at the same time: their spans intersect.
    const a = span(byApp['procfile-app']!);
    const b = span(byApp['python-web']!);
    expect(Math.max(a.start, b.start), JSON.stringify({ a, b })).toBeLessThan(Math.min(a.end, b.end));

    // Lines carry the time, then their app's label, aligned on the longest name; the summary ends stderr.
    const lines = build.stderr.split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^\d{2}:\d{2}:\d{2}\.\d{3} \[python-web\]   ==> creating virtualenv\b/));
    expect(lines).toContainEqual(expect.stringMatching(/^\d{2}:\d{2}:\d{2}\.\d{3} \[static-site\]  hop3: Procfile:1: .*\[CONFIG_PROCFILE_INVALID\]$/));
    const summary = lines.slice(lines.findIndex((line) => line.startsWith('app ')));
    expect(summary[0]).toMatch(/^app\s+builder\s+result\s+build id \/ error\s+time$/);
    expect(summary[1]).toMatch(new RegExp(`^procfile-app\\s+local\\s+built\\s+${byApp['procfile-app']!.artifact!.build_id}\\s+\\d+\\.\\d s$`));
    expect(summary[2]).toMatch(/^static-site\s+local\s+failed\s+CONFIG_PROCFILE_INVALID\s+\d+\.\d s$/);
    expect(summary[4]).toBe('2 built, 1 failed: static-site');
  });

  it('builds every app of a directory of apps, skipping subdirs that are no app', async () => {
    await using sandbox = await Sandbox.create();
    await sandbox.fixture('procfile-app');
    await sandbox.fixture('static-site');
    const apps = path.join(sandbox.dir, 'apps');
    await mkdir(path.join(apps, 'docs'));
    await writeFile(path.join(apps, 'docs', 'notes.txt'), 'not an app\n');

    const build = await sandbox.hop3(['build', apps]);
    expect(build.exitCode, build.all).toBe(0);
    expect(logLines(build.stderr)[0]).toMatch(/^==> building 2 apps, \d at a time \(apps found in .*\/apps\): procfile-app, static-site$/);
    expect(build.stderr.split('\n').at(-1)).toBe('2 built');
    for (const app of ['procfile-app', 'static-site']) {
      expect((await stat(path.join(sandbox.home, 'apps', app, 'BUILD_ARTIFACT.json'))).isFile()).toBe(true);
    }
    const again = await sandbox.hop3(['build', apps]);
    expect(again.exitCode, again.all).toBe(0);
    expect(again.stderr.split('\n').at(-1)).toBe('2 reused'); // unchanged sources: nothing built again
  });

  it('refuses up front what cannot apply to several apps: --output, --name, one app name twice, --jobs 0', async () => {
    await using sandbox = await Sandbox.create();
    const one = await sandbox.fixture('procfile-app', 'one/web');
    const two = await sandbox.fixture('static-site', 'two/web');
    const other = await sandbox.fixture('static-site');

    const output = await sandbox.hop3(['build', one, other, '--output', path.join(sandbox.dir, 'a.json')]);
    expect(output.exitCode).toBe(2);
    expect(output.stderr).toContain('--output is for one app; it cannot be used when building several apps or a directory of apps. [CLI_INVALID_OPTION]');
    const name = await sandbox.hop3(['build', path.join(sandbox.dir, 'apps'), '--name', 'x']);
    expect(name.exitCode).toBe(2);
    expect(name.stderr).toContain('[CLI_INVALID_OPTION]');

    const clash = await sandbox.hop3(['build', one, two]);
    expect(clash.exitCode).toBe(2);
    expect(clash.stderr).toContain(`Several directories would build the same app: web (${one}, ${two}). Nothing was built. [BUILD_DUPLICATE_APP]`);

    const zero = await sandbox.hop3(['build', '--jobs', '0', one]);
    expect(zero.exitCode).toBe(2);
    expect(zero.stderr).toContain('--jobs must be a whole number, at least 1, of at most 15 digits');
    await expect(stat(path.join(sandbox.home, 'apps'))).rejects.toMatchObject({ code: 'ENOENT' }); // nothing was built
  });
});
