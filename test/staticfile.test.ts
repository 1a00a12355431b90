import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import { engineGate } from './helpers/engines.js';
import { checkProbes, freePort, Sandbox } from './helpers/sandbox.js';

const describeWithRouter = await engineGate('nginx');

/** Credentials from the comment in fixtures/staticfile-spa/Staticfile.auth, one per hash format. */
const ALICE = { authorization: `Basic ${Buffer.from('alice:wonderland').toString('base64')}` };
const BOB = { authorization: `Basic ${Buffer.from('bob:builder').toString('base64')}` };
const CAROL = { authorization: `Basic ${Buffer.from('carol:carol-pass').toString('base64')}` };
const DAVE = { authorization: `Basic ${Buffer.from('dave:dave-pass').toString('base64')}` };
const WRONG = { authorization: `Basic ${Buffer.from('alice:wonderlant').toString('base64')}` };

describeWithRouter('a Staticfile app deployed behind the nginx router', () => {
  it('serves root:, falls back to index.html, asks for the Staticfile.auth password on every path, and never serves the auth file', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('staticfile-spa');
    const port = await freePort();
    const deploy = await sandbox.hop3(['deploy', app, '--port', String(port)]);
    expect(deploy.exitCode, deploy.all).toBe(0);
    expect(deploy.stderr).toContain('toolchain  static (Staticfile found)');
    expect(deploy.stderr).toContain('serving public/ at / (root: public in Staticfile); with basic-auth (Staticfile.auth), index-fallback');
    const base = `http://127.0.0.1:${port}`;
    await checkProbes(`${base}/`, 'staticfile-spa');

    const get = (target: string, headers: Record<string, string> = {}) => fetch(`${base}${target}`, { headers });
    for (const user of [ALICE, BOB, CAROL, DAVE]) expect(await (await get('/', user)).text()).toContain('hello from staticfile-spa');
    const route = await get('/users/42/edit', ALICE);
    expect(route.status).toBe(200);
    expect(await route.text()).toContain('hello from staticfile-spa');
    expect(await (await get('/assets/app.js', ALICE)).text()).toContain('client router');
    expect((await get('/', WRONG)).status).toBe(401);
    // bcrypt is verified by the bcryptjs copy the build put beside the server, not by anything of hop3's tree.
    const artifactRoot = JSON.parse((await sandbox.hop3(['inspect', 'staticfile-spa', '--json'])).stdout).runtime.working_dir;
    expect((await readFile(path.join(artifactRoot, '.hop3', 'bcrypt.mjs'), 'utf8')).length).toBeGreaterThan(1000);
    expect((await get('/../Staticfile.auth', ALICE)).status).not.toBe(200);

    const artifact = JSON.parse((await sandbox.hop3(['inspect', 'staticfile-spa', '--json'])).stdout);
    expect(artifact.metadata.static_rules).toEqual(['basic-auth (Staticfile.auth)', 'index-fallback']);

    // Now the auth file inside the served root, and a second folder nginx would serve itself were there no rules.
    await writeFile(path.join(app, 'Staticfile'), 'index_fallback: true\n');
    await writeFile(path.join(app, 'hop3.toml'), '[static]\n"/" = "."\n"/assets" = "public/assets"\n');
    const again = await sandbox.hop3(['deploy', app]);
    expect(again.exitCode, again.all).toBe(0);
    const routerConf = await readFile(path.join(sandbox.home, 'router', 'conf.d', 'staticfile-spa.conf'), 'utf8');
    expect(routerConf).not.toContain('alias');
    for (const target of ['/assets/app.js', '/Staticfile.auth', '/public/index.html', '/anything']) expect((await get(target)).status, target).toBe(401);
    for (const target of ['/Staticfile.auth', '/Staticfile', '/hop3.toml']) {
      const hidden = await get(target, BOB);
      expect(hidden.status, target).toBe(404);
      expect(await hidden.text()).toBe('not found\n');
    }
    expect(await (await get('/assets/app.js', BOB)).text()).toContain('client router');
    expect(await (await get('/public/index.html', BOB)).text()).toContain('hello from staticfile-spa');

    expect((await sandbox.hop3(['stop', 'staticfile-spa'])).exitCode).toBe(0);
    expect(await sandbox.strayPids()).toEqual([]);
  });
});
