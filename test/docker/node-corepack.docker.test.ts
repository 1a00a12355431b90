import { cp, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import tar from 'tar-fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkProbes, freePort, Sandbox } from '../helpers/sandbox.js';
import { describeDocker, docker, runInImage, sweepTestResources } from './docker-engine.js';

const APPS = ['dkn-yarn1', 'dkn-nocorepack'];
/** hop3's local build image plus this host's corepack and CA bundle: what node:20-slim with the CA (issue #14) would give. */
const BUILD_IMAGE = `hop3-test/node-corepack-build:${process.pid}`;
/** The user's choice, as in the local tests (this registry mirror serves no signatures, repo.yarnpkg.com is out of reach): passed to the docker build as build args. */
const COREPACK_ENV = { COREPACK_INTEGRITY_KEYS: '0', COREPACK_NPM_REGISTRY: 'https://registry.npmjs.org' };

describeDocker('node apps with yarn and pnpm in the generated Dockerfile (real daemon)', () => {
  beforeAll(async () => {
    const corepack = path.resolve(await realpath((await execa('sh', ['-c', 'command -v corepack'])).stdout.trim()), '..', '..');
    const ca = process.env.NODE_EXTRA_CA_CERTS ?? '/etc/ssl/certs/ca-certificates.crt';
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-corepack-image-'));
    try {
      await cp(corepack, path.join(dir, 'corepack'), { recursive: true });
      await cp(ca, path.join(dir, 'ca.crt'));
      await writeFile(
        path.join(dir, 'Dockerfile'),
        'FROM hop3/base-build:bookworm\nCOPY corepack /usr/lib/node_modules/corepack\nCOPY ca.crt /etc/ssl/certs/hop3-test-ca.crt\n' +
          'RUN ln -s /usr/lib/node_modules/corepack/dist/corepack.js /usr/bin/corepack\nENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/hop3-test-ca.crt\nLABEL io.hop3.test=1\n',
      );
      const stream = await docker.buildImage(tar.pack(dir) as unknown as NodeJS.ReadableStream, { t: BUILD_IMAGE, rm: true, forcerm: true });
      await new Promise((resolve, reject) => docker.modem.followProgress(stream, (error, events) => (error || events?.some((e) => e.error) ? reject(error ?? new Error(JSON.stringify(events?.find((e) => e.error)))) : resolve(undefined))));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  afterAll(async () => {
    await sweepTestResources(APPS);
    await docker.getImage(BUILD_IMAGE).remove({ force: true }).catch(() => undefined);
  });

  it('installs a yarn 1 app with corepack in the build stage; its container runs `yarn start` from the image, without corepack', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('node-yarn1', 'dkn-yarn1');
    const env = { ...COREPACK_ENV, HOP3_DOCKER_BASE_IMAGE: 'hop3/base-runtime:bookworm', HOP3_DOCKER_BUILD_IMAGE: BUILD_IMAGE };
    const deploy = await sandbox.hop3(['deploy', app, '--builder', 'docker', '--port', String(await freePort())], { env });
    expect(deploy.exitCode, deploy.all).toBe(0);
    await checkProbes(deploy.stdout.trim(), 'node-yarn1');
    const artifact = JSON.parse((await sandbox.hop3(['inspect', 'dkn-yarn1', '--json'])).stdout);
    expect(artifact.runtime).toMatchObject({ workers: { web: 'yarn start' }, path_prepend: ['/app/node_modules/.bin', '/app/.hop3/bin'] });
    expect(artifact.metadata.build_args).toMatchObject({ ...COREPACK_ENV, HOP3_PACKAGE_MANAGER: 'yarn@1', HOP3_NODE_INSTALL: 'yarn install --frozen-lockfile --non-interactive' });
    // The runtime image has no corepack; the build stage's corepack cache stayed behind.
    const image = await runInImage(artifact.location, 'command -v corepack; ls -A /tmp; /app/.hop3/bin/yarn --version; ls /app/node_modules');
    expect(image.output.trim().split('\n')).toEqual(['1.22.22', 'ms']);
    expect((await sandbox.hop3(['stop', 'dkn-yarn1'])).exitCode).toBe(0);
  });

  it('a build image without corepack fails the build saying so', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('node-pnpm', 'dkn-nocorepack');
    const build = await sandbox.hop3(['build', app, '--builder', 'docker'], { env: { HOP3_DOCKER_BASE_IMAGE: 'hop3/base-runtime:bookworm', HOP3_DOCKER_BUILD_IMAGE: 'hop3/base-build:bookworm' } });
    expect(build.exitCode).toBe(1);
    expect(build.stderr).toContain('corepack: corepack is not installed here');
    expect(build.stderr).toContain('[BUILD_DOCKER_BUILD_FAILED]');
  });
});
