import { BUILDER_NAMES, type BuilderName } from '../src/artifact/schema.js';
import { Hop3Error } from '../src/errors.js';
import type { Builder } from './builder.js';

/** Builders load lazily: only the docker builder pulls in dockerode, only the nix builder calls nix. */
const LOADERS: Record<BuilderName, () => Promise<Builder>> = {
  local: async () => new (await import('./local/local-builder.js')).LocalBuilder(),
  docker: async () => new (await import('./docker/docker-builder.js')).DockerBuilder(),
  nix: async () => new (await import('./nix/nix-builder.js')).NixBuilder(),
};

export function parseBuilderName(value: string, option = '--builder'): BuilderName {
  if ((BUILDER_NAMES as readonly string[]).includes(value)) return value as BuilderName;
  throw new Hop3Error('CLI_INVALID_OPTION', `${option} must be one of ${BUILDER_NAMES.join(', ')} (got ${JSON.stringify(value)}).`, {
    hint: `Example: hop3 build ./app ${option} local`,
  });
}

export async function loadBuilder(name: BuilderName): Promise<Builder> {
  return LOADERS[name]();
}
