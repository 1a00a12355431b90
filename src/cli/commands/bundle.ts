import { bundleBuild } from '../../app/bundle-build.js';
import { cliContext } from '../context.js';
import { printJson } from '../output.js';

export async function run(target: string, flags: { output?: string; json?: boolean }): Promise<number> {
  const ctx = cliContext({ json: Boolean(flags.json) });
  const result = await bundleBuild({ target, output: flags.output, env: ctx.env, log: ctx.log, signal: ctx.signal });
  if (flags.json) {
    printJson({ file: result.file, app: result.artifact.app_name, build_id: result.artifact.build_id, bytes: result.bytes, needs: result.needs });
    return 0;
  }
  ctx.log.step(`wrote ${result.file} (${(result.bytes / 1e6).toFixed(1)} MB); the host that runs it needs: ${result.needs.join(', ') || 'nothing outside the build'}`);
  process.stdout.write(`${result.file}\n`);
  return 0;
}
