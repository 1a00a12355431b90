import { appendFile, chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { checkProbes, freePort, Sandbox } from './helpers/sandbox.js';

const ROOT_WARNING = 'workers run as root; set [run] user';
const isRoot = process.getuid?.() === 0;

/** Uid of each process in group `pgid` (from /proc/<pid>/status), keyed by pid. */
async function groupUids(pgid: number): Promise<Map<number, number>> {
  const uids = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) !== pgid) continue;
    const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
    const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
    if (uid !== undefined) uids.set(Number(entry), Number(uid));
  }
  return uids;
}

// Switching users needs root: the CI and this machine run the suite as root.
describe.skipIf(!isRoot && process.env.HOP3_REQUIRE_ENGINES !== '1')('[run] user: process workers run unprivileged', () => {
  it('warns once when workers run as root, and with [run] user = "nobody" the worker serves as nobody', async () => {
    await using sandbox = await Sandbox.create();
    // HOP3_HOME and its parents are the owner's to open to nobody (traversal only); hop3 grants the rest.
    await chmod(sandbox.dir, 0o711);
    await mkdir(sandbox.home, { mode: 0o711 });
    const nobody = Number((await execa('id', ['-u', 'nobody'])).stdout);
    const app = await sandbox.fixture('procfile-app');
    const port = await freePort();

    const asRoot = await sandbox.hop3(['deploy', app, '--port', String(port)]);
    expect(asRoot.exitCode, asRoot.all).toBe(0);
    expect(asRoot.stderr.split(ROOT_WARNING)).toHaveLength(2);

    await appendFile(path.join(app, 'hop3.toml'), '\n[run]\nuser = "nobody"\n');
    const deploy = await sandbox.hop3(['deploy', app, '--port', String(port)]);
    expect(deploy.exitCode, deploy.all).toBe(0);
    expect(deploy.stderr).not.toContain(ROOT_WARNING);
    await checkProbes(`http://127.0.0.1:${port}/`, 'procfile-app');

    const status = JSON.parse((await sandbox.hop3(['status', 'procfile-app', '--json'])).stdout);
    const leader = Number(status.workers[0].id);
    const uids = await groupUids(leader);
    // The group leader is hop3's log writer (it keeps the log hop3's); every other member is the app, as nobody.
    const members = [...uids].filter(([pid]) => pid !== leader);
    expect(members.length).toBeGreaterThan(0);
    expect(members.map(([, uid]) => uid)).toEqual(members.map(() => nobody));
    expect((await stat(path.join(sandbox.home, 'apps/procfile-app/data'))).uid).toBe(nobody);
    expect((await stat(path.join(sandbox.home, 'apps/procfile-app/data/tmp'))).uid).toBe(nobody);
    // What nobody was given, and what stays hop3's alone.
    const root = path.join(sandbox.home, 'apps/procfile-app');
    const mode = async (dir: string) => ((await stat(path.join(root, dir))).mode & 0o777).toString(8);
    expect(await mode('..')).toBe('701');
    expect(await mode('.')).toBe('710');
    expect(await mode('builds')).toBe('710');
    for (const dir of ['releases', 'logs', 'run']) expect(await mode(dir), dir).toBe('700');
    expect(await mode('logs/web.log')).toBe('600');
    // A later command on the app keeps the grant (hop3 tightens only what it did not give).
    expect((await sandbox.hop3(['build', app])).exitCode).toBe(0);
    expect(await mode('.')).toBe('710');
    expect(await mode('..')).toBe('701');

    expect((await sandbox.hop3(['stop', 'procfile-app'])).exitCode).toBe(0);
    expect(await sandbox.strayPids()).toEqual([]);
  });

  it('says which directory the user cannot reach, and names a user this host does not have', async () => {
    await using sandbox = await Sandbox.create(); // a 0700 temp dir: nobody cannot enter it
    const app = await sandbox.fixture('procfile-app');
    await appendFile(path.join(app, 'hop3.toml'), '\n[run]\nuser = "nobody"\n');
    const denied = await sandbox.hop3(['deploy', app, '--port', String(await freePort())]);
    expect(denied.exitCode).toBe(1);
    expect(denied.stderr).toContain('[DEPLOY_RUN_USER_DENIED]');
    expect(denied.stderr).toContain(`User nobody cannot read the app's directory ${sandbox.home}/apps/procfile-app/builds/`);
    expect(denied.stderr).toMatch(/\nhint: Let nobody enter HOP3_HOME and the directories above it \(traversal only: chmod o\+x /);

    const toml = path.join(app, 'hop3.toml');
    await writeFile(toml, (await readFile(toml, 'utf8')).replace('user = "nobody"', 'user = "no-such-user-h3"'));
    const unknown = await sandbox.hop3(['deploy', app, '--port', String(await freePort())]);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('[DEPLOY_RUN_USER_UNKNOWN]');
    expect(unknown.stderr).toContain('"no-such-user-h3", which is not a user of this host');
    expect(await sandbox.strayPids()).toEqual([]);
  });
});
