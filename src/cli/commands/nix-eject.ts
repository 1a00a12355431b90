import { ejectNixExpression } from '../../../builders/nix/nix-eject.js';
import { printJson } from '../output.js';

export async function run(dir: string, flags: { name?: string; json?: boolean }): Promise<number> {
  const result = await ejectNixExpression(dir, flags.name !== undefined ? { name: flags.name } : {});
  if (flags.json) printJson(result);
  else process.stdout.write(`wrote ${result.file} (from hop3's nix/${result.template}); \`hop3 build --builder nix\` now builds it\n`);
  return 0;
}
