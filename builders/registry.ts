import type { BuilderName } from '../src/artifact/schema.js';
import type { Builder } from './builder.js';

/** Builders load lazily: only the docker builder pulls in dockerode, only the nix builder calls nix. */
const LOADERS: Record<BuilderName, () => Promise<Builder>> = {
  local: async () => new (await import('./local/local-builder.js')).LocalBuilder(),
  docker: async () => new (await import('./docker/docker-builder.js')).DockerBuilder(),
  nix: async () => new (await import('./nix/nix-builder.js')).NixBuilder(),
};

export async function loadBuilder(name: BuilderName): Promise<Builder> {
  return LOADERS[name]();
}
