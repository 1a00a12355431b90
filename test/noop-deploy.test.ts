import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, Sandbox } from './helpers/sandbox.js';

interface StatusJson {
  release: number;
  build_id: string;
  workers: { name: string; pid?: number }[];
}

async function status(sandbox: Sandbox, app: string): Promise<StatusJson> {
  const result = await sandbox.hop3(['status', app, '--json']);
  expect(result.exitCode, result.all).toBe(0);
  return JSON.parse(result.stdout) as StatusJson;
}

describe('deploying unchanged source', () => {
  for (const [fixture, installLine] of [
    ['python-web', /==> (creating virtualenv|pip install)/], // step lines, not the plan that opens each build
    ['node-web', /==> installing dependencies/],
  ] as const) {
    it(`${fixture}: builds nothing, runs no installer and restarts nothing; a change or --force builds again`, async () => {
      await using sandbox = await Sandbox.create();
      const app = await sandbox.fixture(fixture);
      const port = await freePort();
      const first = await sandbox.hop3(['deploy', app, '--port', String(port)]);
      expect(first.exitCode, first.all).toBe(0);
      expect(first.stderr).toMatch(installLine);
      const before = await status(sandbox, fixture);

      const again = await sandbox.hop3(['deploy', app]);
      expect(again.exitCode, again.all).toBe(0);
      expect(again.stderr).toContain('nothing to build');
      expect(again.stderr).toContain('nothing restarted');
      expect(again.stderr).not.toMatch(installLine);
      expect(again.stderr).not.toContain('copying source');
      expect(again.stdout.trim()).toBe(`http://127.0.0.1:${port}/`);
      const after = await status(sandbox, fixture);
      expect(after).toEqual(before); // same release, same build, same worker pids
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);

      // `hop3 build` of the same source returns the same artifact file.
      const built = await sandbox.hop3(['build', app]);
      expect(built.exitCode, built.all).toBe(0);
      expect(built.stderr).toContain(`build ${before.build_id} has the same inputs`);
      expect(built.stdout.trim()).toBe(path.join(sandbox.home, 'apps', fixture, 'builds', before.build_id, 'BUILD_ARTIFACT.json'));

      // --force builds again (a new build dir, `<build_id>.2`, and release) under the same content-derived id; a changed source builds too.
      const forced = await sandbox.hop3(['deploy', app, '--force']);
      expect(forced.exitCode, forced.all).toBe(0);
      expect(forced.stderr).not.toContain('nothing to build');
      const afterForce = await status(sandbox, fixture);
      expect(afterForce.build_id).toBe(before.build_id);
      const forcedArtifact = JSON.parse(await readFile(path.join(sandbox.home, 'apps', fixture, 'BUILD_ARTIFACT.json'), 'utf8'));
      expect(forcedArtifact.metadata.build_dir).toBe(`${before.build_id}.2`);
      expect(forcedArtifact.location).toBe(path.join(sandbox.home, 'apps', fixture, 'builds', `${before.build_id}.2`));
      expect(afterForce.release).toBe(before.release + 1);

      await writeFile(path.join(app, 'CHANGED.txt'), 'a code-only change\n');
      const changed = await sandbox.hop3(['deploy', app]);
      expect(changed.exitCode, changed.all).toBe(0);
      expect(changed.stderr).not.toContain('nothing to build');
      expect((await status(sandbox, fixture)).release).toBe(before.release + 2);

      expect((await sandbox.hop3(['stop', fixture])).exitCode).toBe(0);
    });
  }

  it('a deploy that changes the port is not a no-op', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('procfile-app');
    const [port, other] = [await freePort(), await freePort()];
    expect((await sandbox.hop3(['deploy', app, '--port', String(port)])).exitCode).toBe(0);
    const moved = await sandbox.hop3(['deploy', app, '--port', String(other)]);
    expect(moved.exitCode, moved.all).toBe(0);
    expect(moved.stderr).toContain('nothing to build');
    expect(moved.stderr).not.toContain('nothing restarted');
    expect((await fetch(`http://127.0.0.1:${other}/`)).status).toBe(200);
    expect((await sandbox.hop3(['stop', 'procfile-app'])).exitCode).toBe(0);
  });
});
