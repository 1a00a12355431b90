import { mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { contextEntries, packContext } from '../../builders/docker/build-context.js';
import { followBuildStream } from '../../builders/docker/build-stream.js';
import { externalImages } from '../../builders/docker/resolve-dockerfile.js';
import { listSourceTree } from '../../builders/source-tree.js';
import { silentLogger } from '../../src/log/logger.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function app(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-ctx-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return dir;
}

async function tarOf(dir: string, epoch = 0): Promise<Buffer> {
  const entries = await contextEntries(dir, await listSourceTree(dir));
  const chunks: Buffer[] = [];
  for await (const chunk of packContext({ sourceDir: dir, entries, extras: [{ path: '.hop3/Dockerfile', content: Buffer.from('FROM x\n') }], epoch })) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Names in a tar (ustar: 512-byte headers, name in the first 100 bytes). */
function tarNames(tar: Buffer): string[] {
  const names: string[] = [];
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const name = tar.subarray(offset, offset + 100).toString('utf8').replace(/\0.*$/s, '');
    if (!name) break;
    names.push(name);
    const size = parseInt(tar.subarray(offset + 124, offset + 136).toString('utf8').replace(/\0.*$/s, '').trim() || '0', 8);
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}

describe('docker build context', () => {
  it('is byte-identical for identical sources, whatever their mtimes and owners', async () => {
    const files = { 'app.py': 'print(1)\n', 'lib/util.py': 'x = 1\n' };
    const a = await app(files);
    const b = await app(files);
    await utimes(path.join(b, 'app.py'), new Date('2001-02-03'), new Date('2001-02-03'));
    expect((await tarOf(a)).equals(await tarOf(b))).toBe(true);
    expect((await tarOf(a, 1_700_000_000)).equals(await tarOf(a))).toBe(false); // SOURCE_DATE_EPOCH is honoured
  });

  it('applies .dockerignore and hop3 excludes client side, and adds hop3 files', async () => {
    const dir = await app({ 'app.py': '', 'secret.env': 'x', '.dockerignore': 'secret.env\n*.log\n', 'debug.log': '', '.git/HEAD': 'ref', 'node_modules/x/index.js': '' });
    const names = tarNames(await tarOf(dir));
    expect(names).toContain('app.py');
    expect(names).toContain('.hop3/Dockerfile');
    expect(names).toContain('.hop3');
    for (const gone of ['secret.env', 'debug.log', '.git', '.git/HEAD', 'node_modules']) expect(names).not.toContain(gone);
  });

  it('refuses symlinks out of the context, keeps those inside', async () => {
    const dir = await app({ 'a/file.txt': 'x' });
    await symlink('a/file.txt', path.join(dir, 'inside'));
    expect(tarNames(await tarOf(dir))).toContain('inside');
    await symlink('../../etc/hosts', path.join(dir, 'a', 'escape'));
    await expect(contextEntries(dir, await listSourceTree(dir))).rejects.toMatchObject({ code: 'BUILD_DOCKER_SYMLINK_OUTSIDE_CONTEXT', file: 'a/escape' });
  });
});

describe('docker build stream', () => {
  const stream = (...messages: string[]) => Readable.from(messages.map((m) => Buffer.from(m)));

  it('returns the image ID; messages may be split across chunks', async () => {
    const lines: string[] = [];
    const result = await followBuildStream(
      stream('{"stream":"Step 1/2 : FROM x\\n"}\r\n{"stream":" ---> abc\\n"}\r\n{"str', 'eam":"hello\\n"}\r\n{"aux":{"ID":"sha256:1234"}}\r\n'),
      { ...silentLogger, output: (line) => lines.push(line) },
      'app',
    );
    expect(result.imageId).toBe('sha256:1234');
    expect(lines).toEqual(['Step 1/2 : FROM x', 'hello']);
  });

  it('counts the steps the engine took from its cache, leaving out FROM and the ARGs before it', async () => {
    const message = (text: string) => `${JSON.stringify({ stream: `${text}\n` })}\n`;
    const result = await followBuildStream(
      stream(
        ...['Step 1/6 : ARG BASE_IMAGE=x', 'Step 2/6 : FROM x', ' ---> abc', 'Step 3/6 : WORKDIR /app', ' ---> Using cache', ' ---> def'].map(message),
        ...['Step 4/6 : RUN install', ' ---> Using cache', ' ---> 123', 'Step 5/6 : COPY . /app', ' ---> 456', 'Step 6/6 : ARG LATE', ' ---> Running in 789'].map(message),
        '{"aux":{"ID":"sha256:1234"}}\n',
      ),
      silentLogger,
      'app',
    );
    expect(result.cache).toEqual({ steps: 4, cached: 2 });
  });

  it('fails on errorDetail although the HTTP status was 200, naming the step', async () => {
    const failing = stream('{"stream":"Step 2/3 : RUN make\\n"}\n{"stream":"make: not found\\n"}\n', '{"errorDetail":{"code":127,"message":"The command returned a non-zero code: 127"},"error":"The command returned a non-zero code: 127"}\n');
    await expect(followBuildStream(failing, silentLogger, 'app')).rejects.toMatchObject({
      code: 'BUILD_DOCKER_BUILD_FAILED',
      message: expect.stringContaining('failed at step 2/3 `RUN make`: The command returned a non-zero code: 127'),
      outputTail: expect.stringContaining('make: not found'),
    });
  });
});

describe('Dockerfile base images', () => {
  it('lists FROM images, expanding build args and global ARG defaults, skipping stages and scratch', () => {
    const dockerfile = 'ARG BASE_IMAGE=python:3.12-slim\nARG OTHER\nFROM ${BASE_IMAGE} AS build\nFROM build\nFROM --platform=linux/amd64 busybox:1 AS tools\nFROM scratch\nFROM $OTHER\n';
    expect(externalImages(dockerfile, {})).toEqual(['python:3.12-slim', 'busybox:1']);
    expect(externalImages(dockerfile, { BASE_IMAGE: 'hop3/base-runtime:bookworm', OTHER: 'alpine:3' })).toEqual(['hop3/base-runtime:bookworm', 'busybox:1', 'alpine:3']);
  });
});
