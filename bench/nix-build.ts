/**
 * `npm run bench:nix [fixture]`: wall time of `hop3 build --builder nix` ÷ a raw `nix build` of the
 * same generated expression, one cold build each (a nonce file makes both derivations new).
 * Goal: hop3 ≤ 1.05 × raw + 0.2 s.
 */
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import { packageRoot } from '../src/package-root.js';

const fixture = process.argv[2] ?? 'node-web';
const env = { ...process.env, HOP3_NIX_OFFLINE: '1', NIX_PATH: `nixpkgs=${path.join(packageRoot, 'fixtures', 'nixpkgs-mini')}` };
const hop3 = path.join(packageRoot, 'bin', 'hop3.js');

async function timed(file: string, args: string[], options: { cwd?: string; env: NodeJS.ProcessEnv }): Promise<number> {
  const start = performance.now();
  const result = await execa(file, args, { ...options, reject: false, all: true, stdin: 'ignore' });
  if (result.failed) throw new Error(`${file} ${args.join(' ')} failed:\n${result.all}`);
  return (performance.now() - start) / 1000;
}

/** A copy of the fixture under the same directory name (same derivation name), made unique by a nonce. */
async function copy(root: string, label: string): Promise<string> {
  const dir = path.join(root, label, fixture);
  await mkdir(path.dirname(dir), { recursive: true });
  await cp(path.join(packageRoot, 'fixtures', fixture), dir, { recursive: true });
  await writeFile(path.join(dir, 'bench-nonce.txt'), `${label} ${process.pid} ${Date.now()}\n`);
  return dir;
}

const root = await mkdtemp(path.join(os.tmpdir(), 'hop3-bench-nix-'));
try {
  // Raw: the expression hop3 generates, ejected, then built by nix directly.
  const rawDir = await copy(root, 'raw');
  await execa(process.execPath, [hop3, 'nix', 'eject', rawDir], { env });
  const vendor = path.join(root, 'vendor');
  await mkdir(vendor);
  const raw = await timed('nix', ['build', '-f', path.join(rawDir, 'hop3.nix'), '--arg', 'vendor', vendor, '--no-link', '--option', 'substituters', ''], { cwd: rawDir, env });

  const hop3Dir = await copy(root, 'hop3');
  const built = await timed(process.execPath, [hop3, 'build', hop3Dir, '--builder', 'nix', '--quiet'], { env: { ...env, HOP3_HOME: path.join(root, 'home') } });

  const ratio = built / raw;
  const goal = raw * 1.05 + 0.2;
  console.log(`nix builder, ${fixture}, one cold build each`);
  console.log(`  raw nix build                ${raw.toFixed(2)} s`);
  console.log(`  hop3 build --builder nix     ${built.toFixed(2)} s`);
  console.log(`  ratio ${ratio.toFixed(2)}; goal ≤ 1.05 × raw + 0.2 s = ${goal.toFixed(2)} s: ${built <= goal ? 'met' : 'MISSED'}`);
} finally {
  await rm(root, { recursive: true, force: true });
}
