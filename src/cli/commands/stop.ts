import { stopApp } from '../../deployers/deploy-app.js';
import { validateAppName } from '../../state/hop3-home.js';
import { cliContext } from '../context.js';

export async function run(app: string): Promise<number> {
  const ctx = cliContext();
  const state = await stopApp(validateAppName(app), ctx);
  ctx.log.step(state ? `${app} stopped (build ${state.artifact.build_id})` : `${app} is not running`);
  return 0;
}
