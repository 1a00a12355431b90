import { setTimeout as sleep } from 'node:timers/promises';
import { appLogs, appStatus, stopApp } from '../../deployers/deploy-app.js';
import type { CliContext } from '../context.js';

/** Foreground mode for every deployer: follow the logs until Ctrl-C or every worker has exited, then stop. */
export async function attach(app: string, ctx: CliContext): Promise<number> {
  const detach = new AbortController();
  ctx.signal.addEventListener('abort', () => detach.abort(), { once: true });
  const following = appLogs(app, { env: ctx.env, log: ctx.log, lines: 0, follow: true, write: (chunk) => process.stdout.write(chunk), signal: detach.signal });
  let exited = false;
  while (!detach.signal.aborted) {
    await sleep(500, undefined, { signal: detach.signal }).catch(() => {});
    const status = await appStatus(app, ctx);
    if (status.workers.every((w) => !w.running)) {
      exited = true;
      detach.abort();
    }
  }
  await following;
  ctx.log.step(exited ? `every worker of ${app} exited; cleaning up` : `stopping ${app}`);
  await stopApp(app, { env: ctx.env, log: ctx.log });
  return exited ? 1 : 0;
}
