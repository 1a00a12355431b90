import { Hop3Error } from '../../errors.js';
import { deployerNamed } from '../../deployers/registry.js';
import { appPaths } from '../../state/hop3-home.js';
import { readRunState } from '../../state/run-state.js';
import { cliContext } from '../context.js';

export async function run(app: string, flags: { follow?: boolean; worker?: string; lines: number }): Promise<number> {
  const ctx = cliContext();
  const paths = appPaths(app, ctx.env);
  const state = await readRunState(paths);
  if (!state) {
    throw new Hop3Error('DEPLOY_NOT_RUNNING', `App ${app} is not running, so hop3 has no worker list for it.`, {
      hint: `Log files stay in ${paths.logs}; start the app with \`hop3 run ${app}\`.`,
    });
  }
  await (await deployerNamed(state.deployer)).logs(state, paths, {
    lines: flags.lines,
    follow: Boolean(flags.follow),
    ...(flags.worker ? { worker: flags.worker } : {}),
    write: (chunk) => process.stdout.write(chunk),
    signal: ctx.signal,
  });
  return 0;
}
