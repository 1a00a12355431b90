import { buildApp, type BuildResult } from '../../../builders/build-app.js';
import { runArtifact } from '../../deployers/deploy-app.js';
import type { Release } from '../../state/releases.js';
import { cliContext } from '../context.js';
import { buildRequest, type BuildFlags } from './build.js';
import { started, type RunFlags } from './run.js';

export async function run(dir: string, flags: BuildFlags & RunFlags): Promise<number> {
  const ctx = cliContext(flags);
  // Live progress covers the build and the start; it is gone before the URL prints and logs may follow.
  const progress = await ctx.liveProgress();
  const live = progress?.task() ?? ctx.log;
  let built: BuildResult | undefined;
  let state: Release;
  try {
    built = await buildApp(buildRequest(dir, flags, ctx, live));
    // The build's secrets stay masked in what the run half prints too.
    state = await runArtifact({ artifact: built.artifact, ...(flags.port ? { port: flags.port } : {}), ...(flags.target ? { target: flags.target } : {}), ...(flags.replicas !== undefined ? { replicas: flags.replicas } : {}), env: ctx.env, log: built.redact.logger(live), signal: ctx.signal });
  } catch (error) {
    throw built ? built.redact.error(error) : error;
  } finally {
    progress?.close();
  }
  const { redact } = built;
  try {
    return await started(state, flags, { ...ctx, log: redact.logger(ctx.log) });
  } catch (error) {
    throw redact.error(error);
  }
}
