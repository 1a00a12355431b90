import { buildApp } from '../../../builders/build-app.js';
import { runArtifact } from '../../deployers/deploy-app.js';
import { cliContext } from '../context.js';
import { buildRequest, type BuildFlags } from './build.js';
import { started, type RunFlags } from './run.js';

export async function run(dir: string, flags: BuildFlags & RunFlags): Promise<number> {
  const ctx = cliContext(flags);
  const { artifact, redact } = await buildApp(buildRequest(dir, flags, ctx));
  // The build's secrets stay masked in what the run half prints too.
  const log = redact.logger(ctx.log);
  try {
    const state = await runArtifact({ artifact, ...(flags.port ? { port: flags.port } : {}), ...(flags.target ? { target: flags.target } : {}), env: ctx.env, log, signal: ctx.signal });
    return await started(state, flags, { ...ctx, log });
  } catch (error) {
    throw redact.error(error);
  }
}
