import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BuildContext } from '../../builders/builder.js';
import { contextEntries } from '../../builders/docker/build-context.js';
import { DEPENDENCY_FILES_MARKER } from '../../builders/docker/dependency-layer.js';
import { DockerBuilder } from '../../builders/docker/docker-builder.js';
import { resolveDockerfile, TEMPLATES_DIR } from '../../builders/docker/resolve-dockerfile.js';
import { listSourceTree } from '../../builders/source-tree.js';
import { generic } from '../../builders/toolchains/generic.js';
import { detectToolchain } from '../../builders/toolchains/registry.js';
import { WSGI_SERVER_SCRIPT } from '../../builders/toolchains/python.js';
import type { Toolchain } from '../../builders/toolchains/toolchain.js';
import { loadAppConfig } from '../../src/config/app-config.js';
import { isHop3Error, type ErrorCode } from '../../src/errors.js';
import { silentLogger } from '../../src/log/logger.js';
import { appPaths } from '../../src/state/hop3-home.js';

const root = await mkdtemp(path.join(os.tmpdir(), 'hop3-dockerfile-'));
afterAll(() => rm(root, { recursive: true, force: true }));
let apps = 0;

const PYTHON_APP = { 'requirements.txt': '', 'app.py': 'print(1)\n' };
const OWN = 'FROM alpine:3.19 AS base\nRUN true\nFROM base\n';

/** Resolve the Dockerfile of an app made of these files, as the docker builder does. */
async function resolve(files: Record<string, string>, options: { baseImage?: string; env?: NodeJS.ProcessEnv; toolchain?: Toolchain; links?: Record<string, string> } = {}) {
  const dir = path.join(root, `app-${++apps}`);
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  for (const [name, target] of Object.entries(options.links ?? {})) await symlink(target, path.join(dir, name));
  const config = await loadAppConfig(dir);
  const sourceEntries = await listSourceTree(dir);
  const ctx: BuildContext = {
    appName: 'demo', sourceDir: dir, config, toolchain: options.toolchain ?? (await detectToolchain(config)).toolchain,
    paths: appPaths('demo', { HOP3_HOME: path.join(root, 'home') }), sourceEntries, sourceDigest: 'digest', buildKey: 'sha256:key', secrets: [], now: new Date(), builtAtSource: 'clock', env: options.env ?? {}, log: silentLogger,
    ...(options.baseImage ? { baseImage: options.baseImage } : {}),
  };
  return { dir, ctx, resolved: resolveDockerfile(ctx, await contextEntries(dir, sourceEntries)) };
}

async function rejection(promise: Promise<unknown>, code: ErrorCode): Promise<Error & Record<string, unknown>> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(isHop3Error(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
  return error as Error & Record<string, unknown>;
}

describe('Dockerfile selection', () => {
  it('generates the toolchain\'s template when the app has no Dockerfile, with the files it needs', async () => {
    const resolved = await (await resolve(PYTHON_APP)).resolved;
    expect(resolved).toMatchObject({ path: '.hop3/Dockerfile', origin: 'docker/python.Dockerfile', generated: true, sendText: true });
    // The template, its install step getting requirements.txt alone before the code, minus its package markers (nothing to install).
    expect(resolved.text).toBe((await readFile(path.join(TEMPLATES_DIR, 'python.Dockerfile'), 'utf8')).replace(`${DEPENDENCY_FILES_MARKER}\n`, 'COPY ["requirements.txt", "/app/"]\n').replace(/^# @hop3 .*\n/gm, ''));
    expect(resolved.dependencyFiles).toEqual(['requirements.txt']);
    expect(resolved.text).not.toContain('apt-get');
    expect(resolved.buildArgs).toEqual({ BASE_IMAGE: 'python:3.12-slim', BUILD_IMAGE: 'python:3.12-slim' });
    expect(resolved.baseImages).toEqual(['python:3.12-slim']);
    expect(resolved.extras.map((extra) => [extra.path, extra.content.toString()])).toEqual([
      ['.dockerignore', '.hop3/Dockerfile\n.dockerignore\n'],
      ['.hop3/wsgi-server.py', await readFile(WSGI_SERVER_SCRIPT, 'utf8')],
    ]);
  });

  it('installs [build] packages in the build stage and [run] packages in the final one, with apt, as root before USER', async () => {
    const toml = { 'hop3.toml': '[build]\npackages = ["libpq-dev", "jq=1.6*"]\n[run]\npackages = ["libpq5"]\n' };
    const { text } = await (await resolve({ ...PYTHON_APP, ...toml })).resolved;
    const [build = '', final = ''] = text.split(/^# Final stage/m);
    expect(build).toMatch(/^FROM \$\{BUILD_IMAGE\} AS build\nWORKDIR \/app\n# \[build\] packages from hop3.toml.*\nRUN command -v apt-get .*\n {4}apt-get update \\\n && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libpq-dev 'jq=1\.6\*' \\\n && rm -rf \/var\/lib\/apt\/lists\/\*\nENV PIP_NO_CACHE_DIR/m);
    expect(build).not.toContain('libpq5');
    expect(final).toContain('apt-get install -y --no-install-recommends libpq5 \\');
    expect(final).not.toContain('libpq-dev');
    expect(final.indexOf('apt-get install')).toBeLessThan(final.indexOf('USER 10001'));
    // One stage for a Procfile app: both lists there, once each.
    const generic = await (await resolve({ Procfile: 'web: ./serve\n', 'hop3.toml': '[build]\npackages = ["jq"]\n[run]\npackages = ["jq", "bc"]\n' })).resolved;
    expect(generic.text).toContain('apt-get install -y --no-install-recommends jq bc \\');
    expect(generic.text.match(/apt-get install/g)).toHaveLength(1);
  });

  it('leaves the app\'s own Dockerfile as it is when hop3.toml lists packages, and its plan says so', async () => {
    const { resolved, ctx } = await resolve({ Dockerfile: OWN, 'hop3.toml': '[run]\npackages = ["jq"]\n' });
    expect((await resolved).text).toBe(OWN);
    const plan = await new DockerBuilder({ env: {} }).plan(ctx);
    expect(plan.warnings).toEqual(["hop3.toml: [build]/[run] packages (jq) are not added to the app's own Dockerfile: install them there (hop3 adds them only to what it generates)"]);
  });

  it.each([
    ['the toolchain default', {}, {}, undefined, { BASE_IMAGE: 'python:3.12-slim', BUILD_IMAGE: 'python:3.12-slim' }],
    ['HOP3_DOCKER_BASE_IMAGE, also for the build stage', {}, { HOP3_DOCKER_BASE_IMAGE: 'env/base:1' }, undefined, { BASE_IMAGE: 'env/base:1', BUILD_IMAGE: 'env/base:1' }],
    ['HOP3_DOCKER_BUILD_IMAGE for the build stage', {}, { HOP3_DOCKER_BASE_IMAGE: 'env/base:1', HOP3_DOCKER_BUILD_IMAGE: 'env/build:1' }, undefined, { BASE_IMAGE: 'env/base:1', BUILD_IMAGE: 'env/build:1' }],
    ['[docker] base-image and build-image over the environment', { 'hop3.toml': '[docker]\nbase-image = "toml/base:1"\nbuild-image = "toml/build:1"\n' }, { HOP3_DOCKER_BASE_IMAGE: 'env/base:1', HOP3_DOCKER_BUILD_IMAGE: 'env/build:1' }, undefined, { BASE_IMAGE: 'toml/base:1', BUILD_IMAGE: 'toml/build:1' }],
    ['--base-image over everything', { 'hop3.toml': '[docker]\nbase-image = "toml/base:1"\n' }, { HOP3_DOCKER_BASE_IMAGE: 'env/base:1' }, 'flag/base:1', { BASE_IMAGE: 'flag/base:1', BUILD_IMAGE: 'flag/base:1' }],
  ])('chooses the images from %s', async (_title, files, env, baseImage, images) => {
    const resolved = await (await resolve({ ...PYTHON_APP, ...files }, { env, ...(baseImage ? { baseImage } : {}) })).resolved;
    expect(resolved.buildArgs).toEqual(images);
    expect(resolved.baseImages).toEqual([...new Set([images.BUILD_IMAGE, images.BASE_IMAGE])]); // build stage first, as in the file
  });

  it('passes [docker] build-args along, the images hop3 chose winning', async () => {
    const toml = '[docker]\nbuild-args = { FOO = "1", BASE_IMAGE = "mine:1" }\n';
    expect((await (await resolve({ ...PYTHON_APP, 'hop3.toml': toml })).resolved).buildArgs).toEqual({ FOO: '1', BASE_IMAGE: 'python:3.12-slim', BUILD_IMAGE: 'python:3.12-slim' });
  });

  it('builds the app\'s own Dockerfile as it is, passing BASE_IMAGE/BUILD_IMAGE only when someone chose them', async () => {
    const { resolved } = await resolve({ ...PYTHON_APP, Dockerfile: OWN });
    expect(await resolved).toEqual({ path: 'Dockerfile', text: OWN, origin: 'Dockerfile', generated: false, sendText: false, extras: [], buildArgs: {}, baseImages: ['alpine:3.19'] });
    const chosen = await (await resolve({ ...PYTHON_APP, Dockerfile: OWN }, { env: { HOP3_DOCKER_BASE_IMAGE: 'env/base:1', HOP3_DOCKER_BUILD_IMAGE: 'env/build:1' } })).resolved;
    expect(chosen.buildArgs).toEqual({ BASE_IMAGE: 'env/base:1', BUILD_IMAGE: 'env/build:1' });
  });

  it('prefers [docker] dockerfile to a Dockerfile at the root', async () => {
    const named = 'FROM busybox:1\n';
    for (const written of ['deploy/web.Dockerfile', './deploy/../deploy/web.Dockerfile']) {
      const files = { ...PYTHON_APP, Dockerfile: OWN, 'deploy/web.Dockerfile': named, 'hop3.toml': `[docker]\ndockerfile = "${written}"\n` };
      expect(await (await resolve(files)).resolved, written).toMatchObject({ path: 'deploy/web.Dockerfile', text: named, origin: 'deploy/web.Dockerfile', generated: false, baseImages: ['busybox:1'] });
    }
  });

  it('sends an own Dockerfile (and .dockerignore) that .dockerignore leaves out, as the docker CLI does', async () => {
    const ignore = 'Dockerfile\n.dockerignore\n';
    const resolved = await (await resolve({ ...PYTHON_APP, Dockerfile: OWN, '.dockerignore': ignore })).resolved;
    expect(resolved).toMatchObject({ path: 'Dockerfile', text: OWN, sendText: true });
    expect(resolved.extras.map((extra) => [extra.path, extra.content.toString()])).toEqual([['.dockerignore', ignore]]);
  });

  it.each(['../other/Dockerfile', '/etc/passwd', 'deploy/../../Dockerfile', '..'])('refuses [docker] dockerfile = %s, outside the app directory', async (written) => {
    const { dir, resolved } = await resolve({ ...PYTHON_APP, 'hop3.toml': `[docker]\ndockerfile = "${written}"\n` });
    const error = await rejection(resolved, 'BUILD_DOCKER_DOCKERFILE_OUTSIDE');
    expect(error.message).toBe(`[docker] dockerfile = "${written}" is outside the app directory ${dir}.`);
  });

  it('refuses a [docker] dockerfile that is a symlink to a file outside the app directory', async () => {
    const outside = path.join(root, 'outside.Dockerfile');
    await writeFile(outside, 'FROM secret\n');
    // .dockerignore leaves the link out of the context, so the context's own symlink check never sees it.
    const files = { ...PYTHON_APP, '.dockerignore': 'linked.Dockerfile\n', 'hop3.toml': '[docker]\ndockerfile = "linked.Dockerfile"\n' };
    const { resolved } = await resolve(files, { links: { 'linked.Dockerfile': outside } });
    const error = await rejection(resolved, 'BUILD_DOCKER_DOCKERFILE_OUTSIDE');
    expect(error.message).toContain(`"linked.Dockerfile" is a symlink to ${outside}, outside the app directory`);
    // A link that stays inside is fine.
    const inside = { ...files, 'deploy/web.Dockerfile': 'FROM busybox:1\n' };
    expect(await (await resolve(inside, { links: { 'linked.Dockerfile': 'deploy/web.Dockerfile' } })).resolved).toMatchObject({ path: 'linked.Dockerfile', text: 'FROM busybox:1\n' });
  });

  it('names a [docker] dockerfile that does not exist', async () => {
    const { dir, resolved } = await resolve({ ...PYTHON_APP, 'hop3.toml': '[docker]\ndockerfile = "nope.Dockerfile"\n' });
    const error = await rejection(resolved, 'BUILD_DOCKER_DOCKERFILE_MISSING');
    expect(error.message).toContain(`Cannot read the Dockerfile ${path.join(dir, 'nope.Dockerfile')}: ENOENT`);
    expect(error).toMatchObject({ file: 'nope.Dockerfile', hint: expect.stringContaining('[docker] dockerfile') });
  });

  it('says so when the toolchain has no template and the app no Dockerfile', async () => {
    const { resolved } = await resolve({ Procfile: 'web: ./serve\n' }, { toolchain: { ...generic, dockerfile: undefined } as Toolchain });
    const error = await rejection(resolved, 'BUILD_DOCKER_NO_TEMPLATE');
    expect(error.message).toBe('hop3 has no Dockerfile template for generic apps.');
  });
});
