import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { describeDocker, docker, LOCAL_IMAGES, sweepTestResources } from './docker-engine.js';

const APPS = ['dks-flag', 'dks-toml'];
const TOKEN = 'd0ck3r-s3cr3t-77e1';

const imagesOf = async (app: string) => docker.listImages({ filters: JSON.stringify({ label: [`io.hop3.app=${app}`] }) });

describeDocker('docker builder and build secrets (real daemon)', () => {
  afterAll(() => sweepTestResources(APPS));

  it.each([
    ['--secret', 'dks-flag', ['--builder', 'docker', '--secret', 'id=MY_TOKEN'], ''],
    ['[build] secrets', 'dks-toml', [], '[build]\nbuilder = "docker"\nsecrets = ["MY_TOKEN"]\n'],
  ] as const)('refuses %s clearly, never as a build arg: no image is built', async (_how, app, args, toml) => {
    await using sandbox = await Sandbox.create();
    const dir = await sandbox.fixture('python-web', app);
    if (toml) await writeFile(path.join(dir, 'hop3.toml'), toml);
    const build = await sandbox.hop3(['build', dir, ...args], { env: { ...LOCAL_IMAGES, MY_TOKEN: TOKEN } });
    expect(build.exitCode, build.all).toBe(1);
    expect(build.stderr).toContain('[BUILD_DOCKER_SECRETS_UNSUPPORTED]');
    expect(build.stderr).toContain('The docker builder cannot use build secrets (MY_TOKEN)');
    expect(build.stderr).toMatch(/\nhint: Build with --builder local/);
    expect(build.stderr).not.toMatch(/Step \d+\/\d+/);
    expect(build.all).not.toContain(TOKEN);
    expect(await imagesOf(app)).toEqual([]);
  });
});
