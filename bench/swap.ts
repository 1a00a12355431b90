/**
 * `npm run bench:swap`: redeploys of the same app under load, side by side in one run — hop3 behind its
 * nginx router against the same redeploy done stop-then-start (HOP3_ROUTER=off) — counting failed
 * requests (wrk -t1 -c4 plus a probe every ~20 ms) and the longest outage; then `hop3 rollback` time.
 * Goals: 0 failed requests behind the router; rollback of a process app under 2 s.
 */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import { packageRoot } from '../src/package-root.js';
import { underLoad, type LoadReport } from '../test/helpers/load.js';

const REDEPLOYS = Number(process.env.BENCH_REDEPLOYS ?? 3);
const hop3Bin = path.join(packageRoot, 'bin', 'hop3.js');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function scenario(root: string, label: string, env: NodeJS.ProcessEnv): Promise<{ load: LoadReport; rollbackS: number; rollbackCommandS: number }> {
  const home = path.join(root, label, 'home');
  const app = path.join(root, label, 'swap-app');
  await cp(path.join(packageRoot, 'fixtures', 'swap-app'), app, { recursive: true });
  const run = (args: string[]) => execa(process.execPath, [hop3Bin, ...args], { env: { ...process.env, ...env, HOP3_HOME: home }, all: true });
  const port = await freePort();
  await run(['deploy', app, '--port', String(port), '--quiet']);
  try {
    const { load } = await underLoad(`http://127.0.0.1:${port}/`, async () => {
      for (let n = 2; n <= REDEPLOYS + 1; n++) {
        await writeFile(path.join(app, 'version.txt'), `v${n}\n`);
        await run(['deploy', app, '--quiet']);
      }
    });
    // Rollback time: until the public port serves the previous release (the old one then drains in the background of the command).
    const expected = `swap-app v${REDEPLOYS}`;
    const start = performance.now();
    const rollback = run(['rollback', 'swap-app']);
    let liveS = NaN;
    while (Number.isNaN(liveS)) {
      const body = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text(), () => '');
      if (body.trim() === expected) liveS = (performance.now() - start) / 1000;
      else await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await rollback;
    return { load, rollbackS: liveS, rollbackCommandS: (performance.now() - start) / 1000 };
  } finally {
    await run(['stop', 'swap-app']).catch(() => undefined);
    const pid = Number((await execa('cat', [path.join(home, 'router', 'nginx.pid')], { reject: false })).stdout);
    if (pid > 1) await execa('nginx', ['-p', path.join(home, 'router'), '-c', path.join(home, 'router', 'nginx.conf'), '-s', 'quit'], { reject: false });
  }
}

const root = await mkdtemp(path.join(os.tmpdir(), 'hop3-bench-swap-'));
try {
  const routed = await scenario(root, 'routed', {});
  const direct = await scenario(root, 'direct', { HOP3_ROUTER: 'off' });
  const row = (name: string, r: { load: LoadReport }) =>
    `| ${name} | ${r.load.requests} | ${r.load.failures} (${r.load.socketErrors} socket errors) | ${r.load.probeFailures}/${r.load.probes} | ${r.load.longestOutageMs} ms |`;
  console.log(`\n${REDEPLOYS} redeploys of fixtures/swap-app under load (wrk -t1 -c4, probe every 20 ms), one run, side by side:\n`);
  console.log('| mode | requests | failed | failed probes | longest outage |');
  console.log('|---|---|---|---|---|');
  console.log(row('hop3 behind nginx (zero-downtime swap)', routed));
  console.log(row('stop, then start (HOP3_ROUTER=off)', direct));
  console.log(`\nrollback to the previous release, until it answers: ${routed.rollbackS.toFixed(2)} s behind nginx (command ${routed.rollbackCommandS.toFixed(2)} s incl. the drain), ${direct.rollbackS.toFixed(2)} s stop-then-start — goal < 2 s: ${routed.rollbackS < 2 ? 'met' : 'missed'}`);
  console.log(`zero-downtime goal (0 failed requests behind nginx): ${routed.load.failures + routed.load.probeFailures === 0 ? 'met' : 'missed'}`);
} finally {
  await rm(root, { recursive: true, force: true });
}
