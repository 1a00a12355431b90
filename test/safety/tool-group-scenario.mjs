// Runs as pid 1 of a private pid namespace (unshare --pid --fork --mount-proc --kill-child): starts a
// stand-in for hop3 that runs a tool with children, kills or cancels it, and reports what is left
// running. Prints one JSON report on stdout.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const [root, mark] = process.argv.slice(2);
const runner = path.join(root, 'test/safety/tool-group-runner.ts');

/** Live processes of this namespace other than this one (pid 1), as "pid command line"; zombies left unreaped by pid 1 do not run. */
function others() {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || entry === '1') continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      found.push(`${entry} ${readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim()}`);
    } catch {
      // Exited while we looked.
    }
  }
  return found;
}
const sleepers = () => others().filter((p) => /^\d+ sleep 300$/.test(p));

async function until(condition, ms) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/** Start the stand-in running `tool`, wait for its two `sleep 300`, do `act` to it; then what is left, and how soon. */
async function scenario(tool, act) {
  const child = spawn(process.execPath, ['--import', 'tsx', runner, tool], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (text) => (stdout += text));
  const exited = new Promise((resolve) => child.once('close', resolve));
  const started = await until(() => sleepers().length === 2, 20_000);
  const acted = performance.now();
  await act(child);
  const cleared = await until(() => others().length === 0, 10_000);
  const report = { started, cleared, clearedAfterMs: Math.round(performance.now() - acted), left: others() };
  await exited;
  return { ...report, result: stdout ? JSON.parse(stdout) : undefined };
}

const report = {};
// A tool with a grandchild in the background: hop3 dies by SIGKILL during the build.
report.killed = await scenario('sleep 300 & sleep 300', async (child) => {
  child.kill('SIGKILL');
});
// hop3 stopped (Ctrl-Z, a debugger), then killed.
report.stoppedThenKilled = await scenario('sleep 300 & sleep 300', async (child) => {
  child.kill('SIGSTOP');
  await sleep(300);
  child.kill('SIGKILL');
});
// Cancelled: a grandchild that handles SIGTERM gets it; the tool ignores SIGTERM, so SIGKILL follows after the grace.
report.cancelled = await scenario(
  `sh -c 'trap "echo got TERM > ${mark}; exit 0" TERM; sleep 300 & wait' & trap '' TERM; sleep 300`,
  async (child) => {
    child.kill('SIGUSR2');
  },
);
try {
  report.cancelled.mark = readFileSync(mark, 'utf8').trim();
} catch {
  report.cancelled.mark = null;
}
// A tool that exits leaving a process behind on purpose (nginx starting its daemon): it stays.
{
  const child = spawn(process.execPath, ['--import', 'tsx', runner, 'sleep 300 >/dev/null 2>&1 &'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  await new Promise((resolve) => child.once('close', resolve));
  await sleep(300);
  const left = sleepers();
  report.leftBehind = { left };
  for (const entry of left) process.kill(Number(entry.split(' ')[0]), 'SIGKILL'); // the sleep this namespace's runner started
}
process.stdout.write(JSON.stringify(report));
