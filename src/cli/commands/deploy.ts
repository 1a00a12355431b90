import { buildApp } from '../../../builders/build-app.js';
import { runArtifact } from '../../deployers/deploy-app.js';
import { cliContext } from '../context.js';
import type { BuildFlags } from './build.js';
import { started, type RunFlags } from './run.js';

export async function run(dir: string, flags: BuildFlags & RunFlags): Promise<number> {
  const ctx = cliContext(flags);
  const { artifact } = await buildApp({
    sourceDir: dir,
    ...(flags.name !== undefined ? { name: flags.name } : {}),
    ...(flags.builder ? { builder: flags.builder } : {}),
    ...(flags.output ? { output: flags.output } : {}),
    ...(flags.baseImage ? { baseImage: flags.baseImage } : {}),
    env: ctx.env,
    log: ctx.log,
    signal: ctx.signal,
  });
  const state = await runArtifact({ artifact, ...(flags.port ? { port: flags.port } : {}), env: ctx.env, log: ctx.log, signal: ctx.signal });
  return started(state, flags, ctx);
}
