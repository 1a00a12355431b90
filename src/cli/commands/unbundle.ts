import { unbundleBuild } from '../../app/bundle-build.js';
import { cliContext } from '../context.js';
import { printJson } from '../output.js';

export async function run(file: string, flags: { name?: string; output?: string; json?: boolean }): Promise<number> {
  const ctx = cliContext({ json: Boolean(flags.json) });
  const result = await unbundleBuild({ file, name: flags.name, output: flags.output, env: ctx.env, log: ctx.log, signal: ctx.signal });
  if (flags.json) {
    printJson({ file: result.file, app: result.artifact.app_name, build_id: result.artifact.build_id, location: result.artifact.location, relocated: result.relocated, unrelocated: result.unrelocated.length });
    return 0;
  }
  ctx.log.step(`${result.artifact.app_name} build ${result.artifact.build_id} is at ${result.artifact.location}: run it with \`hop3 run ${result.artifact.app_name}\``);
  process.stdout.write(`${result.file}\n`);
  return 0;
}
