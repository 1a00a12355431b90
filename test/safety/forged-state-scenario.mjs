// Runs as pid 1 of a private pid namespace (unshare --pid --fork --mount-proc): a regression that
// signals "every process" can only reach this namespace. Prints one JSON report on stdout.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const [bin, home] = process.argv.slice(2);
const paths = { root: path.join(home, 'apps', 'victim') };
mkdirSync(path.join(paths.root, 'releases'), { recursive: true });

const ticks = (pid) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[19]);
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

// Bystanders: one leading its own group (like a worker), one in this process's group.
const loner = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
const sibling = spawn('sleep', ['300'], { stdio: 'ignore' });
await new Promise((resolve) => setTimeout(resolve, 200));

const artifact = {
  schema_version: 1, kind: 'generic', location: home, builder: 'local', app_name: 'victim',
  built_at: '2026-01-01T00:00:00Z', build_id: 'forged', metadata: {},
  runtime: { env_vars: {}, path_prepend: [], working_dir: '', workers: { web: 'sleep 1' }, before_run: [], static_paths: {}, healthcheck_path: '', healthcheck_timeout: 30 },
};
const forgeries = {
  init: { id: '1', startTicks: 0, marker: 'aaaaaaaaaaaaaaaaaaaaaaaa' },
  initUnrecorded: { id: '1' },
  minusOne: { id: '-1', startTicks: 0, marker: 'aaaaaaaaaaaaaaaaaaaaaaaa' },
  zero: { id: '0', startTicks: 0, marker: 'aaaaaaaaaaaaaaaaaaaaaaaa' },
  exponent: { id: '1e3', startTicks: 0, marker: 'aaaaaaaaaaaaaaaaaaaaaaaa' },
  self: { id: String(process.pid), startTicks: ticks(process.pid), marker: 'aaaaaaaaaaaaaaaaaaaaaaaa' },
  lonerCopiedTicks: { id: String(loner.pid), startTicks: ticks(loner.pid), marker: 'bbbbbbbbbbbbbbbbbbbbbbbb' },
  lonerNoMarker: { id: String(loner.pid), startTicks: ticks(loner.pid) },
  siblingCopiedTicks: { id: String(sibling.pid), startTicks: ticks(sibling.pid), marker: 'bbbbbbbbbbbbbbbbbbbbbbbb' },
};

const results = {};
for (const [name, worker] of Object.entries(forgeries)) {
  const state = { app: 'victim', release: 1, status: 'live', deployer: 'process', artifact, port: 1, url: null, created_at: '2026-01-01T00:00:00Z', started_at: '2026-01-01T00:00:00Z', workers: [{ name: 'web', id: worker.id, ...(worker.startTicks !== undefined ? { handle: { start_ticks: worker.startTicks, ...(worker.marker ? { marker: worker.marker } : {}) } } : {}) }] };
  writeFileSync(path.join(paths.root, 'releases', '000001.json'), JSON.stringify(state));
  const env = { ...process.env, HOP3_HOME: home };
  const status = spawnSync(process.execPath, [bin, 'status', 'victim', '--json'], { env, encoding: 'utf8' });
  const stop = spawnSync(process.execPath, [bin, 'stop', 'victim'], { env, encoding: 'utf8' });
  results[name] = {
    statusExit: status.status,
    worker: status.status === 0 ? JSON.parse(status.stdout).workers[0] : status.stderr,
    stopExit: stop.status,
    stopStderr: stop.stderr,
    bystandersAlive: alive(loner.pid) && alive(sibling.pid),
  };
}
loner.kill('SIGKILL');
sibling.kill('SIGKILL');
process.stdout.write(JSON.stringify(results));
