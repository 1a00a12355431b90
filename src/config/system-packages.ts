import type { AppConfig } from './app-config.js';

/**
 * The warning for `[build]`/`[run] packages` beside the app's own Dockerfile or Nix file, which hop3 builds as
 * written: it adds the packages only to what it generates. None when the app lists no package.
 */
export function packagesNotAdded(config: AppConfig, ownFile: string): string[] {
  const { build, run, file } = config.settings;
  const names = [...new Set([...build.packages, ...run.packages])];
  if (names.length === 0) return [];
  return [`${file}: [build]/[run] packages (${names.join(', ')}) are not added to the app's own ${ownFile}: install them there (hop3 adds them only to what it generates)`];
}
