// One worker's supervisor: started detached by the process deployer as the leader of the worker's
// process group, so that it outlives hop3 and `hop3 stop` reaches it and the worker with one signal.
// It runs the command, appends its output to the log (rotated by size), restarts it after a crash with
// exponential backoff, gives up after too many crashes in a window, and keeps a status file for hop3.
// For a scheduled job (`schedule`), it runs the command at each time the cron schedule names instead
// (croner, with the options hop3 reads schedules with), skipping a time while the last run goes on.
// Plain Node: it runs from the package as it is (croner is loaded only for a scheduled job).
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';

/** @type {{ command: string, schedule?: string, cronOptions?: object, cwd: string, log: string, status: string, restart: boolean, maxRestarts: number, windowMs: number, firstBackoffMs: number, maxBackoffMs: number, stableMs: number, logMaxBytes: number, logKeep: number, uid?: number, gid?: number }} */
const config = JSON.parse(process.argv[2]);

/** Variables hop3 moved aside (NODE_OPTIONS...) so that they steer the worker's node, not this one. */
const STASH_PREFIX = 'HOP3_STASH_';
const workerEnv = Object.fromEntries(Object.entries(process.env).map(([key, value]) => [key.startsWith(STASH_PREFIX) ? key.slice(STASH_PREFIX.length) : key, value]));

/** The one place the worker log is opened (created or appended to). */
const openLog = () => openSync(config.log, 'a', 0o600);

let logFd = openLog();
let logSize = fstatSync(logFd).size;
/** Output dropped while the log could not be written (disk full): said in the log once it can be again. */
let lost = 0;
let child;
let stopping = false;
let restarts = 0;
/** Crash times within the window: too many means the worker is failed, not unlucky. */
let crashes = [];
let backoff = config.firstBackoffMs;

function status(state, extra = {}) {
  const text = `${JSON.stringify({ state, pid: child?.pid ?? null, supervisor: process.pid, restarts, updated_at: new Date().toISOString(), ...extra })}\n`;
  writeFileSync(`${config.status}.tmp`, text, { mode: 0o600 });
  renameSync(`${config.status}.tmp`, config.status);
}

/**
 * Rotate: worker.log -> worker.log.1 -> ... -> worker.log.<keep>; the oldest is dropped. The names are
 * rotatedLog's in log-files.ts, which reads them back. False when it cannot (the log then keeps growing).
 */
function rotate() {
  let next;
  try {
    rmSync(`${config.log}.${config.logKeep}`, { force: true });
    for (let n = config.logKeep - 1; n >= 1; n--) {
      try {
        renameSync(`${config.log}.${n}`, `${config.log}.${n + 1}`);
      } catch {
        // not there yet
      }
    }
    renameSync(config.log, `${config.log}.1`);
    next = openLog();
  } catch {
    return false;
  }
  closeSync(logFd);
  logFd = next;
  logSize = 0;
  return true;
}

function append(buffer) {
  try {
    if (lost > 0) {
      const note = Buffer.from(`--- hop3 supervisor: ${lost} bytes of output lost (the log could not be written)\n`);
      writeSync(logFd, note);
      logSize += note.length;
      lost = 0;
    }
    for (let written = 0; written < buffer.length; ) written += writeSync(logFd, buffer, written);
    logSize += buffer.length;
  } catch {
    // A full or read-only disk: drop the output rather than crash and take the worker down with the pipe.
    lost += buffer.length;
  }
}

/** Append output; rotate before the log would pass logMaxBytes, cutting after a newline when one fits. */
function write(chunk) {
  let buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
  while (buffer.length > config.logMaxBytes - logSize) {
    const room = config.logMaxBytes - logSize;
    let cut = room > 0 ? buffer.lastIndexOf(0x0a, room - 1) + 1 : 0;
    if (cut === 0 && logSize === 0) cut = room; // one line longer than logMaxBytes: split it
    if (cut > 0) append(buffer.subarray(0, cut));
    buffer = buffer.subarray(cut);
    if (!rotate()) break;
  }
  if (buffer.length > 0) append(buffer);
}

/** The command, in this process group, its output to the log. */
function spawnCommand() {
  child = spawn('/bin/sh', ['-c', config.command], {
    cwd: config.cwd,
    env: workerEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(config.uid !== undefined ? { uid: config.uid, gid: config.gid } : {}),
  });
  child.stdout.on('data', write);
  child.stderr.on('data', write);
  child.once('error', (error) => write(`--- hop3 supervisor: cannot start: ${error.message}\n`));
  return child;
}

function start() {
  const startedAt = Date.now();
  spawnCommand();
  status('running');
  child.once('exit', (code, signal) => {
    // What the worker left in this group (sh -c does not exec: its children outlive it) must not
    // hold the port or run twice after a restart.
    killLeftovers();
  });
  child.once('close', (code, signal) => {
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (stopping) return finish('stopped', how);
    if (code === 0 && !config.restart) return finish('finished', how);
    if (Date.now() - startedAt > config.stableMs) {
      crashes = [];
      backoff = config.firstBackoffMs;
    }
    const now = Date.now();
    crashes = [...crashes.filter((t) => now - t < config.windowMs), now];
    if (crashes.length > config.maxRestarts) return finish('failed', how, `exited (${how}) ${crashes.length} times within ${Math.round(config.windowMs / 1000)} s`);
    write(`--- hop3 supervisor: exited (${how}); restarting in ${backoff} ms\n`);
    status('restarting', { last_exit: how });
    const delay = backoff;
    backoff = Math.min(backoff * 2, config.maxBackoffMs);
    setTimeout(() => {
      if (stopping) return finish('stopped', how);
      restarts += 1;
      start();
    }, delay);
  });
}

function killLeftovers() {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === process.pid) process.kill(Number(entry), 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

function finish(state, how, reason) {
  write(`--- hop3 supervisor: ${state}${reason ? `: ${reason}` : ` (${how})`}\n`);
  status(state, { last_exit: how, ...(reason ? { reason } : {}) });
  process.exit(0);
}

for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(sig, () => {
    stopping = true;
    // The worker shares this process group, so a group signal already reached it; a signal sent to
    // this process alone is passed on.
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    else finish('stopped', sig);
  });
}

/** A scheduled job: one run of the command at each time of the schedule; a time that comes while a run goes on is skipped. */
async function schedule() {
  const { Cron } = await import('croner');
  let runs = 0;
  let job;
  const scheduled = (extra = {}) => status('scheduled', { runs, next_run: job?.nextRun()?.toISOString() ?? null, ...extra });
  const run = () =>
    new Promise((resolve) => {
      runs += 1;
      write(`--- hop3 supervisor: ${new Date().toISOString()} run ${runs}: ${config.command}\n`);
      const started = spawnCommand();
      status('running', { runs });
      started.once('exit', () => killLeftovers());
      started.once('close', (code, signal) => {
        const how = signal ? `signal ${signal}` : `code ${code}`;
        if (stopping) return finish('stopped', how);
        write(`--- hop3 supervisor: run ${runs} exited (${how})\n`);
        scheduled({ last_exit: how });
        resolve();
      });
    });
  const skipped = () => write(`--- hop3 supervisor: ${new Date().toISOString()} skipped a run: run ${runs} is still going\n`);
  job = new Cron(config.schedule, { ...config.cronOptions, protect: skipped }, run);
  scheduled();
}

if (config.schedule !== undefined) await schedule();
else start();
