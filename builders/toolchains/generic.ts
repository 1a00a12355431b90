import { firstExisting } from './fs-utils.js';
import { emptyDefaults } from '../../src/manifest/runtime-defaults.js';
import { nixRuntime, type Toolchain } from './toolchain.js';

/**
 * Anything with a Procfile, workers in hop3.toml (`[run] start`, `[run.workers]`: Hop3's "hop3.toml only" apps), or
 * its own Nix expression or Dockerfile: no dependencies installed, workers come from the app's own config.
 */
export const generic: Toolchain = {
  name: 'generic',

  async detect(config) {
    if (config.procfile) return `${config.procfile.file} found`;
    const { file, run } = config.settings;
    if (Object.keys(run.workers).length > 0) return `[run] start or [run.workers] in ${file}`;
    // An app that brings its own Nix expression or Dockerfile needs no language toolchain.
    const { dockerfile } = config.settings.docker;
    if (dockerfile) return `[docker] dockerfile = ${dockerfile}`;
    const ownBuild = await firstExisting(config.dir, [...NIX_FILES, 'Dockerfile']);
    return ownBuild && `${ownBuild} found`;
  },

  async defaults() {
    return emptyDefaults();
  },

  async installLocal() {},

  async planSteps() {
    return []; // nothing to install: the app's hooks and workers are all it runs
  },

  async nixExpression() {
    return { template: 'generic.nix', variables: { runtime: nixRuntime(emptyDefaults()) } };
  },

  async dockerfile() {
    return { template: 'generic', defaultBaseImage: 'debian:bookworm-slim' };
  },
};

/** Nix files the nix builder builds as they are, in the order it looks for them. */
export const NIX_FILES = ['flake.nix', 'hop3.nix', 'default.nix'] as const;
