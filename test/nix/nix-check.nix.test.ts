import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { describeNix, NIX_TEST_ENV } from './nix-env.js';

describeNix('hop3 build --check with nix (nix build --rebuild)', () => {
  it('passes when the derivation rebuilds to the same output', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('nix-default', 'nix-check-ok');
    const check = await sandbox.hop3(['build', app, '--builder', 'nix', '--check', '--json', '--quiet'], { env: NIX_TEST_ENV });
    expect(check.exitCode, check.all).toBe(0);
    const summary = JSON.parse(check.stdout);
    expect(summary).toMatchObject({ app: 'nix-check-ok', builder: 'nix', reproducible: true, compared: 'store path', files: [], fields: [] });
    expect(summary.first).toMatch(/^\/nix\/store\/[0-9a-z]{32}-nix-default-app$/);
    expect(summary.second).toBe(summary.first);
  });

  it('fails with BUILD_NOT_REPRODUCIBLE naming the file the build writes the time into, and deletes the rebuilt output', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('nix-default', 'nix-check-stamp');
    const nixFile = path.join(app, 'default.nix');
    // A nonce keeps this derivation apart from other runs' (a rebuild compares with what the store already has).
    const text = (await readFile(nixFile, 'utf8')).replace('mkdir -p $out/bin', `mkdir -p $out/bin\n    /bin/date +%s%N > $out/stamp.txt # ${process.pid}-${Date.now()}`);
    await writeFile(nixFile, text);
    const check = await sandbox.hop3(['build', app, '--builder', 'nix', '--check', '--json', '--quiet'], { env: NIX_TEST_ENV });
    expect(check.exitCode, check.all).toBe(1);
    expect(check.stderr).toContain('BUILD_NOT_REPRODUCIBLE');
    expect(check.stderr).toContain('Differing files: stamp.txt.');
    const summary = JSON.parse(check.stdout);
    expect(summary).toMatchObject({ reproducible: false, compared: 'store path', files: ['stamp.txt'], fields: [] });
    expect(summary.second).toBe(`${summary.first}.check`);
    await expect(stat(summary.second)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await stat(summary.first)).isDirectory()).toBe(true); // the checked build's output stays
  });
});
