import { createHash } from 'node:crypto';
import { access, lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, logLines, Sandbox } from './helpers/sandbox.js';

const MY_TOKEN = 's3cr3t-env-5b1e';
const FILE_TOKEN = 'f1l3-s3cr3t-90ad\n';
const OTHER = 'v4r-s3cr3t-c2d7';
const KEY = '-----BEGIN TEST KEY-----\nk3y-l1ne-one-8f2e\nk3y-l1ne-two-41c9\n-----END TEST KEY-----\n';
/** Every value (and line of a multi-line value) that must never show up anywhere. */
const NEEDLES = [MY_TOKEN, FILE_TOKEN.trim(), OTHER, 'k3y-l1ne-one-8f2e', 'k3y-l1ne-two-41c9'];

/** Hooks compare digests, so that hop3.toml (copied into the build dir) holds no secret itself. */
const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);
const digestOf = (expr: string) => `$(printf %s "${expr}" | sha256sum | cut -c1-16)`;
const toml = (lines: Record<string, string>) => `${Object.entries(lines).map(([k, v]) => `${k} = ${v}`).join('\n')}\n`;

/** Files under `dir` (symlinks not followed) holding any needle, as paths relative to `dir`. */
async function filesHolding(dir: string, needles: readonly string[]): Promise<string[]> {
  const hits: string[] = [];
  for (const entry of await readdir(dir, { recursive: true })) {
    const file = path.join(dir, entry);
    if (!(await lstat(file)).isFile()) continue;
    const text = await readFile(file, 'latin1');
    if (needles.some((needle) => text.includes(needle))) hits.push(entry);
  }
  return hits;
}

const exists = (file: string) => access(file).then(() => true, () => false);

async function secretsApp(sandbox: Sandbox, name: string, build: string[]): Promise<string> {
  const dir = await sandbox.fixture('procfile-app', name);
  await writeFile(path.join(dir, 'hop3.toml'), `[build]\nsecrets = ["MY_TOKEN"]\n${toml({ build: JSON.stringify(build) })}`);
  await writeFile(path.join(dir, 'Procfile'), 'web: echo "worker sees [$HOP3_SECRETS_DIR][$FILE_TOKEN][$OTHER]"; exec python3 -m http.server "$PORT" --bind "$BIND_ADDRESS" --directory public\n');
  return dir;
}

/** The sandbox's env for builds with secrets: MY_TOKEN and OTHER_SRC exported, and a TMPDIR of its own to prove nothing is left there. */
async function secretEnv(sandbox: Sandbox): Promise<NodeJS.ProcessEnv> {
  const tmp = path.join(sandbox.dir, 'tmp');
  await mkdir(tmp, { recursive: true });
  return { MY_TOKEN, OTHER_SRC: OTHER, TMPDIR: tmp };
}

describe('build secrets: build steps get them, nothing hop3 keeps or prints holds them', () => {
  it('local build and deploy: hooks read $NAME and $HOP3_SECRETS_DIR/NAME; output masks them; artifact, HOP3_HOME, logs and workers never see them', async () => {
    await using sandbox = await Sandbox.create();
    const app = await secretsApp(sandbox, 'secret-app', [
      `test "${digestOf('$MY_TOKEN')}" = ${digest(MY_TOKEN)} && echo "token is $MY_TOKEN"`,
      `test "${digestOf('$FILE_TOKEN')}" = ${digest(FILE_TOKEN.trim())} && test "$(sha256sum < "$HOP3_SECRETS_DIR/FILE_TOKEN" | cut -c1-16)" = ${digest(FILE_TOKEN)} && echo "file token is $FILE_TOKEN, file holds $(cat "$HOP3_SECRETS_DIR/FILE_TOKEN")"`,
      'echo "other is $OTHER"; echo "secrets dir $HOP3_SECRETS_DIR"; stat -c "mode %a %n" "$HOP3_SECRETS_DIR" "$HOP3_SECRETS_DIR"/*',
    ]);
    const tokenFile = path.join(sandbox.dir, 'file-token.txt');
    await writeFile(tokenFile, FILE_TOKEN);
    const env = await secretEnv(sandbox);
    const secretArgs = ['--secret', `id=FILE_TOKEN,src=${tokenFile}`, '--secret', 'id=OTHER,env=OTHER_SRC'];
    const output = path.join(sandbox.dir, 'secret-app.json');

    const build = await sandbox.hop3(['build', app, '--output', output, ...secretArgs], { env });
    expect(build.exitCode, build.all).toBe(0);
    expect(build.stderr).toContain('    token is ***\n');
    expect(build.stderr).toContain('    file token is ***, file holds ***\n');
    expect(build.stderr).toContain('    other is ***\n');
    const secretsDir = /^ {4}secrets dir (\S+)$/m.exec(logLines(build.stderr).join('\n'))![1]!;
    expect(path.dirname(secretsDir)).toBe(env.TMPDIR);
    expect(build.stderr).toContain(`mode 700 ${secretsDir}\n`);
    for (const id of ['FILE_TOKEN', 'MY_TOKEN', 'OTHER']) expect(build.stderr).toContain(`mode 600 ${secretsDir}/${id}\n`);
    expect(await readdir(env.TMPDIR!)).toEqual([]); // removed after the build

    const port = await freePort();
    const deploy = await sandbox.hop3(['deploy', app, '--port', String(port), '--force', ...secretArgs], { env }); // built again: the deploy's own build output is masked too
    expect(deploy.exitCode, deploy.all).toBe(0);
    expect(deploy.stderr).toContain('    token is ***\n');
    const logs = await sandbox.hop3(['logs', 'secret-app']);
    expect(logs.stdout).toContain('worker sees [][][]'); // build steps only: hop3 hands nothing to workers
    expect((await sandbox.hop3(['stop', 'secret-app'])).exitCode).toBe(0);

    for (const text of [build.all, deploy.all, logs.all, await readFile(output, 'utf8')]) for (const needle of NEEDLES) expect(text).not.toContain(needle);
    expect(await filesHolding(sandbox.home, NEEDLES)).toEqual([]);
    const builds = await readdir(path.join(sandbox.home, 'apps', 'secret-app', 'builds'));
    expect(builds).toHaveLength(2); // the grep above covered both build dirs and their app copies
    expect(await readdir(env.TMPDIR!)).toEqual([]);
  });

  it('a failing build hook: the error output masks every secret (each line of a multi-line one too), with or without HOP3_DEBUG', async () => {
    await using sandbox = await Sandbox.create();
    const app = await secretsApp(sandbox, 'secret-fail', ['echo "leak: $MY_TOKEN"; cat "$HOP3_SECRETS_DIR/KEY"; echo "key var: $KEY"; exit 3']);
    const keyFile = path.join(sandbox.dir, 'key.pem');
    await writeFile(keyFile, KEY);
    const env = await secretEnv(sandbox);
    for (const debug of ['0', '1']) {
      const build = await sandbox.hop3(['build', app, '--secret', `id=KEY,src=${keyFile}`], { env: { ...env, HOP3_DEBUG: debug } });
      expect(build.exitCode, build.all).toBe(1);
      expect(build.stderr).toContain('[BUILD_HOOK_FAILED]');
      expect(build.stderr).toContain('  | leak: ***\n  | ***\n  | key var: ***\n'); // the whole key at once in the tail
      expect(logLines(build.stderr).join('\n')).toContain('    leak: ***\n    ***\n    ***\n    ***\n    ***\n    key var: ***\n'); // line by line as it ran
      if (debug === '1') expect(build.stderr).toMatch(/^\s+at /m); // the stack is there, masked
      for (const needle of NEEDLES) expect(build.all).not.toContain(needle);
    }
    expect(await filesHolding(sandbox.home, NEEDLES)).toEqual([]);
    expect(await readdir(env.TMPDIR!)).toEqual([]);
  });

  it('npm runs of the node toolchain get the secret too, masked in their output', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('node-web', 'secret-node');
    const pkg = JSON.parse(await readFile(path.join(app, 'package.json'), 'utf8'));
    pkg.scripts.build = `node -e "const t = process.env.MY_TOKEN; if (require('crypto').createHash('sha256').update(t).digest('hex').slice(0, 16) !== '${digest(MY_TOKEN)}') process.exit(9); console.log('npm sees ' + t)"`;
    await writeFile(path.join(app, 'package.json'), JSON.stringify(pkg, null, 2));
    const env = await secretEnv(sandbox);
    const build = await sandbox.hop3(['build', app, '--secret', 'id=MY_TOKEN'], { env });
    expect(build.exitCode, build.all).toBe(0);
    expect(build.stderr).toContain('    npm sees ***\n');
    expect(build.all).not.toContain(MY_TOKEN);
    expect(await filesHolding(sandbox.home, [MY_TOKEN])).toEqual([]);
  });

  it('the nix builder refuses secrets before doing anything (the store is world-readable)', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('procfile-app', 'secret-nix');
    const build = await sandbox.hop3(['build', app, '--builder', 'nix', '--secret', 'id=MY_TOKEN'], { env: { MY_TOKEN } });
    expect(build.exitCode, build.all).toBe(1);
    expect(build.stderr).toContain('cannot use build secrets (MY_TOKEN)');
    expect(build.stderr).toContain('[BUILD_NIX_SECRETS_UNSUPPORTED]');
    expect(build.stderr).toMatch(/\nhint: Build with --builder local/);
    expect(await exists(path.join(sandbox.home, 'apps', 'secret-nix'))).toBe(false);
  });

  it.each([
    ['an unset variable', ['--secret', 'id=NOT_SET_ANYWHERE'], '', 1, 'BUILD_SECRET_MISSING', 'the environment variable NOT_SET_ANYWHERE is not set'],
    ['an unset variable from [build] secrets', [], '[build]\nsecrets = ["NOT_SET_EITHER"]\n', 1, 'BUILD_SECRET_MISSING', 'Secret NOT_SET_EITHER (hop3.toml: [build] secrets)'],
    ['a missing file', ['--secret', 'id=X,src=/nonexistent/token'], '', 1, 'BUILD_SECRET_MISSING', 'cannot read /nonexistent/token: no such file'],
    ['a bad id', ['--secret', 'id=my-token'], '', 2, 'CLI_INVALID_OPTION', '"my-token" is not a valid secret id'],
    ['src and env together', ['--secret', 'id=X,src=a,env=B'], '', 2, 'CLI_INVALID_OPTION', 'give src or env, not both'],
    ['an id in hop3\'s namespace', ['--secret', 'id=HOP3_SECRETS_DIR'], '', 2, 'CLI_INVALID_OPTION', 'hop3\'s own HOP3_ namespace'],
    ['a bad id in hop3.toml', [], '[build]\nsecrets = ["a b"]\n', 1, 'CONFIG_TOML_INVALID', 'hop3.toml: [build] secrets: "a b" is not a valid secret id'],
  ] as const)('refuses %s, naming it', async (_title, args, tomlText, exitCode, code, fragment) => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('procfile-app', 'secret-bad');
    if (tomlText) await writeFile(path.join(app, 'hop3.toml'), tomlText);
    const build = await sandbox.hop3(['build', app, ...args], { env: { NOT_SET_ANYWHERE: undefined, NOT_SET_EITHER: undefined } });
    expect(build.exitCode, build.all).toBe(exitCode);
    expect(build.stderr).toContain(`[${code}]`);
    expect(build.stderr).toContain(fragment);
    expect(build.stderr).toMatch(/\nhint: /);
  });
});
