import { emptyDefaults, type Toolchain } from './toolchain.js';

/** Anything with a Procfile: no dependencies installed, workers come from the app's own config. */
export const generic: Toolchain = {
  name: 'generic',

  async detect(config) {
    return config.procfile ? `${config.procfile.file} found` : undefined;
  },

  async defaults() {
    return emptyDefaults();
  },

  async installLocal() {},
};
