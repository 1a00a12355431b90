import type { AppConfig } from '../../src/config/app-config.js';
import type { Logger } from '../../src/log/logger.js';

/**
 * Toolchain-level runtime defaults: the lowest layer of the manifest merge
 * (hop3.toml > Procfile > these). Paths are as seen where the app runs.
 */
export interface ToolchainDefaults {
  workers: Record<string, string>;
  env_vars: Record<string, string>;
  path_prepend: string[];
  static_paths: Record<string, string>;
  healthcheck_path?: string;
}

/** Where the app lives when it runs: a build dir, `/app` in a container, `$out` in the Nix store. */
export interface RuntimeLayout {
  /** Directory holding the app's files (the source copy plus installed dependencies). */
  appRoot: string;
}

export interface LocalInstallContext {
  /** The build's own copy of the source; dependencies are installed inside it. */
  appRoot: string;
  config: AppConfig;
  /** Environment for pip/npm: the user's, so their index and cache settings apply. */
  env: NodeJS.ProcessEnv;
  log: Logger;
  signal?: AbortSignal;
}

/** One language: how to detect it, its defaults, and how to install its dependencies. */
export interface Toolchain {
  readonly name: string;
  /** Returns the reason it applies ("requirements.txt found"), or undefined when it does not. */
  detect(config: AppConfig): Promise<string | undefined>;
  defaults(config: AppConfig, layout: RuntimeLayout): Promise<ToolchainDefaults>;
  /** Install dependencies into `appRoot` for the local builder. */
  installLocal(ctx: LocalInstallContext): Promise<void>;
}

export function emptyDefaults(): ToolchainDefaults {
  return { workers: {}, env_vars: {}, path_prepend: [], static_paths: {} };
}
