import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { layerViolations, readLayeredSources } from './helpers/layers.js';
import { checkProbes, freePort, ROOT, Sandbox } from './helpers/sandbox.js';

/** The "Adding a builder" walk-through of ARCHITECTURE.md: its code blocks, applied to a copy of the repo. */
async function exampleBlocks(): Promise<{ files: Map<string, string>; registryLine: string }> {
  const doc = await readFile(path.join(ROOT, 'ARCHITECTURE.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Adding a builder'), doc.indexOf('## Adding a deployer target'));
  const files = new Map<string, string>();
  let registryLine = '';
  for (const [, body] of section.matchAll(/```ts\n([\s\S]*?)```/g)) {
    const [first, ...rest] = body!.split('\n');
    const file = /^\/\/ file: (\S+)/.exec(first!)?.[1];
    if (file) files.set(file, rest.join('\n'));
    if (/^\/\/ registry: builders\/registry\.ts/.test(first!)) registryLine = rest.join('\n').trim();
  }
  return { files, registryLine };
}

describe('ARCHITECTURE.md: adding a builder touches its folder and one registry line', () => {
  let copy: string;
  afterAll(async () => {
    if (copy) await rm(copy, { recursive: true, force: true });
  });

  it('builds and serves an app with the documented example builder', async () => {
    const { files, registryLine } = await exampleBlocks();
    expect([...files.keys()]).toEqual(['builders/copy/copy-builder.ts']);
    expect(registryLine).toMatch(/^copy: /);

    copy = await mkdtemp(path.join(os.tmpdir(), 'hop3-example-'));
    for (const entry of ['src', 'builders', 'docker', 'nix', 'bin', 'scripts', 'package.json', 'tsconfig.json']) await cp(path.join(ROOT, entry), path.join(copy, entry), { recursive: true });
    await symlink(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
    for (const [file, text] of files) {
      await mkdir(path.dirname(path.join(copy, file)), { recursive: true });
      await writeFile(path.join(copy, file), text);
    }
    const registry = path.join(copy, 'builders/registry.ts');
    const source = await readFile(registry, 'utf8');
    expect(source).toContain('const BUILDERS = {\n');
    await writeFile(registry, source.replace('const BUILDERS = {\n', `const BUILDERS = {\n  ${registryLine}\n`));

    expect(layerViolations(await readLayeredSources(copy))).toEqual([]);
    await execa('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit'], { cwd: copy, reject: false }).then((r) => expect(r.exitCode, r.stdout).toBe(0));
    await execa(process.execPath, ['scripts/bundle.mjs'], { cwd: copy });

    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('procfile-app');
    const hop3 = (args: string[]) => execa(process.execPath, [path.join(copy, 'bin/hop3.js'), ...args], { env: sandbox.env, reject: false, all: true });
    const help = await hop3(['build', '--help']);
    expect(help.stdout).toContain('"copy"');
    // A builder that does not say it can keep build secrets out of what it builds is refused them.
    const secret = await execa(process.execPath, [path.join(copy, 'bin/hop3.js'), 'build', app, '--builder', 'copy', '--secret', 'id=TOKEN'], { env: { ...sandbox.env, TOKEN: 'x' }, reject: false, all: true });
    expect(secret.exitCode, secret.all).toBe(1);
    expect(secret.stderr).toContain('The copy builder does not take build secrets (TOKEN). Nothing was built. [BUILD_SECRETS_UNSUPPORTED]');
    const built = await hop3(['build', app, '--builder', 'copy', '--json']);
    expect(built.exitCode, built.all).toBe(0);
    expect(JSON.parse(built.stdout)).toMatchObject({ builder: 'copy', kind: 'generic' });
    const port = await freePort();
    const ran = await hop3(['run', 'procfile-app', '--port', String(port)]);
    expect(ran.exitCode, ran.all).toBe(0);
    await checkProbes(`http://127.0.0.1:${port}`, 'procfile-app');
    expect((await hop3(['stop', 'procfile-app'])).exitCode).toBe(0);
  });
});
