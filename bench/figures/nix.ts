// `hop3 build --builder nix` (the CLI) ÷ a raw `nix build` of the same generated expression (ejected), cold:
// a nonce file makes every derivation new. Interleaved, so the machine's load weighs on both alike.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NixBuilder } from '../../builders/nix/nix-builder.js';
import { packageRoot } from '../../src/package-root.js';
import { duration, expectSuccess, hop3, median, repeat, Sandbox, spread, timed, verdict, type Figure } from '../harness.js';

const FIXTURE = 'node-web';
const FIGURE = `nix build ÷ raw \`nix build\` (${FIXTURE})`;
const GOAL = '≤ 1.05 × raw + 0.2 s';
const BUDGET_MS = 45_000;

export const nix: Figure = {
  id: 'nix',
  async run(bench) {
    const availability = await new NixBuilder({ env: process.env }).available();
    if (!availability.usable) return [{ figure: FIGURE, hop3: `not available (no nix: ${availability.detail})`, reference: '—', goal: GOAL, result: 'not available' }];
    await using sandbox = await Sandbox.create();
    const env = { HOP3_NIX_OFFLINE: '1', NIX_PATH: `nixpkgs=${path.join(packageRoot, 'fixtures', 'nixpkgs-mini')}` };
    const vendor = path.join(sandbox.dir, 'vendor');
    await mkdir(vendor);
    const hop3Ms: number[] = [];
    const rawMs: number[] = [];
    // Nix names a derivation after the directory: both sides build copies named like the fixture.
    const copy = async (label: string) => {
      const dir = await sandbox.fixture(FIXTURE, path.join(label, FIXTURE));
      await writeFile(path.join(dir, 'bench-nonce.txt'), `${label} ${process.pid} ${Date.now()}\n`);
      return dir;
    };
    // Five runs by default: a cold Nix build of node-web is about a second.
    await repeat({ runs: Math.max(bench.runs, 5) }, BUDGET_MS, async (run) => {
      const rawDir = await copy(`raw-${run}`);
      expectSuccess(await hop3(sandbox, ['nix', 'eject', rawDir], { env }), 'hop3 nix eject');
      const raw = await timed('nix', ['build', '-f', path.join(rawDir, 'hop3.nix'), '--arg', 'vendor', vendor, '--no-link', '--option', 'substituters', ''], { cwd: rawDir, env: { ...sandbox.env, ...env } });
      rawMs.push(expectSuccess(raw, 'raw nix build').ms);
      hop3Ms.push(expectSuccess(await hop3(sandbox, ['build', await copy(`hop3-${run}`), '--builder', 'nix', '--quiet'], { env }), 'hop3 build --builder nix').ms);
    });
    const [built, raw] = [median(hop3Ms), median(rawMs)];
    return [
      {
        figure: FIGURE,
        hop3: duration(built),
        reference: duration(raw),
        ratio: built / raw,
        goal: GOAL,
        result: verdict(built <= raw * 1.05 + 200),
        note: `cold builds, median of ${hop3Ms.length}, interleaved; overhead ${(built - raw).toFixed(0)} ms against the ${(raw * 0.05 + 200).toFixed(0)} ms allowed; hop3 ${spread(hop3Ms)}, raw ${spread(rawMs)}.`,
      },
    ];
  },
};
