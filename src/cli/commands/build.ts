import type { BuildRequest } from '../../../builders/build-app.js';
import type { SecretRequest } from '../../../builders/secrets/build-secrets.js';
import { cliContext, type CliContext } from '../context.js';
import { printJson } from '../output.js';

export interface BuildFlags {
  name?: string;
  builder?: string;
  output?: string;
  baseImage?: string;
  secret?: SecretRequest[];
  force?: boolean;
  quiet?: boolean;
  json?: boolean;
}

/** The build options shared by `build` and `deploy`, normalised once. */
export function buildRequest(dir: string, flags: BuildFlags, ctx: CliContext): BuildRequest {
  return {
    sourceDir: dir,
    ...(flags.name !== undefined ? { name: flags.name } : {}),
    ...(flags.builder ? { builder: flags.builder } : {}),
    ...(flags.output ? { output: flags.output } : {}),
    ...(flags.baseImage ? { baseImage: flags.baseImage } : {}),
    ...(flags.secret?.length ? { secrets: flags.secret } : {}),
    ...(flags.force ? { force: true } : {}),
    env: ctx.env,
    log: ctx.log,
    signal: ctx.signal,
  };
}

export async function run(dir: string, flags: BuildFlags): Promise<number> {
  const ctx = cliContext(flags);
  const { buildApp } = await import('../../../builders/build-app.js');
  const result = await buildApp(buildRequest(dir, flags, ctx));
  if (flags.json) printJson(result.artifact);
  else process.stdout.write(`${flags.output ?? result.artifactFile}\n`);
  return 0;
}
