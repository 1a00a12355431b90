import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { checkProbes, freePort, ROOT, Sandbox } from '../helpers/sandbox.js';
import { describeNix, NIX_TEST_ENV } from './nix-env.js';

const TOKEN = 'hop3-npm-t0ken-n1x5';
const LOCKED_EXPRESS = (JSON.parse(await readFile(path.join(ROOT, 'fixtures', 'node-express', 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> }).packages['node_modules/express']!.version;

describeNix('nix builder: registry dependencies vendored on the host (issue #14)', () => {
  it("builds an Express app from its lockfile with the user's npm settings; the same lockfile gives the same store path elsewhere; no token in the store", async () => {
    await using a = await Sandbox.create();
    await using b = await Sandbox.create();
    const build = async (sandbox: Sandbox) => {
      const npmrc = path.join(sandbox.dir, 'user.npmrc');
      await writeFile(npmrc, `//registry.npmjs.org/:_authToken=${TOKEN}\n`);
      const app = await sandbox.fixture('node-express', 'nnet-express');
      const output = path.join(sandbox.dir, 'artifact.json');
      const result = await sandbox.hop3(['build', app, '--builder', 'nix', '--output', output], { env: { ...NIX_TEST_ENV, npm_config_userconfig: npmrc, npm_config_cache: path.join(sandbox.dir, 'npm-cache') } });
      expect(result.exitCode, result.all).toBe(0);
      expect(result.all).not.toContain(TOKEN);
      return { output, artifact: JSON.parse(await readFile(output, 'utf8')) as { location: string; metadata: { nix: { drv_path: string } } }, log: result.stderr };
    };
    const first = await build(a);
    expect(first.log).toMatch(/fetching \d+ registry packages for the offline Nix build/);
    const port = await freePort();
    const run = await a.hop3(['run', 'nnet-express', '--artifact', first.output, '--port', String(port)]);
    expect(run.exitCode, run.all).toBe(0);
    try {
      await checkProbes(`http://127.0.0.1:${port}/`, 'node-express');
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toContain(`express ${LOCKED_EXPRESS}\n`);
    } finally {
      expect((await a.hop3(['stop', 'nnet-express'])).exitCode).toBe(0);
    }
    // Vendored tarballs are named by their hashes: another HOP3_HOME and npm cache give the same derivation.
    const second = await build(b);
    expect(second.artifact.location).toBe(first.artifact.location);
    const grep = await execa('grep', ['-rl', TOKEN, first.artifact.location, first.artifact.metadata.nix.drv_path], { reject: false });
    expect(grep.stdout).toBe('');
    expect(grep.exitCode).toBe(1);
  });
});
