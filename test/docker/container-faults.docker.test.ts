import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tar from 'tar-fs';
import { afterAll, expect, it } from 'vitest';
import { freePort, Sandbox } from '../helpers/sandbox.js';
import { describeDocker, docker } from './docker-engine.js';

const IMAGE = 'hop3-test/file-workdir:1';

describeDocker('container faults the engine gives on demand', () => {
  afterAll(() => docker.getImage(IMAGE).remove({ force: true }).catch(() => undefined));

  it('reports an image the engine cannot start a worker from (DEPLOY_CONTAINER_START_FAILED), starting nothing', async () => {
    // An image whose working directory is a file: the engine creates the container, then cannot start it.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-fileworkdir-'));
    try {
      await writeFile(path.join(dir, 'hello.txt'), 'a file, not a directory\n');
      const stream = (await docker.importImage(tar.pack(dir) as unknown as NodeJS.ReadableStream, { repo: 'hop3-test/file-workdir', tag: '1', changes: ['LABEL io.hop3.test=1'] } as never)) as unknown as NodeJS.ReadableStream;
      await new Promise((resolve, reject) => docker.modem.followProgress(stream, (error) => (error ? reject(error) : resolve(undefined))));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    await using sandbox = await Sandbox.create();
    const artifact = {
      schema_version: 1, kind: 'generic', location: IMAGE, builder: 'docker', app_name: 'dkf-noshell', built_at: '2026-11-27T00:00:00Z', build_id: 'noshell1', metadata: {},
      runtime: { env_vars: {}, path_prepend: [], working_dir: '/hello.txt', workers: { web: 'serve' }, before_run: [], static_paths: {}, healthcheck_path: '', healthcheck_timeout: 5 },
    };
    const file = path.join(sandbox.dir, 'artifact.json');
    await writeFile(file, JSON.stringify(artifact));
    const run = await sandbox.hop3(['run', 'dkf-noshell', '--artifact', file, '--port', String(await freePort())]);
    expect(run.exitCode, run.all).toBe(1);
    expect(run.stderr).toContain('[DEPLOY_CONTAINER_START_FAILED]');
    expect(run.stderr).not.toContain('INTERNAL');
    const left = await docker.listContainers({ all: true, filters: JSON.stringify({ label: ['io.hop3.app=dkf-noshell'] }) });
    expect(left).toEqual([]);
    const releases = JSON.parse((await sandbox.hop3(['releases', 'dkf-noshell', '--json'])).stdout) as { status: string; reason?: string }[];
    expect(releases).toMatchObject([{ status: 'failed' }]);
  });
});
