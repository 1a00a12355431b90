import { appStatus, type AppStatus } from '../../deployers/deploy-app.js';
import { isHop3Error, type ErrorCode } from '../../errors.js';
import { validateAppName } from '../../state/hop3-home.js';
import { listApps } from '../../state/list-apps.js';
import { printJson } from '../output.js';
import { silentLogger } from '../../log/logger.js';

/** One app's status, or, in a listing, why it could not be read (the other apps are still listed). */
type Entry = AppStatus | (Omit<AppStatus, 'running'> & { running: false; error: { code: ErrorCode; message: string; hint?: string } });

/**
 * `hop3 status <app>`: that app, or its coded error (exit 1). `hop3 status`: every app, exit 0; an app
 * whose state cannot be read is listed and marked (`error` in --json), so one damaged app hides no other.
 */
export async function run(app: string | undefined, flags: { json?: boolean }): Promise<number> {
  const ctx = { env: process.env, log: silentLogger };
  if (app) {
    const status = await appStatus(validateAppName(app), ctx);
    if (flags.json) printJson(status);
    else process.stdout.write(describe(status));
    return 0;
  }
  const entries = await Promise.all((await listApps(process.env)).map((name) => entryOf(name, ctx)));
  if (flags.json) {
    printJson(entries);
    return 0;
  }
  if (entries.length === 0) process.stdout.write('no apps yet: hop3 deploy <dir>\n');
  for (const entry of entries) process.stdout.write(describe(entry));
  return 0;
}

async function entryOf(app: string, ctx: Parameters<typeof appStatus>[1]): Promise<Entry> {
  try {
    return await appStatus(app, ctx);
  } catch (error) {
    if (!isHop3Error(error)) throw error;
    return {
      app,
      running: false,
      release: null,
      status: null,
      deployer: null,
      build_id: null,
      builder: null,
      url: null,
      port: null,
      started_at: null,
      workers: [],
      error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) },
    };
  }
}

function describe(status: Entry): string {
  if ('error' in status) {
    const what = status.error.code === 'STATE_CORRUPT' ? 'STATE CORRUPT' : `UNKNOWN [${status.error.code}]`;
    return `${status.app}: ${what} (${status.error.message})\n${status.error.hint ? `  hint: ${status.error.hint}\n` : ''}`;
  }
  if (!status.deployer) return `${status.app}: stopped\n`;
  const state = status.status === 'starting' ? 'STARTING (a deploy in progress, or one that was interrupted: deploy again or hop3 stop)' : status.running ? 'running' : 'DEGRADED';
  const head = `${status.app}: ${state} release ${status.release} build ${status.build_id} (${status.builder} artifact, ${status.deployer} deployer)${status.url ? ` ${status.url}` : ''}\n`;
  const workers = status.workers.map((w) => `  ${w.name.padEnd(10)} ${w.running ? 'up  ' : 'down'} ${w.id || '(starting)'}${w.task ? ` task ${w.task.slot ?? '-'} on ${w.task.node}` : ''}${w.state && w.state !== 'running' ? ` ${w.state}` : ''}${w.restarts ? ` (${w.restarts} restarts)` : ''}${w.problem ? ` (not signalled: ${w.problem})` : ''}\n`);
  return head + workers.join('');
}
