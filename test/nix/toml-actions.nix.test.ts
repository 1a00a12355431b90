import { access, readFile, readlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { describeNix, NIX_TEST_ENV } from './nix-env.js';

const exists = (file: string) => access(file).then(() => true, () => false);

describeNix('[build] packages and [run] packages with the nix builder (real nix, fixtures/nixpkgs-mini)', () => {
  it('puts [build] packages on the build\'s PATH and links [run] packages into $out/bin, from the package set', async () => {
    await using sandbox = await Sandbox.create();
    const dir = await sandbox.fixture('node-web', 'nix-packages');
    const pkg = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'));
    pkg.scripts.build = 'jq -n "6*7" > built-with-jq.txt'; // `npm run build` inside the derivation: jq must be on its PATH
    await writeFile(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
    await writeFile(path.join(dir, 'hop3.toml'), '[build]\npackages = ["jq=1.6*"]\n\n[run]\npackages = ["bc"]\n');

    const output = path.join(sandbox.dir, 'packages.json');
    const build = await sandbox.hop3(['build', dir, '--builder', 'nix', '--output', output], { env: NIX_TEST_ENV });
    expect(build.exitCode, build.all).toBe(0);
    const { location, runtime } = JSON.parse(await readFile(output, 'utf8'));
    expect(await readFile(path.join(location, 'app', 'built-with-jq.txt'), 'utf8')).toBe('42\n');
    expect(await readlink(path.join(location, 'bin', 'bc'))).toMatch(/^\/nix\/store\/[0-9a-z]{32}-bc\/bin\/bc$/);
    expect(await exists(path.join(location, 'bin', 'jq'))).toBe(false); // build only
    expect(runtime.path_prepend).toContain(`${location}/bin`);
  });

  it('names a package the set does not have (BUILD_NIX_PACKAGE_UNKNOWN), mapping Debian names first', async () => {
    await using sandbox = await Sandbox.create();
    const dir = await sandbox.fixture('procfile-app', 'nix-unknown');
    await writeFile(path.join(dir, 'hop3.toml'), '[run]\npackages = ["libpq-dev"]\n');
    const build = await sandbox.hop3(['build', dir, '--builder', 'nix'], { env: NIX_TEST_ENV });
    expect(build.exitCode).toBe(1);
    expect(build.stderr).toContain('hop3: [run] packages: the package set has no "postgresql"');
    expect(build.stderr).toContain('[BUILD_NIX_PACKAGE_UNKNOWN]');
    expect(build.stderr).toContain('hint: Name a nixpkgs attribute');
  });
});
