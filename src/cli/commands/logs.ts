import { appLogs } from '../../deployers/deploy-app.js';
import { validateAppName } from '../../state/hop3-home.js';
import { cliContext } from '../context.js';

export async function run(app: string, flags: { follow?: boolean; worker?: string; lines: number }): Promise<number> {
  const ctx = cliContext();
  await appLogs(validateAppName(app), {
    ...ctx,
    lines: flags.lines,
    follow: Boolean(flags.follow),
    ...(flags.worker ? { worker: flags.worker } : {}),
    write: (chunk) => process.stdout.write(chunk),
  });
  return 0;
}
