/**
 * `npm run bench:nix [fixture]`: wall time of `hop3 build --builder nix` ÷ a raw `nix build` of the
 * same generated expression: the median of BENCH_RUNS (5) interleaved cold builds each (a nonce file makes every derivation new).
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

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const root = await mkdtemp(path.join(os.tmpdir(), 'hop3-bench-nix-'));
try {
  const vendor = path.join(root, 'vendor');
  await mkdir(vendor);
  const raws: number[] = [];
  const hop3s: number[] = [];
  // Interleaved, so that whatever else the machine does weighs on both sides alike.
  for (let run = 0; run < RUNS; run++) {
    // Raw: the expression hop3 generates, ejected, then built by nix directly.
    const rawDir = await copy(root, `raw-${run}`);
    await execa(process.execPath, [hop3, 'nix', 'eject', rawDir], { env });
    raws.push(await timed('nix', ['build', '-f', path.join(rawDir, 'hop3.nix'), '--arg', 'vendor', vendor, '--no-link', '--option', 'substituters', ''], { cwd: rawDir, env }));
    const hop3Dir = await copy(root, `hop3-${run}`);
    hop3s.push(await timed(process.execPath, [hop3, 'build', hop3Dir, '--builder', 'nix', '--quiet'], { env: { ...env, HOP3_HOME: path.join(root, 'home') } }));
  }
  const [raw, built] = [median(raws), median(hop3s)];
  const goal = raw * 1.05 + 0.2;
  console.log(`nix builder, ${fixture}, median of ${RUNS} cold builds each (interleaved)`);
  console.log(`  raw nix build                ${raw.toFixed(2)} s   (${raws.map((t) => t.toFixed(2)).join(' ')})`);
  console.log(`  hop3 build --builder nix     ${built.toFixed(2)} s   (${hop3s.map((t) => t.toFixed(2)).join(' ')})`);
  console.log(`  ratio ${(built / raw).toFixed(2)}; overhead ${(built - raw).toFixed(2)} s; goal ≤ 1.05 × raw + 0.2 s = ${goal.toFixed(2)} s: ${built <= goal ? 'met' : 'MISSED'}`);
} finally {
  await rm(root, { recursive: true, force: true });
}
