import type { AppConfig } from './app-config.js';

/** Shell commands run around dependency installation, Hop3's way: hop3.toml keys win over Procfile hooks. */
export interface BuildHooks {
  before: string[];
  build: string[];
  after: string[];
  /** Where each non-empty list comes from (`[build] build in hop3.toml`, `prebuild: in Procfile`), for plans. */
  from: { before?: string; build?: string; after?: string };
}

export function buildHooks(config: AppConfig): BuildHooks {
  const { build, file } = config.settings;
  const hooks = config.procfile?.parsed.hooks ?? {};
  const procfile = config.procfile?.file;
  const before = build.beforeBuild ?? (hooks.prebuild ? [hooks.prebuild] : []);
  const after = build.afterBuild ?? (hooks.postbuild ? [hooks.postbuild] : []);
  const origin = (declared: string[] | undefined, key: string, hook: string) => (declared !== undefined ? `${key} in ${file}` : `${hook}: in ${procfile}`);
  return {
    before,
    build: build.build,
    after,
    from: {
      ...(before.length > 0 ? { before: origin(build.beforeBuild, '[build] before-build', 'prebuild') } : {}),
      ...(build.build.length > 0 ? { build: `[build] build in ${file}` } : {}),
      ...(after.length > 0 ? { after: origin(build.afterBuild, '[build] after-build', 'postbuild') } : {}),
    },
  };
}

/** One warning naming the build hooks the app declares, for a builder that does not run them; undefined without hooks. */
export function hooksNotRun(config: AppConfig, builder: string): string | undefined {
  const { from } = buildHooks(config);
  const declared = [from.before, from.build, from.after].filter((origin): origin is string => origin !== undefined);
  if (declared.length === 0) return undefined;
  return `the ${builder} builder does not run build hooks (${declared.join('; ')}); the local builder does`;
}
