import { appStatus, type AppStatus } from '../../deployers/deploy-app.js';
import { validateAppName } from '../../state/hop3-home.js';
import { listApps } from '../../state/list-apps.js';
import { printJson } from '../output.js';
import { silentLogger } from '../../log/logger.js';

export async function run(app: string | undefined, flags: { json?: boolean }): Promise<number> {
  const apps = app ? [validateAppName(app)] : await listApps(process.env);
  const ctx = { env: process.env, log: silentLogger };
  const statuses = await Promise.all(apps.map((name) => appStatus(name, ctx)));
  if (flags.json) {
    printJson(app ? statuses[0] : statuses);
    return 0;
  }
  if (statuses.length === 0) process.stdout.write('no apps yet: hop3 deploy <dir>\n');
  for (const status of statuses) process.stdout.write(describe(status));
  return 0;
}

function describe(status: AppStatus): string {
  if (!status.deployer) return `${status.app}: stopped\n`;
  const state = status.status === 'starting' ? 'STARTING (a deploy in progress, or one that was interrupted: deploy again or hop3 stop)' : status.running ? 'running' : 'DEGRADED';
  const head = `${status.app}: ${state} release ${status.release} build ${status.build_id} (${status.builder} artifact, ${status.deployer} deployer)${status.url ? ` ${status.url}` : ''}\n`;
  const workers = status.workers.map((w) => `  ${w.name.padEnd(10)} ${w.running ? 'up  ' : 'down'} ${w.id || '(starting)'}${w.state && w.state !== 'running' ? ` ${w.state}` : ''}${w.restarts ? ` (${w.restarts} restarts)` : ''}${w.problem ? ` (not signalled: ${w.problem})` : ''}\n`);
  return head + workers.join('');
}
