import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import tarStream from 'tar-stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkProbes, freePort, ROOT, Sandbox } from '../helpers/sandbox.js';
import { describeDocker, docker, LOCAL_IMAGES, runInImage, sweepTestResources } from './docker-engine.js';

const APPS = ['dnet-express', 'dnet-noca', 'dnet-own'];
const TOKEN = 'hop3-npm-t0ken-d0c4';
/** Everything a CA bundle could come from (variables, npm's cafile, here in the global npmrc): removed, so that only --ca-bundle gives the build one. */
const NO_CA = { NODE_EXTRA_CA_CERTS: undefined, SSL_CERT_FILE: undefined, REQUESTS_CA_BUNDLE: undefined, PIP_CERT: undefined, npm_config_cafile: undefined, npm_config_globalconfig: '/dev/null' };
const LOCKED_EXPRESS = (JSON.parse(await readFile(path.join(ROOT, 'fixtures', 'node-express', 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> }).packages['node_modules/express']!.version;

/** Files of an image's filesystem (a container export) whose path or content holds any needle. */
async function imageFilesHolding(image: string, needles: readonly string[]): Promise<string[]> {
  const container = await docker.createContainer({ Image: image, Cmd: ['true'], Labels: { 'io.hop3.test': '1' } });
  const hits: string[] = [];
  try {
    const extract = tarStream.extract();
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk) => chunks.push(chunk as Buffer));
      stream.on('end', () => {
        const text = Buffer.concat(chunks).toString('latin1');
        if (needles.some((needle) => header.name.includes(needle) || text.includes(needle))) hits.push(header.name);
        next();
      });
    });
    const done = new Promise<void>((resolve, reject) => (extract.on('finish', () => resolve()), extract.on('error', reject)));
    (await container.export()).pipe(extract);
    await done;
  } finally {
    await container.remove({ force: true });
  }
  return hits;
}

describeDocker('builds behind a TLS-intercepting network, with a private registry token (docker builder)', () => {
  let sandbox: Sandbox;
  let bundle: string;
  /** A line of a CA made for this test, appended to the host's bundle: no file of a final image may hold it. */
  let caLine: string;
  let npmrc: string;

  beforeAll(async () => {
    sandbox = await Sandbox.create();
    const extra = path.join(sandbox.dir, 'extra-ca.pem');
    await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(sandbox.dir, 'extra-ca.key'), '-subj', '/CN=hop3 test extra CA', '-days', '1', '-out', extra]);
    const pem = await readFile(extra, 'utf8');
    caLine = pem.split('\n')[5]!;
    bundle = path.join(sandbox.dir, 'bundle.pem');
    await writeFile(bundle, `${await readFile(process.env.NODE_EXTRA_CA_CERTS ?? '/etc/ssl/certs/ca-certificates.crt', 'utf8')}\n${pem}`);
    npmrc = path.join(sandbox.dir, 'user.npmrc');
    await writeFile(npmrc, `//registry.npmjs.org/:_authToken=${TOKEN}\n`);
  });
  afterAll(async () => {
    await sweepTestResources(APPS);
    await sandbox[Symbol.asyncDispose]();
  });

  it('installs registry dependencies with --ca-bundle and the npm token in the build stage; the final image, its history and labels hold neither', async () => {
    const app = await sandbox.fixture('node-express', 'dnet-express');
    const env = { ...LOCAL_IMAGES, ...NO_CA, npm_config_userconfig: npmrc };
    const deploy = await sandbox.hop3(['deploy', app, '--builder', 'docker', '--ca-bundle', bundle, '--port', String(await freePort())], { env });
    expect(deploy.exitCode, deploy.all).toBe(0);
    try {
      await checkProbes(deploy.stdout.trim(), 'node-express');
      expect(await (await fetch(deploy.stdout.trim())).text()).toContain(`express ${LOCKED_EXPRESS}\n`);
    } finally {
      expect((await sandbox.hop3(['stop', 'dnet-express'])).exitCode).toBe(0);
    }
    expect(deploy.all).not.toContain(TOKEN);
    const artifactText = await readFile(path.join(sandbox.home, 'apps', 'dnet-express', 'BUILD_ARTIFACT.json'), 'utf8');
    expect(artifactText).not.toContain(TOKEN);
    const image = JSON.parse(artifactText).location as string;
    const info = await docker.getImage(image).inspect();
    const history = await docker.getImage(image).history();
    for (const needle of [TOKEN, caLine, 'hop3-network', 'npmrc']) {
      expect(JSON.stringify(info.Config.Labels)).not.toContain(needle);
      expect(JSON.stringify(history)).not.toContain(needle);
    }
    expect(await imageFilesHolding(image, [TOKEN, caLine, 'hop3-network'])).toEqual([]);
  });

  it('without a CA bundle, the build fails with BUILD_NETWORK_CA_UNTRUSTED pointing at --ca-bundle, not with npm alone', async () => {
    const app = await sandbox.fixture('node-express', 'dnet-noca');
    // npm's retries would add a minute: the user's fetch settings reach the build stage like the registry's.
    const build = await sandbox.hop3(['build', app, '--builder', 'docker'], { env: { ...LOCAL_IMAGES, ...NO_CA, npm_config_fetch_retries: '0' } });
    expect(build.exitCode, build.all).toBe(1);
    const error = build.stderr.slice(build.stderr.indexOf('hop3: Docker build of dnet-noca failed'));
    expect(error).toMatch(/^hop3: Docker build of dnet-noca failed: a TLS certificate was not trusted \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\).*\[BUILD_NETWORK_CA_UNTRUSTED\]\n/);
    expect(error).toContain('no CA bundle is configured');
    expect(error).toContain('--ca-bundle FILE');
    expect(build.stderr).not.toContain('[INTERNAL]');
  });

  it("an app's own Dockerfile gets the proxy as build args, and the CA and registry settings when it copies .hop3-network/ in a build stage", async () => {
    const app = path.join(sandbox.dir, 'apps', 'dnet-own');
    await execa('mkdir', ['-p', app]);
    await writeFile(
      path.join(app, 'Dockerfile'),
      [
        'FROM hop3/base-build:bookworm AS build',
        'ARG CA_LINE',
        'COPY .hop3-network/ /tmp/hop3-network/',
        'RUN . /tmp/hop3-network/env.sh && mkdir /out && echo "proxy=$HTTPS_PROXY" > /out/seen.txt && grep -c "$CA_LINE" "$NODE_EXTRA_CA_CERTS" >> /out/seen.txt && npm view is-number@7.0.0 version >> /out/seen.txt',
        'FROM hop3/base-runtime:bookworm',
        'COPY --from=build /out /app',
        'CMD ["cat", "/app/seen.txt"]',
        '',
      ].join('\n'),
    );
    await writeFile(path.join(app, 'hop3.toml'), `[docker]\nbuild-args = { CA_LINE = "${caLine}" }\n`);
    // The proxy is never reached (the registry is in NO_PROXY): the test is that RUN steps see it and the history does not.
    const env = { ...NO_CA, npm_config_userconfig: npmrc, NO_PROXY: 'registry.npmjs.org' };
    const build = await sandbox.hop3(['build', app, '--builder', 'docker', '--ca-bundle', bundle, '--proxy', 'http://proxy.invalid:3128', '--json'], { env });
    expect(build.exitCode, build.all).toBe(0);
    const artifact = JSON.parse(build.stdout) as { location: string; metadata: { build_args: Record<string, string> } };
    expect((await runInImage(artifact.location, 'cat /app/seen.txt')).output.trim().split('\n')).toEqual(['proxy=http://proxy.invalid:3128', '1', '7.0.0']);
    expect(JSON.stringify(await docker.getImage(artifact.location).history())).not.toContain('proxy.invalid');
    expect(artifact.metadata.build_args).not.toHaveProperty('HTTPS_PROXY');
  });
});
