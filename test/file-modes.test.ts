import { chmod, lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { freePort, ROOT, Sandbox } from './helpers/sandbox.js';

const SECRET_KEY = 'sk-modes-7f3a9c';
const BIN = path.join(ROOT, 'bin', 'hop3.js');

/** The real CLI under `umask 000`, so only the modes hop3 sets itself protect anything. */
function hop3Umask000(sandbox: Sandbox, args: string[]) {
  return execa('/bin/sh', ['-c', 'umask 000; exec "$0" "$@"', process.execPath, BIN, ...args], { env: sandbox.env, cwd: ROOT, reject: false, all: true, stdin: 'ignore', extendEnv: false });
}

/** A Procfile app with an [env] secret that its worker also prints to its log. */
async function appWithSecret(sandbox: Sandbox, name: string): Promise<string> {
  const dir = await sandbox.fixture('procfile-app', name);
  await writeFile(path.join(dir, 'hop3.toml'), `[env]\nSECRET_KEY = "${SECRET_KEY}"\n`);
  await writeFile(path.join(dir, 'Procfile'), 'web: echo "starting with $SECRET_KEY"; exec python3 -m http.server "$PORT" --bind "$BIND_ADDRESS" --directory public\n');
  return dir;
}

async function walk(dir: string): Promise<{ file: string; mode: number; kind: 'dir' | 'file' | 'other' }[]> {
  const found: { file: string; mode: number; kind: 'dir' | 'file' | 'other' }[] = [];
  for (const name of await readdir(dir)) {
    const file = path.join(dir, name);
    const info = await lstat(file);
    found.push({ file, mode: info.mode & 0o777, kind: info.isDirectory() ? 'dir' : info.isFile() ? 'file' : 'other' });
    if (info.isDirectory()) found.push(...(await walk(file)));
  }
  return found;
}

const modeOf = async (file: string) => ((await lstat(file)).mode & 0o777).toString(8);

describe('file modes: HOP3_HOME keeps env values to its owner, whatever the umask', () => {
  it('after a deploy under umask 000, no file holding an [env] value is readable by group or others, and the app dirs are 0700', async () => {
    await using sandbox = await Sandbox.create();
    const app = await appWithSecret(sandbox, 'modes-app');
    const output = path.join(sandbox.dir, 'modes-app.json');
    const build = await hop3Umask000(sandbox, ['build', app, '--output', output]);
    expect(build.exitCode, build.all).toBe(0);
    const deploy = await hop3Umask000(sandbox, ['deploy', app, '--force', '--port', String(await freePort())]); // a second build (<id>.2) under the same umask
    expect(deploy.exitCode, deploy.all).toBe(0);

    const entries = await walk(sandbox.home);
    const holders: string[] = [];
    for (const entry of entries.filter((e) => e.kind === 'file')) {
      if (!(await readFile(entry.file, 'utf8')).includes(SECRET_KEY)) continue;
      holders.push(path.relative(sandbox.home, entry.file));
      expect(entry.mode & 0o077, `${entry.file} is ${entry.mode.toString(8)}`).toBe(0);
    }
    // The check above saw the files that matter: both artifacts, the release record, the worker log and the source copy.
    expect(holders).toEqual(
      expect.arrayContaining(['apps/modes-app/BUILD_ARTIFACT.json', 'apps/modes-app/releases/000001.json', 'apps/modes-app/logs/web.log', expect.stringMatching(/^apps\/modes-app\/builds\/[^/]+\/app\/hop3\.toml$/)]),
    );
    for (const file of ['apps/modes-app/BUILD_ARTIFACT.json', 'apps/modes-app/releases/000001.json', 'apps/modes-app/run/port', 'apps/modes-app/logs/web.log']) {
      expect(await modeOf(path.join(sandbox.home, file)), file).toBe('600');
    }
    expect(await modeOf(output), '--output').toBe('600');

    const root = path.join(sandbox.home, 'apps', 'modes-app');
    const buildDirs = entries.filter((e) => e.kind === 'dir' && /^builds\/[^/]+(\/app)?$/.test(path.relative(root, e.file))).map((e) => e.file);
    expect(buildDirs.length).toBeGreaterThanOrEqual(4); // two builds, each with its app/
    for (const dir of [sandbox.home, path.dirname(root), root, ...['builds', 'releases', 'run', 'logs', 'data', 'data/tmp'].map((d) => path.join(root, d)), ...buildDirs]) {
      expect(await modeOf(dir), dir).toBe('700');
    }
    expect((await hop3Umask000(sandbox, ['stop', 'modes-app'])).exitCode).toBe(0);
  });

  it('tightens the dirs and logs an older hop3 left open, leaves an existing HOP3_HOME to its owner, and doctor warns about it', async () => {
    await using sandbox = await Sandbox.create();
    const app = await appWithSecret(sandbox, 'loose-app');
    const root = path.join(sandbox.home, 'apps', 'loose-app');
    await mkdir(path.join(root, 'logs'), { recursive: true });
    await writeFile(path.join(root, 'logs', 'web.log'), 'old line\n');
    for (const [dir, mode] of [[sandbox.home, 0o755], [path.dirname(root), 0o777], [root, 0o777], [path.join(root, 'logs'), 0o777], [path.join(root, 'logs', 'web.log'), 0o666]] as const) await chmod(dir, mode);

    const deploy = await hop3Umask000(sandbox, ['deploy', app, '--force', '--port', String(await freePort())]); // a second build (<id>.2) under the same umask
    expect(deploy.exitCode, deploy.all).toBe(0);
    expect((await hop3Umask000(sandbox, ['stop', 'loose-app'])).exitCode).toBe(0);
    expect(await readFile(path.join(root, 'logs', 'web.log'), 'utf8')).toContain(`starting with ${SECRET_KEY}`);
    for (const [file, mode] of [[path.dirname(root), '700'], [root, '700'], [path.join(root, 'logs'), '700'], [path.join(root, 'logs', 'web.log'), '600'], [sandbox.home, '755']]) {
      expect(await modeOf(file!), file).toBe(mode);
    }

    const doctor = await sandbox.hop3(['doctor']);
    expect(doctor.exitCode, doctor.all).toBe(0);
    expect(doctor.stdout).toMatch(new RegExp(`^WARN HOP3_HOME\\s+${sandbox.home} is 0755: other users may read`, 'm'));
    expect(doctor.stdout).toContain(`-> chmod 700 ${sandbox.home}`);

    await chmod(sandbox.home, 0o700);
    const checks = JSON.parse((await sandbox.hop3(['doctor', '--json'])).stdout) as { name: string; warning?: boolean }[];
    expect(checks.find((c) => c.name === 'HOP3_HOME')).toEqual({ name: 'HOP3_HOME', usable: true, detail: `${sandbox.home} (0700)` });
  });
});
