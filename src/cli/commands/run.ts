import type { Release } from '../../state/releases.js';
import { resolveArtifact } from '../../app/resolve-artifact.js';
import { runArtifact } from '../../deployers/deploy-app.js';
import { cliContext, type CliContext } from '../context.js';
import { attach } from './attach.js';

export interface RunFlags {
  artifact?: string;
  name?: string;
  port?: number;
  foreground?: boolean;
  target?: string;
  replicas?: number;
}

export async function run(target: string, flags: RunFlags): Promise<number> {
  const ctx = cliContext();
  // Live progress covers the build (when there is one) and the start; it is gone before the URL prints.
  const progress = await ctx.liveProgress();
  const log = progress?.task() ?? ctx.log;
  let state: Release;
  try {
    const { app, artifact } = await resolveArtifact({
      target,
      ...(flags.artifact ? { artifactFile: flags.artifact } : {}),
      ...(flags.name !== undefined ? { name: flags.name } : {}),
      env: ctx.env,
      log,
      signal: ctx.signal,
    });
    state = await runArtifact({ artifact, app, ...(flags.port ? { port: flags.port } : {}), ...(flags.target ? { target: flags.target } : {}), ...(flags.replicas !== undefined ? { replicas: flags.replicas } : {}), env: ctx.env, log, signal: ctx.signal });
  } finally {
    progress?.close();
  }
  return started(state, flags, ctx);
}

/** Report a started app; in the foreground, stay attached until Ctrl-C or the workers exit. */
export async function started(state: Release, flags: { foreground?: boolean }, ctx: CliContext): Promise<number> {
  ctx.log.step(`${state.app} release ${state.release} (build ${state.artifact.build_id}) is live${state.url ? ` at ${state.url}` : ''}`);
  if (state.url) process.stdout.write(`${state.url}\n`);
  if (!flags.foreground) {
    ctx.log.info(`logs: hop3 logs ${state.app} -f    stop: hop3 stop ${state.app}`);
    return 0;
  }
  return attach(state.app, ctx);
}
