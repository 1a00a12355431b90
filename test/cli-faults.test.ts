import { chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { engineGate } from './helpers/engines.js';
import { ROOT, Sandbox } from './helpers/sandbox.js';

const BIN = path.join(ROOT, 'bin', 'hop3.js');
const describeAsRoot = await engineGate('root');

/** Faults a real system gives on demand (another user's permissions, a full file system): each a coded error, never [INTERNAL]. */
describeAsRoot('file-system faults (needs root for setpriv and private mounts)', () => {
  it('names an unreadable source file (BUILD_SOURCE_UNREADABLE)', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('procfile-app');
    await writeFile(path.join(app, 'secret.txt'), 'root only\n');
    await chmod(path.join(app, 'secret.txt'), 0o600);
    // hop3 runs as nobody: the sandbox is traversable, its HOP3_HOME is nobody's, one source file is root's alone.
    await chmod(sandbox.dir, 0o755);
    await mkdir(sandbox.home, { recursive: true });
    await chown(sandbox.home, 65534, 65534);
    const result = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, 'build', app], { env: sandbox.env, reject: false, all: true });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stderr).toContain('[BUILD_SOURCE_UNREADABLE]');
    expect(result.stderr).toContain('secret.txt');
    expect(result.stderr).not.toContain('INTERNAL');
  });

  // A large file is copied by the kernel, small ones are read and written whole: each way must say the disk is full.
  it.each([
    ['one large file', { 'big.bin': 2 * 1024 * 1024 }],
    ['many small files', Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`small-${i}.bin`, 8 * 1024]))],
  ])('says the disk is full when the source copy runs out of space (BUILD_COPY_FAILED), leaving no half-made build: %s', async (_case, files: Record<string, number>) => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('procfile-app');
    for (const [name, size] of Object.entries(files)) await writeFile(path.join(app, name), Buffer.alloc(size, 7));
    await mkdir(sandbox.home, { recursive: true });
    // A private mount namespace: the 1 MiB tmpfs over HOP3_HOME exists only for this command.
    const script = `mount -t tmpfs -o size=1m hop3-test "$HOP3_HOME" && "$0" "$@"; code=$?; ls -A "$HOP3_HOME/apps/procfile-app/builds" 2>/dev/null | sed 's/^/left: /' >&2; exit $code`;
    const result = await execa('unshare', ['--mount', 'sh', '-c', script, process.execPath, BIN, 'build', app], { env: sandbox.env, reject: false, all: true });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stderr).toContain('[BUILD_COPY_FAILED]');
    expect(result.stderr).toContain('disk holding HOP3_HOME is full');
    expect(result.stderr).not.toContain('left: ');
    expect(result.stderr).not.toContain('INTERNAL');
  });

  it('reports a release record that cannot be written (STATE_WRITE_FAILED) and starts nothing', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('procfile-app');
    await mkdir(sandbox.home, { recursive: true });
    // Build on a small tmpfs, then fill it: the run's first state write finds the disk full.
    const script = `mount -t tmpfs -o size=4m hop3-test "$HOP3_HOME" && "$0" "$@" build "${app}" >/dev/null && (cat /dev/zero > "$HOP3_HOME/filler" 2>/dev/null; true) && "$0" "$@" run procfile-app`;
    const result = await execa('unshare', ['--mount', 'sh', '-c', script, process.execPath, BIN], { env: sandbox.env, reject: false, all: true });
    expect(result.exitCode, result.all).toBe(1);
    expect(result.stderr).toContain('[STATE_WRITE_FAILED]');
    expect(result.stderr).not.toContain('INTERNAL');
    expect(await sandbox.strayPids()).toEqual([]);
  });
});

// The container case (an image the engine cannot start) is in test/docker/container-deploy.docker.test.ts.
