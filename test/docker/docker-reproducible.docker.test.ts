import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { describeDocker, LOCAL_IMAGES, sweepTestResources } from './docker-engine.js';

const APP = 'dkr-static';

describeDocker('reproducible docker builds', () => {
  afterAll(() => sweepTestResources([APP]));

  it('write byte-identical artifacts with SOURCE_DATE_EPOCH from two source dirs and two HOP3_HOMEs', async () => {
    await using a = await Sandbox.create();
    await using b = await Sandbox.create({ home: 'other home' });
    const texts: string[] = [];
    for (const sandbox of [a, b]) {
      const app = await sandbox.fixture('static-site', APP);
      const output = path.join(sandbox.dir, 'artifact.json');
      const build = await sandbox.hop3(['build', app, '--builder', 'docker', '--output', output, '--quiet'], { env: { ...LOCAL_IMAGES, SOURCE_DATE_EPOCH: '1700000000' } });
      expect(build.exitCode, build.all).toBe(0);
      texts.push(await readFile(output, 'utf8'));
    }
    const artifact = JSON.parse(texts[0]!);
    expect(texts[1]).toBe(texts[0]);
    expect(artifact).toMatchObject({ builder: 'docker', location: `hop3/${APP}:${artifact.build_id}`, built_at: '2023-11-14T22:13:20.000Z', metadata: { built_at_source: 'SOURCE_DATE_EPOCH' } });
    const inputs = artifact.metadata.provenance_inputs;
    expect(inputs.engines).toEqual({ docker_server: artifact.metadata.docker_server_version, node: process.version });
    expect(inputs.base_images).toEqual(artifact.metadata.base_images);
    expect(Object.keys(inputs.base_images).length).toBeGreaterThan(0);
    expect(artifact.metadata.build_cache).toBeUndefined(); // how much the cache held is in the log, not in a reproducible artifact
  });
});
