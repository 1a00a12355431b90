import type { AppConfig } from './app-config.js';

/** Shell commands run around dependency installation, Hop3's way: hop3.toml keys win over Procfile hooks. */
export interface BuildHooks {
  before: string[];
  build: string[];
  after: string[];
}

export function buildHooks(config: AppConfig): BuildHooks {
  const { build } = config.settings;
  const hooks = config.procfile?.parsed.hooks ?? {};
  return {
    before: build.beforeBuild ?? (hooks.prebuild ? [hooks.prebuild] : []),
    build: build.build,
    after: build.afterBuild ?? (hooks.postbuild ? [hooks.postbuild] : []),
  };
}
