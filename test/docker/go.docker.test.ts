import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { checkProbes, freePort, Sandbox } from '../helpers/sandbox.js';
import { containersOf, describeDocker, docker, LOCAL_IMAGES, runInImage, sweepTestResources } from './docker-engine.js';

const APP = 'dkg-go';

describeDocker('Go apps with the docker builder (real daemon)', () => {
  afterAll(() => sweepTestResources([APP]));

  it('builds go-web on the Go build image with the user\'s GOFLAGS, runs the binary on the runtime image (no Go in it), and serves it', async () => {
    await using sandbox = await Sandbox.create();
    const dir = await sandbox.fixture('go-web', APP);
    const artifactFile = path.join(sandbox.dir, `${APP}.json`);
    // GOFLAGS set on the host reaches the build stage as a build arg.
    const build = await sandbox.hop3(['build', dir, '--builder', 'docker', '--output', artifactFile], { env: { ...LOCAL_IMAGES, GOFLAGS: '-tags=hop3tag' } });
    expect(build.exitCode, build.all).toBe(0);
    expect(build.stderr).toContain('docker/go.Dockerfile');
    const artifact = JSON.parse(await readFile(artifactFile, 'utf8'));
    expect(artifact).toMatchObject({ kind: 'go', builder: 'docker', location: `hop3/${APP}:${artifact.build_id}`, runtime: { working_dir: '/app', workers: { web: '/app/bin/app' } } });
    expect(artifact.metadata.build_args).toEqual({
      BASE_IMAGE: 'hop3/base-runtime:bookworm',
      BUILD_IMAGE: 'hop3/base-go:bookworm',
      GO_BUILD: '-o bin/app .',
      GOFLAGS: '-tags=hop3tag',
    });

    const image = await docker.getImage(artifact.location).inspect();
    expect(image.Config.Labels).toMatchObject({ 'io.hop3.app': APP, 'io.hop3.test': '1' });
    const inside = await runInImage(artifact.location, 'id -u; command -v go gcc cc; test -x /app/bin/app && echo binary-ok');
    expect(inside.output.trim().split('\n')).toEqual(['10001', 'binary-ok']);

    const port = await freePort();
    const run = await sandbox.hop3(['run', APP, '--artifact', artifactFile, '--port', String(port)], { env: { HOP3_HOME: path.join(sandbox.dir, 'run-home') } });
    expect(run.exitCode, run.all).toBe(0);
    await checkProbes(`http://127.0.0.1:${port}/`, 'go-web');
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('hello from go-web (built with -tags=hop3tag)\n');
    const [container] = await containersOf(APP);
    expect((await docker.getContainer(container!).inspect()).Config.Labels).toMatchObject({ 'io.hop3.app': APP, 'io.hop3.test': '1' });
    expect((await sandbox.hop3(['stop', APP], { env: { HOP3_HOME: path.join(sandbox.dir, 'run-home') } })).exitCode).toBe(0);
    expect(await containersOf(APP)).toEqual([]);
  });
});
