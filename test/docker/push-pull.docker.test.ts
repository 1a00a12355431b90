import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LocalRegistry } from '../helpers/local-registry.js';
import { checkProbes, freePort, logLines, ROOT, Sandbox } from '../helpers/sandbox.js';
import { describeDocker, docker, LOCAL_IMAGES, removeLocalImage, removeRegistryReferences, sweepTestResources } from './docker-engine.js';

const APP = 'shp-push';
const FIXTURE = 'docker-own-dockerfile'; // a busybox image of a few MB: pushes and pulls stay cheap

describeDocker('hop3 push to a registry, hop3 run pulls by digest (real registry on 127.0.0.1)', () => {
  let registry: LocalRegistry;
  let sandbox: Sandbox;
  let built: string;
  let pushedFile: string;
  let pushed: { location: string; build_id: string; metadata: Record<string, unknown> };

  beforeAll(async () => {
    registry = await LocalRegistry.start();
    sandbox = await Sandbox.create();
    const dir = await sandbox.fixture(FIXTURE, APP);
    built = path.join(sandbox.dir, 'built.json');
    const build = await sandbox.hop3(['build', dir, '--builder', 'docker', '--output', built, '--quiet'], { env: LOCAL_IMAGES });
    expect(build.exitCode, build.all).toBe(0);
  }, 180_000);

  afterAll(async () => {
    // Only the references this file made (the busybox base keeps its own tag and ID); the app's image goes by its labels.
    if (registry) await removeRegistryReferences(registry.host);
    await sweepTestResources([APP]);
    await sandbox?.[Symbol.asyncDispose]();
    await registry?.[Symbol.asyncDispose]();
  });

  it('pushes the image and writes a new artifact pinned by digest; the old artifact stays', async () => {
    const before = await readFile(built, 'utf8');
    const push = await sandbox.hop3(['push', built, '--registry', `${registry.host}/hop3test`, '--json']);
    expect(push.exitCode, push.all).toBe(0);
    const result = JSON.parse(push.stdout);
    pushedFile = path.join(sandbox.dir, 'built.pushed.json');
    expect(result).toMatchObject({ file: pushedFile, from: JSON.parse(before).location, location: expect.stringMatching(new RegExp(`^${registry.host}/hop3test/${APP}@sha256:[0-9a-f]{64}$`)) });
    pushed = JSON.parse(await readFile(pushedFile, 'utf8'));
    const original = JSON.parse(before);
    // Same build, same runtime and provenance: only the location moved, and metadata says from where.
    expect(pushed.build_id).toBe(original.build_id);
    expect({ ...pushed, location: original.location, metadata: { ...pushed.metadata, pushed: undefined } }).toEqual({ ...original, metadata: { ...original.metadata, pushed: undefined } });
    expect(pushed.metadata.pushed).toEqual({ from: original.location, registry: `${registry.host}/hop3test`, repository: `${registry.host}/hop3test/${APP}`, tag: original.build_id, digest: result.digest });
    expect(await readFile(built, 'utf8')).toBe(before);
    // The registry serves that very manifest under the build's tag.
    expect(await registry.manifestDigest(`hop3test/${APP}`, original.build_id)).toBe(result.digest);
    expect(logLines(push.stderr).some((line) => line.startsWith('==> pushing '))).toBe(true);
  });

  it('runs the pushed artifact under another HOP3_HOME on a Docker host without the image: pulled by digest, serves HTTP', async () => {
    await removeLocalImage(pushed.metadata.image_id as string);
    const runEnv = { HOP3_HOME: path.join(sandbox.dir, 'prod-home') };
    const port = await freePort();
    const run = await sandbox.hop3(['run', APP, '--artifact', pushedFile, '--port', String(port)], { env: runEnv });
    expect(run.exitCode, run.all).toBe(0);
    expect(logLines(run.stderr)).toContain(`==> pulling ${pushed.location} (not on this Docker host)`);
    await checkProbes(`http://127.0.0.1:${port}/`, FIXTURE);
    const info = await docker.getImage(pushed.location).inspect();
    expect(info.Id).toBe(pushed.metadata.image_id);
    const status = JSON.parse((await sandbox.hop3(['status', APP, '--json'], { env: runEnv })).stdout);
    expect(status).toMatchObject({ app: APP, running: true, deployer: 'container' });
    const stop = await sandbox.hop3(['stop', APP], { env: runEnv });
    expect(stop.exitCode, stop.all).toBe(0);
  });

  it('refuses a digest the registry does not have (a tampered location), before anything runs', async () => {
    const artifact = { ...pushed, location: pushed.location.replace(/.$/, (c) => (c === '0' ? '1' : '0')) };
    const file = path.join(sandbox.dir, 'tampered.json');
    await writeFile(file, JSON.stringify(artifact));
    const run = await sandbox.hop3(['run', APP, '--artifact', file, '--port', String(await freePort())], { env: { HOP3_HOME: path.join(sandbox.dir, 'tamper-home') } });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('[DEPLOY_IMAGE_PULL_FAILED]');
    expect(run.stderr).toContain('manifest unknown');
    expect(run.stderr).toMatch(/hint: The registry has no image with that digest/);
  });

  it('refuses a location moved to another image of the registry: the pulled image is not the one the build made', async () => {
    // Another real image in the same repository (the busybox base), pushed by the engine, not by hop3.
    await docker.getImage('hop3/base-busybox:latest').tag({ repo: `${registry.host}/hop3test/${APP}`, tag: 'other' });
    const stream = await docker.getImage(`${registry.host}/hop3test/${APP}:other`).push({ tag: 'other', authconfig: {} });
    await new Promise((resolve, reject) => docker.modem.followProgress(stream, (error) => (error ? reject(error) : resolve(undefined))));
    const other = await registry.manifestDigest(`hop3test/${APP}`, 'other');
    expect(other).toMatch(/^sha256:/);
    await docker.getImage(`${registry.host}/hop3test/${APP}:other`).remove({ noprune: true });
    const artifact = { ...pushed, location: `${registry.host}/hop3test/${APP}@${other}` };
    const file = path.join(sandbox.dir, 'swapped.json');
    await writeFile(file, JSON.stringify(artifact));
    const home = path.join(sandbox.dir, 'swap-home');
    const run = await sandbox.hop3(['run', APP, '--artifact', file, '--port', String(await freePort())], { env: { HOP3_HOME: home } });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('[DEPLOY_IMAGE_DIGEST_MISMATCH]');
    const status = JSON.parse((await sandbox.hop3(['status', APP, '--json'], { env: { HOP3_HOME: home } })).stdout);
    expect(status.running ?? false).toBe(false);
  });

  it('a registry that does not answer is a coded push failure; a docker artifact needs --registry', async () => {
    const down = await sandbox.hop3(['push', built, '--registry', `127.0.0.1:${await freePort()}`]);
    expect(down.exitCode).toBe(1);
    expect(down.stderr).toContain('[SHIP_PUSH_FAILED]');
    const none = await sandbox.hop3(['push', built]);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain('--registry host:port[/namespace]');
  });

  it('a registry that wants credentials: refused without, pushed with --password-stdin, pulled with the Docker config\'s', async () => {
    const user = { username: 'ci', password: 'hop3-S3cret-pw' };
    await using locked = await LocalRegistry.start({ auth: user });
    const noConfig = path.join(sandbox.dir, 'no-docker-config');
    await mkdir(noConfig, { recursive: true });
    // The image here is the one the run above pulled by digest: the pushed artifact is pushed on, to a second registry.
    const anonymous = await sandbox.hop3(['push', pushedFile, '--registry', locked.host, '-o', path.join(sandbox.dir, 'anon.json')], { env: { DOCKER_CONFIG: noConfig } });
    expect(anonymous.exitCode).toBe(1);
    expect(anonymous.stderr).toContain('[SHIP_REGISTRY_AUTH]');

    const output = path.join(sandbox.dir, 'locked.json');
    const push = await execa(process.execPath, [path.join(ROOT, 'bin', 'hop3.js'), 'push', pushedFile, '--registry', locked.host, '--username', user.username, '--password-stdin', '-o', output], {
      env: { ...sandbox.env, DOCKER_CONFIG: noConfig },
      extendEnv: false,
      input: `${user.password}\n`,
      reject: false,
      all: true,
    });
    expect(push.exitCode, push.all).toBe(0);
    expect(push.all).not.toContain(user.password);
    const artifact = JSON.parse(await readFile(output, 'utf8'));
    expect(artifact.location).toMatch(new RegExp(`^${locked.host}/${APP}@sha256:`));
    expect(artifact.metadata.pushed.from).toBe(pushed.location);

    await removeLocalImage(artifact.metadata.image_id);
    const home = path.join(sandbox.dir, 'locked-home');
    const denied = await sandbox.hop3(['run', APP, '--artifact', output, '--port', String(await freePort())], { env: { HOP3_HOME: home, DOCKER_CONFIG: noConfig } });
    expect(denied.exitCode).toBe(1);
    expect(denied.stderr).toContain('[SHIP_REGISTRY_AUTH]');
    const config = path.join(sandbox.dir, 'docker-config');
    await mkdir(config, { recursive: true });
    await writeFile(path.join(config, 'config.json'), JSON.stringify({ auths: { [locked.host]: { auth: Buffer.from(`${user.username}:${user.password}`).toString('base64') } } }));
    const port = await freePort();
    const run = await sandbox.hop3(['run', APP, '--artifact', output, '--port', String(port)], { env: { HOP3_HOME: home, DOCKER_CONFIG: config } });
    expect(run.exitCode, run.all).toBe(0);
    expect(run.all).not.toContain(user.password);
    await checkProbes(`http://127.0.0.1:${port}/`, FIXTURE);
    expect((await sandbox.hop3(['stop', APP], { env: { HOP3_HOME: home } })).exitCode).toBe(0);
    await removeRegistryReferences(locked.host);
  });
});
