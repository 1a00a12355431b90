import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, expect, it } from 'vitest';
import { LocalRegistry } from '../helpers/local-registry.js';
import { ROOT } from '../helpers/sandbox.js';
import { describeDocker, removeRegistryReferences, sweepTestResources } from './docker-engine.js';

const APP = 'shp-ci-to-prod';
const SCRIPT = path.join(ROOT, 'scripts', 'ci-to-prod-example.sh');

describeDocker('README "Build in CI, run in production" (scripts/ci-to-prod-example.sh against a real registry)', () => {
  let registry: LocalRegistry | undefined;
  afterAll(async () => {
    await sweepTestResources([APP]);
    if (registry) await removeRegistryReferences(registry.host);
    await registry?.[Symbol.asyncDispose]();
  });

  it('the script runs the README\'s commands: built in one home, pushed, pulled by digest and served in another', async () => {
    registry = await LocalRegistry.start();
    const run = await execa('bash', [SCRIPT], { env: { ...process.env, REGISTRY: `${registry.host}/examples`, APP, HOP3_LABELS: 'io.hop3.test=1' }, reject: false, all: true, stdin: 'ignore' });
    expect(run.exitCode, run.all).toBe(0);
    expect(run.stdout.trim().split('\n').at(-1)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(run.stderr).toContain(`==> pulling ${registry.host}/examples/${APP}@sha256:`);
    expect(run.stderr).toContain('built by its own Dockerfile'); // curl's body: the app answered on production
    expect(await registry.tags(`examples/${APP}`)).toHaveLength(1);
  });

  it('the script runs the README section\'s docker commands verbatim', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Build in CI, run in production'), readme.indexOf('A nix build goes through'));
    const commands = [...section.matchAll(/^(hop3 .+)$/gm)].map((m) => m[1]!);
    expect(commands.length).toBe(3);
    const script = await readFile(SCRIPT, 'utf8');
    for (const command of commands) expect(script).toContain(command);
  });
});
