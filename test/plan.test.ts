import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { logLines, ROOT, Sandbox } from './helpers/sandbox.js';

/** Registries that answer nothing: a plan that fetched anything would fail or hang here. */
const OFFLINE = { npm_config_registry: 'http://127.0.0.1:9/', PIP_INDEX_URL: 'http://127.0.0.1:9/simple', HOP3_NIX_OFFLINE: '1' };
/** Fixture dirs that are not apps: the plan refuses them as the build does. */
const NOT_APPS: Record<string, string> = { 'wheel-src': 'the source of python-web\'s wheel' };

const FIXTURES = (await readdir(path.join(ROOT, 'fixtures'), { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
const APPS = FIXTURES.filter((name) => !NOT_APPS[name]);

/** Every path under a dir with its size: what a plan must leave as it found it. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name))).sort();
}

/** The summary a plan opens with, as the build prints it: from `toolchain` to the last step. */
function summaryOf(planText: string): string[] {
  const lines = planText.split('\n');
  const start = lines.findIndex((line) => line.startsWith('toolchain  '));
  const end = lines.findIndex((line, i) => i > start && !line.startsWith(' ') && !/^(builder|steps) /.test(line));
  return lines.slice(start, end);
}

describe('hop3 plan', () => {
  it('plans every fixture app without building, writing or fetching anything, as text and as JSON', async () => {
    expect(APPS.length).toBeGreaterThan(10);
    await using sandbox = await Sandbox.create();
    for (const fixture of APPS) {
      const app = await sandbox.fixture(fixture);
      const before = await tree(app);
      const text = await sandbox.hop3(['plan', app], { env: OFFLINE });
      expect(text.exitCode, `${fixture}: ${text.all}`).toBe(0);
      expect(text.stdout).toMatch(new RegExp(`^plan for ${fixture} \\(.*\\): nothing is built or fetched\\nfiles      .+\\ntoolchain  \\w+ \\(.+\\)\\nbuilder    \\w+ \\(.+\\)\\nsteps      1\\. `, 'm'));
      expect(text.stdout).toContain('runtime (value <- source):');
      expect(text.stdout).toMatch(/^host \(/m);

      const json = await sandbox.hop3(['plan', app, '--json'], { env: OFFLINE });
      expect(json.exitCode, `${fixture}: ${json.all}`).toBe(0);
      const plan = JSON.parse(json.stdout);
      expect(Object.keys(plan)).toEqual(['plan_version', 'app', 'source_dir', 'files', 'toolchain', 'builder', 'steps', 'runtime', 'provenance', 'procfile', 'hop3_toml', 'warnings', 'host', 'missing']);
      expect(plan).toMatchObject({ plan_version: 1, app: fixture, source_dir: app, toolchain: { name: expect.any(String), reason: expect.any(String) } });
      expect(plan.steps[0].run, fixture).toMatch(/^check that this host has the system packages|^copy the source|^docker build|^nix build|^fetch/);
      expect(plan.host[0]).toMatchObject({ name: `builder ${plan.builder.name}` });
      expect(plan.missing).toEqual(plan.host.filter((check: { usable: boolean }) => !check.usable).map((check: { name: string }) => check.name));
      for (const [field, origin] of Object.entries(plan.provenance)) expect(['default', 'toolchain', 'Procfile', 'hop3.toml'], `${fixture} ${field}`).toContain((origin as { source: string }).source);
      expect(await tree(app), `${fixture}: the plan left the source as it was`).toEqual(before);
    }
    expect(existsSync(sandbox.home), 'nothing under HOP3_HOME: no build dir, no state').toBe(false);
  });

  it.each(Object.keys(NOT_APPS))('refuses %s, which is not an app, with the same error as the build', async (fixture) => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture(fixture);
    const [plan, build] = [await sandbox.hop3(['plan', app]), await sandbox.hop3(['build', app])];
    expect(plan.exitCode).toBe(1);
    expect(plan.stderr).toContain('[BUILD_NO_TOOLCHAIN]');
    expect(plan.stderr).toBe(build.stderr);
  });

  it('lists each key of a full hop3.toml as acted or declared; the declared ones are what the build warns about', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('hop3-full-toml');
    const plan = JSON.parse((await sandbox.hop3(['plan', app, '--json'], { env: OFFLINE })).stdout);
    const toml = parseToml(await readFile(path.join(app, 'hop3.toml'), 'utf8'));
    const written = Object.entries(toml).flatMap(([section, value]) =>
      Array.isArray(value) ? value.map((_, i) => `[[${section}]] #${i + 1}`) : Object.keys(value as object).map((key) => `[${section}] ${key}`),
    );
    expect(plan.hop3_toml.map((key: { key: string }) => key.key)).toEqual(written);
    const status = Object.fromEntries(plan.hop3_toml.map((key: { key: string; status: string }) => [key.key, key.status]));
    for (const value of Object.values(status)) expect(['acted', 'declared']).toContain(value);
    expect(status).toMatchObject({ '[build] builder': 'acted', '[run] start': 'acted', '[env] GREETING': 'acted', '[healthcheck] timeout': 'acted', '[metadata] id': 'declared' });
    expect(plan.hop3_toml).toContainEqual(expect.objectContaining({ key: '[[addons]] #1', status: 'declared', as: ['[[addons]] postgres'] }));

    // The labels of the declared keys are, in some order, exactly the keys the build's one warning names.
    const build = await sandbox.hop3(['build', app]);
    expect(build.exitCode, build.all).toBe(0);
    const warning = logLines(build.stderr).find((line) => line.startsWith('warning: hop3.toml: declared, not acted on by hop3: '))!;
    const warned = warning.replace('warning: hop3.toml: declared, not acted on by hop3: ', '').split(', ');
    const declared = plan.hop3_toml.flatMap((key: { as?: string[] }) => key.as ?? []);
    expect([...new Set(declared)].sort()).toEqual([...warned].sort());
    expect(plan.warnings[0]).toBe(warning.replace('warning: ', ''));
  });

  it('plans for --builder docker: the generated Dockerfile, its base image and what the docker builder will not run', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('crash-app'); // static, with [build] before-build and build hooks
    const result = await sandbox.hop3(['plan', app, '--builder', 'docker', '--base-image', 'hop3/base-runtime:bookworm', '--json'], { env: OFFLINE });
    expect(result.exitCode, result.all).toBe(0);
    const plan = JSON.parse(result.stdout);
    expect(plan.builder).toEqual({ name: 'docker', chosen_by: '--builder' });
    expect(plan.steps.slice(0, 2)).toEqual([
      { run: 'docker build -t hop3/crash-app:<build_id> with docker/static.Dockerfile', because: "hop3's static template: the app has no Dockerfile" },
      { run: 'base images: hop3/base-runtime:bookworm', because: 'BASE_IMAGE from --base-image; hop3 never pulls: they must be on the Docker host' },
    ]);
    expect(plan.runtime.working_dir).toBe('/app');
    expect(plan.warnings).toContain('the docker builder does not run build hooks ([build] before-build in hop3.toml; [build] build in hop3.toml); the local builder does');
    const docker = plan.host.find((check: { name: string }) => check.name === 'builder docker');
    expect(docker.usable || Boolean(docker.hint), 'usable, or says what to install').toBe(true);
  });

  it('names what each Procfile line is, hook-like names hop3 gives no meaning included', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('procfile-app');
    await writeFile(path.join(app, 'Procfile'), 'web: python3 -m http.server $PORT\nprebuild: echo before\npostdeploy: ./notify.sh\nclock: ./tick.sh\n');
    const plan = JSON.parse((await sandbox.hop3(['plan', app, '--json'])).stdout);
    expect(plan.procfile.map(({ name, line, role }: { name: string; line: number; role: string }) => [line, name, role])).toEqual([
      [1, 'web', 'web'],
      [2, 'prebuild', 'hook'],
      [3, 'postdeploy', 'worker'],
      [4, 'clock', 'worker'],
    ]);
    expect(plan.procfile[2].note).toMatch(/^ordinary worker: .*postdeploy.* means nothing to hop3 yet$/);
    expect(plan.steps[1]).toEqual({ run: 'echo before', because: 'prebuild: in Procfile' });
  });

  it('refuses a bad hop3.toml with the same coded error as the build', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('override-app');
    for (const [toml, code] of [
      ['[run]\nstrat = "python3 serve.py"\n', 'CONFIG_TOML_INVALID'],
      ['[run\nstart = 1\n', 'CONFIG_TOML_SYNTAX'],
      ['[env]\nPORT = "80"\n', 'CONFIG_TOML_INVALID'],
    ] as const) {
      await writeFile(path.join(app, 'hop3.toml'), toml);
      const [plan, build] = [await sandbox.hop3(['plan', app, '--json']), await sandbox.hop3(['build', app, '--json'])];
      expect(plan.stderr, toml).toContain(`[${code}]`);
      expect([plan.exitCode, plan.stdout, plan.stderr]).toEqual([build.exitCode, '', build.stderr]);
    }
    expect(existsSync(path.join(sandbox.home, 'apps', 'override-app', 'builds'))).toBe(false);
  });

  it('hop3 build opens with the summary hop3 plan shows, also with --quiet and --json', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('crash-app');
    const summary = summaryOf((await sandbox.hop3(['plan', app])).stdout);
    expect(summary.length).toBeGreaterThan(3);
    const build = await sandbox.hop3(['build', app, '--quiet', '--json']);
    expect(build.exitCode, build.all).toBe(0);
    expect(JSON.parse(build.stdout).kind).toBe('static');
    const lines = logLines(build.stderr);
    const at = lines.indexOf(`==> building crash-app from ${app}`);
    expect(lines.slice(at + 1, at + 1 + summary.length)).toEqual(summary.map((line) => `  ${line}`));
  });
});
