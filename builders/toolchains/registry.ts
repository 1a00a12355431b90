import type { AppConfig } from '../../src/config/app-config.js';
import { Hop3Error } from '../../src/errors.js';
import { generic } from './generic.js';
import { go } from './go.js';
import { node } from './node.js';
import { python } from './python.js';
import { staticSite } from './static.js';
import type { Toolchain } from './toolchain.js';

/**
 * Detection order: a Procfile `static:` line or a Staticfile wins, then language manifests (go.mod first: a Go
 * server with front-end assets has a package.json too), then a bare site, then any Procfile or hop3.toml workers.
 */
export const TOOLCHAINS: readonly Toolchain[] = [go, python, node, staticSite, generic];

export interface Detection {
  toolchain: Toolchain;
  reason: string;
  /** Why each earlier toolchain declined, for `inspect --explain`. */
  declined: string[];
}

export async function detectToolchain(config: AppConfig): Promise<Detection> {
  const { file, build } = config.settings;
  const named = build.toolchain;
  if (named) {
    const toolchain = TOOLCHAINS.find((t) => t.name === named);
    if (!toolchain) {
      throw new Hop3Error('CONFIG_UNKNOWN_TOOLCHAIN', `${file}: [build] toolchain = "${named}" is not supported.`, {
        ...(file ? { file } : {}),
        hint: `Use one of: ${TOOLCHAINS.map((t) => t.name).join(', ')}.`,
      });
    }
    return { toolchain, reason: `[build] toolchain = "${named}" in ${file}`, declined: [] };
  }
  if (config.procfile?.parsed.staticDir) return { toolchain: staticSite, reason: `${config.procfile.file} has a static: line`, declined: [] };
  // A Staticfile says what the app is as plainly (Cloud Foundry, Nixpacks), even beside a package.json.
  if (config.staticfile) return { toolchain: staticSite, reason: `${config.staticfile.file} found`, declined: [] };
  const declined: string[] = [];
  for (const toolchain of TOOLCHAINS) {
    const reason = await toolchain.detect(config);
    if (reason) return { toolchain, reason, declined };
    declined.push(`${toolchain.name}: not detected`);
  }
  throw new Hop3Error('BUILD_NO_TOOLCHAIN', `Cannot tell how to build ${config.dir}: no go.mod, requirements.txt, pyproject.toml, package.json, Staticfile, index.html, Procfile, [run] start in hop3.toml, Dockerfile, flake.nix, hop3.nix or default.nix.`, {
    hint: 'Add a Procfile (`web: <command>`) or `[run] start` to hop3.toml, or set `[build] toolchain` in hop3.toml.',
  });
}
