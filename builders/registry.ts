import { Hop3Error } from '../src/errors.js';
import type { Builder, BuilderEngines } from './builder.js';

/**
 * Every builder this hop3 has, in one place: the CLI's --builder choices, hop3.toml's `[build] builder`,
 * the artifact check and the JSON Schema derive from it. Loaders are lazy: only the docker builder
 * pulls in dockerode, only the nix builder calls nix. Adding a builder = one line here + its folder.
 */
const BUILDERS = {
  local: async () => new (await import('./local/local-builder.js')).LocalBuilder(),
  docker: async (engines: BuilderEngines) => new (await import('./docker/docker-builder.js')).DockerBuilder(engines),
  nix: async (engines: BuilderEngines) => new (await import('./nix/nix-builder.js')).NixBuilder(engines),
} satisfies Record<string, (engines: BuilderEngines) => Promise<Builder>>;

export type BuilderName = keyof typeof BUILDERS;
export const BUILDER_NAMES = Object.keys(BUILDERS) as BuilderName[];

export function isBuilderName(name: string): name is BuilderName {
  return Object.hasOwn(BUILDERS, name);
}

/** The builder named `name`; an unknown name says which exist (`where` names the option or file that asked). */
export async function loadBuilder(name: string, engines: BuilderEngines, where = '--builder'): Promise<Builder> {
  if (!isBuilderName(name)) {
    throw new Hop3Error('CONFIG_UNKNOWN_BUILDER', `${where}: this hop3 has no builder named ${JSON.stringify(name)}.`, {
      hint: `Builders: ${BUILDER_NAMES.join(', ')}.`,
    });
  }
  return BUILDERS[name](engines);
}
