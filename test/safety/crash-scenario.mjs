// Runs as pid 1 of a private pid namespace: SIGKILLs `hop3 deploy` at random moments, then checks
// that the state tells the truth, that `hop3 stop` stops everything, and that no tool outlives hop3.
// Prints one JSON report on stdout.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const [bin, home, appDir, trialsArg, seedArg] = process.argv.slice(2);
const trials = Number(trialsArg);
let seed = Number(seedArg);
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const env = { ...process.env, HOP3_HOME: home };

/** Processes of this home (hop3 passes its environment to tools and workers), with their group. */
function homeProcesses() {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0');
      if (!environ.includes(`HOP3_HOME=${home}`)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'latin1').replaceAll('\0', ' ').trim();
      const marker = environ.find((v) => v.startsWith('HOP3_WORKER_MARKER='))?.slice('HOP3_WORKER_MARKER='.length);
      found.push({ pid: Number(entry), pgrp: Number(fields[2]), worker: environ.some((v) => v.startsWith('HOP3_DATA_DIR=')), marker, cmd });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

const hop3 = (...args) => spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', timeout: 60_000 });
const failures = [];
const moments = [];
for (let trial = 1; trial <= trials; trial++) {
  const child = spawn(process.execPath, [bin, 'deploy', appDir, '--name', 'crash', '--quiet'], { env, stdio: 'ignore' });
  const delay = Math.floor(random() * 2500);
  moments.push(delay);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await Promise.race([sleep(delay), exited]);
  child.kill('SIGKILL');
  await exited;

  const fail = (what) => failures.push({ trial, delay, what });
  // Tools hop3 ran (build hooks, pip, npm) must die with it; workers are meant to outlive it.
  await sleep(200);
  const orphans = homeProcesses().filter((p) => !p.worker);
  if (orphans.length > 0) fail(`tools outlived hop3: ${orphans.map((p) => `${p.pid} ${p.cmd}`).join('; ')}`);
  const status = hop3('status', 'crash', '--json');
  if (status.status !== 0) fail(`status exit ${status.status}: ${status.stderr.trim()}`);
  const releases = hop3('releases', 'crash', '--json');
  if (releases.status !== 0) fail(`releases exit ${releases.status}: ${releases.stderr.trim()}`);
  if (status.status === 0) {
    const reported = JSON.parse(status.stdout);
    const workers = homeProcesses().filter((p) => p.worker);
    for (const w of reported.workers ?? []) {
      // A record without a pid (hop3 died while starting it) is known by its marker alone.
      const alive = workers.some((p) => (w.id === '' ? p.marker === w.handle?.marker : String(p.pgrp) === w.id));
      if (w.running !== alive) fail(`status says ${w.name} ${w.running ? 'runs' : 'is down'}, but it ${alive ? 'runs' : 'is gone'} (record ${JSON.stringify(w)}; processes ${JSON.stringify(workers)})`);
    }
    const accounted = (p) => (reported.workers ?? []).some((w) => (w.id === '' ? p.marker === w.handle?.marker : String(p.pgrp) === w.id));
    for (const p of workers) if (!accounted(p)) fail(`worker pid ${p.pid} (${p.cmd}) is running but not in any release`);
  }
  const stop = hop3('stop', 'crash');
  if (stop.status !== 0) fail(`stop exit ${stop.status}: ${stop.stderr.trim()}`);
  await sleep(300);
  const left = homeProcesses();
  if (left.length > 0) {
    fail(`left running after stop: ${left.map((p) => `${p.pid} ${p.cmd}`).join('; ')}`);
    for (const p of left) process.kill(p.pid, 'SIGKILL'); // started in this namespace by this scenario's hop3
  }
}
process.stdout.write(JSON.stringify({ trials, failures, moments }));
