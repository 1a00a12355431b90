import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { describeNix, NIX_TEST_ENV } from './nix-env.js';

describeNix('reproducible nix builds', () => {
  it('write byte-identical artifacts with SOURCE_DATE_EPOCH from two source dirs and two HOP3_HOMEs', async () => {
    await using a = await Sandbox.create();
    await using b = await Sandbox.create({ home: 'other home' });
    const texts: string[] = [];
    for (const [sandbox, as] of [[a, 'nix-default'], [b, 'nix-default']] as const) {
      const app = await sandbox.fixture('nix-default', as);
      const output = path.join(sandbox.dir, `${sandbox === a ? 'one' : 'two'}.json`);
      const build = await sandbox.hop3(['build', app, '--builder', 'nix', '--output', output, '--quiet'], { env: { ...NIX_TEST_ENV, SOURCE_DATE_EPOCH: '1700000000' } });
      expect(build.exitCode, build.all).toBe(0);
      texts.push(await readFile(output, 'utf8'));
    }
    const artifact = JSON.parse(texts[0]!);
    expect(texts[1]).toBe(texts[0]);
    expect(artifact).toMatchObject({ builder: 'nix', built_at: '2023-11-14T22:13:20.000Z', metadata: { built_at_source: 'SOURCE_DATE_EPOCH', build_dir: artifact.build_id, nix: { gc_root: `gcroots/${artifact.build_id}` } } });
    expect(artifact.metadata.provenance_inputs.engines).toEqual({ nix: artifact.metadata.nix.version, node: process.version });
    expect(texts[0]).not.toContain(a.dir);
  });
});
