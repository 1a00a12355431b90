import { rollbackApp } from '../../deployers/deploy-app.js';
import { validateAppName } from '../../state/hop3-home.js';
import { cliContext } from '../context.js';
import { started } from './run.js';

export async function run(app: string, flags: { to?: number }): Promise<number> {
  const ctx = cliContext();
  const state = await rollbackApp(validateAppName(app), { ...(flags.to !== undefined ? { to: flags.to } : {}), env: ctx.env, log: ctx.log, signal: ctx.signal });
  return started(state, {}, ctx);
}
