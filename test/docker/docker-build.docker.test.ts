import { readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { describeDocker, docker, LOCAL_IMAGES, runInImage, sweepTestResources } from './docker-engine.js';

const APPS = ['dkb-python', 'dkb-node', 'dkb-ignore', 'dkb-repro', 'dkb-link', 'dkb-fail', 'dkb-nobase'];

async function buildDocker(sandbox: Sandbox, dir: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const output = path.join(sandbox.dir, `${path.basename(dir)}-${Date.now()}.json`);
  const result = await sandbox.hop3(['build', dir, '--builder', 'docker', '--output', output, ...extra], { env: { ...LOCAL_IMAGES, ...env } });
  const artifact = result.exitCode === 0 ? JSON.parse(await readFile(output, 'utf8')) : undefined;
  return { result, artifact };
}

describeDocker('docker builder (real daemon)', () => {
  afterAll(() => sweepTestResources(APPS));

  it.each([
    ['python-web', 'dkb-python'],
    ['node-web', 'dkb-node'],
  ])('builds %s with a generated Dockerfile: tagged by build_id, labelled, non-root, no compiler', async (fixture, app) => {
    await using sandbox = await Sandbox.create();
    const dir = await sandbox.fixture(fixture, app);
    const { result, artifact } = await buildDocker(sandbox, dir);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stderr).toMatch(/Step 1\/\d+ : ARG BASE_IMAGE/); // live output, one line per step

    expect(artifact).toMatchObject({ builder: 'docker', app_name: app, location: `hop3/${app}:${artifact.build_id}`, runtime: { working_dir: '/app' } });
    expect(artifact.build_id).toMatch(/^[0-9a-f]{16}$/);
    expect(artifact.metadata.image_id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(artifact.metadata.docker_server_version).toMatch(/^\d+\.\d+/);

    const image = await docker.getImage(artifact.location).inspect();
    expect(image.Id).toBe(artifact.metadata.image_id);
    expect(image.Config.Labels).toMatchObject({
      'io.hop3.app': app,
      'io.hop3.build-id': artifact.build_id,
      'org.opencontainers.image.title': app,
      'org.opencontainers.image.created': expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });

    expect((await runInImage(artifact.location, 'id -u')).output.trim()).toBe('10001');
    const compilers = await runInImage(artifact.location, 'for c in gcc cc c++ g++ clang; do command -v $c; done; true');
    expect(compilers.output.trim()).toBe('');
    // Nothing of the build stage's package managers' caches either.
    expect((await runInImage(artifact.location, 'ls -A /root/.cache /root/.npm /tmp/npm-cache 2>/dev/null | wc -l', '0')).output.trim()).toBe('0');
  });

  it('leaves out what .dockerignore lists, and hop3\'s own generated files', async () => {
    await using sandbox = await Sandbox.create();
    const dir = await sandbox.fixture('python-web', 'dkb-ignore');
    await writeFile(path.join(dir, '.dockerignore'), 'notes-secret.txt\n');
    await writeFile(path.join(dir, 'notes-secret.txt'), 'do not ship\n');
    const { result, artifact } = await buildDocker(sandbox, dir);
    expect(result.exitCode, result.all).toBe(0);
    const listing = await runInImage(artifact.location, 'ls -A /app /app/.hop3');
    expect(listing.output).toContain('app.py');
    expect(listing.output).not.toContain('notes-secret.txt');
    expect(listing.output).not.toContain('.dockerignore');
    expect(listing.output).not.toContain('Dockerfile');
  });

  it('gives the same source the same build_id, tag and image; a change gets a new tag and the old image stays', async () => {
    await using sandbox = await Sandbox.create();
    const dir = await sandbox.fixture('static-site', 'dkb-repro');
    const first = await buildDocker(sandbox, dir);
    expect(first.result.exitCode, first.result.all).toBe(0);
    const reused = await buildDocker(sandbox, dir);
    expect(reused.result.stderr).toContain('nothing to build');
    expect(reused.artifact).toEqual(first.artifact);
    const again = await buildDocker(sandbox, dir, ['--force']); // the engine builds it again: same inputs, same tag and image
    expect(again.result.exitCode, again.result.all).toBe(0);
    expect(again.result.stderr).not.toContain('nothing to build');
    expect(again.artifact.build_id).toBe(first.artifact.build_id);
    expect(again.artifact.location).toBe(first.artifact.location);
    expect(again.artifact.metadata.image_id).toBe(first.artifact.metadata.image_id);

    await writeFile(path.join(dir, 'index.html'), '<!doctype html><p>changed</p>\n');
    const changed = await buildDocker(sandbox, dir);
    expect(changed.result.exitCode, changed.result.all).toBe(0);
    expect(changed.artifact.build_id).not.toBe(first.artifact.build_id);
    expect(changed.artifact.location).not.toBe(first.artifact.location);
    // The previous build is someone's rollback target: its tag and image are still there.
    expect((await docker.getImage(first.artifact.location).inspect()).Id).toBe(first.artifact.metadata.image_id);
  });

  it('refuses a symlink that points outside the build context', async () => {
    await using sandbox = await Sandbox.create();
    const dir = await sandbox.fixture('static-site', 'dkb-link');
    await symlink('/etc/passwd', path.join(dir, 'leak'));
    const { result } = await buildDocker(sandbox, dir);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('BUILD_DOCKER_SYMLINK_OUTSIDE_CONTEXT');
    expect(result.stderr).toContain(`${path.join(dir, 'leak')} is a symlink to /etc/passwd`);
  });

  it('fails a build whose RUN fails, naming the step', async () => {
    await using sandbox = await Sandbox.create();
    const dir = await sandbox.fixture('docker-own-dockerfile', 'dkb-fail');
    await writeFile(path.join(dir, 'Dockerfile'), 'FROM hop3/base-busybox:latest\nRUN echo about to fail && exit 3\n');
    const { result } = await buildDocker(sandbox, dir);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('[BUILD_DOCKER_BUILD_FAILED]');
    expect(result.stderr).toMatch(/failed at step 2\/\d+ `RUN echo about to fail && exit 3`/);
    expect(result.stderr).toContain('non-zero code: 3');
    expect(result.stderr).toContain('| about to fail'); // the output tail
  });

  it('names a missing base image and how to get it, without pulling', async () => {
    await using sandbox = await Sandbox.create();
    const dir = await sandbox.fixture('static-site', 'dkb-nobase');
    const { result } = await buildDocker(sandbox, dir, ['--base-image', 'hop3/no-such-base:1']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('[BUILD_DOCKER_BASE_IMAGE_MISSING]');
    expect(result.stderr).toContain('hop3/no-such-base:1');
    expect(result.stderr).toContain('docker pull hop3/no-such-base:1');
  });
});

describe('docker builder without a daemon', () => {
  it('says which DOCKER_HOST it tried and how to start dockerd', async () => {
    await using sandbox = await Sandbox.create();
    const dir = await sandbox.fixture('static-site');
    const result = await sandbox.hop3(['build', dir, '--builder', 'docker'], { env: { DOCKER_HOST: 'unix:///nonexistent.sock' } });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('[BUILD_DOCKER_DAEMON_UNREACHABLE]');
    expect(result.stderr).toContain('DOCKER_HOST=unix:///nonexistent.sock');
    expect(result.stderr).toContain('dockerd');
    expect(result.stderr).not.toMatch(/^\s+at /m); // no stack trace
  });
});
