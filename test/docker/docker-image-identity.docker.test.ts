import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { describeDocker, docker, LOCAL_IMAGES, sweepTestResources } from './docker-engine.js';

const APPS = ['dki-python', 'dki-node', 'dki-static', 'dki-stamp'];

describeDocker('bit-identical docker images and hop3 build --check (real daemon)', () => {
  afterAll(() => sweepTestResources(APPS));

  it.each([
    // Without SOURCE_DATE_EPOCH: the created label of the checked build is reused, layer times are 0.
    { fixture: 'python-web', app: 'dki-python', epoch: undefined, warm: false },
    { fixture: 'node-web', app: 'dki-node', epoch: '1700000000', warm: false },
    // Built first without SOURCE_DATE_EPOCH: the engine's cache then hands the checked build a COPY layer whose files
    // have the other context's times (it keys on content), which the check's build without cache does not have.
    { fixture: 'static-site', app: 'dki-static', epoch: '1700000000', warm: true },
  ])('$fixture: a rebuild without the engine cache gives the same image ID', async ({ fixture, app, epoch, warm }) => {
    await using sandbox = await Sandbox.create();
    const dir = await sandbox.fixture(fixture, app);
    await writeFile(path.join(dir, 'nonce.txt'), `${process.pid} ${Date.now()}\n`); // no other run's layers in the cache
    if (warm) {
      await using other = await Sandbox.create();
      const build = await other.hop3(['build', dir, '--builder', 'docker', '--quiet'], { env: LOCAL_IMAGES });
      expect(build.exitCode, build.all).toBe(0);
    }
    const check = await sandbox.hop3(['build', dir, '--builder', 'docker', '--check', '--json', '--quiet'], { env: { ...LOCAL_IMAGES, ...(epoch ? { SOURCE_DATE_EPOCH: epoch } : {}) } });
    expect(check.exitCode, check.all).toBe(0);
    const summary = JSON.parse(check.stdout);
    expect(summary).toMatchObject({ app, builder: 'docker', reproducible: true, compared: 'image id', files: [], fields: [] });
    expect(summary.second).toBe(summary.first);
    expect(check.stderr).toMatch(/normalised image: \d+ layers rewritten/);
    // The checked build's tag still names that image; the check's own tag is gone.
    const tag = `hop3/${app}:${summary.build_id}`;
    const image = await docker.getImage(tag).inspect();
    expect(image.Id).toBe(summary.first);
    expect(image.Created).toBe(epoch ? '2023-11-14T22:13:20Z' : '1970-01-01T00:00:00Z');
    expect(image.Config.Image).toBe('');
    await expect(docker.getImage(`${tag}-check`).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('fails with BUILD_NOT_REPRODUCIBLE naming the file a RUN step writes the time into', async () => {
    await using sandbox = await Sandbox.create();
    const dir = await sandbox.fixture('static-site', 'dki-stamp');
    await writeFile(
      path.join(dir, 'Dockerfile'),
      'ARG BASE_IMAGE=hop3/base-runtime:bookworm\nFROM ${BASE_IMAGE}\nWORKDIR /app\nCOPY . /app\nRUN date +%s%N > /app/stamp.txt\nCMD ["/bin/sh", "-c", "sleep 1000"]\n',
    );
    const check = await sandbox.hop3(['build', dir, '--builder', 'docker', '--check', '--json', '--quiet'], { env: { ...LOCAL_IMAGES, SOURCE_DATE_EPOCH: '1700000000' } });
    expect(check.exitCode, check.all).toBe(1);
    expect(check.stderr).toContain('BUILD_NOT_REPRODUCIBLE');
    expect(check.stderr).toContain('Differing files: /app/stamp.txt.');
    const summary = JSON.parse(check.stdout);
    expect(summary).toMatchObject({ app: 'dki-stamp', reproducible: false, compared: 'image id', files: ['/app/stamp.txt'], fields: [] });
    expect(summary.second).not.toBe(summary.first);
    // The checked image keeps its tag; the check's image is removed.
    expect((await docker.getImage(`hop3/dki-stamp:${summary.build_id}`).inspect()).Id).toBe(summary.first);
    await expect(docker.getImage(summary.second).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });
});
