import type { AppConfig } from '../../src/config/app-config.js';
import type { Logger } from '../../src/log/logger.js';
import type { RuntimeDefaults } from '../../src/manifest/runtime-defaults.js';

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

/** Where a Nix build stages its inputs; a toolchain may fetch dependencies into `vendorDir` with the user's settings. */
export interface NixVendorContext {
  /** The staged copy of the source. */
  sourceDir: string;
  /** Empty directory passed to the expression as its `vendor` argument (the build itself is offline). */
  vendorDir: string;
  config: AppConfig;
  env: NodeJS.ProcessEnv;
  log: Logger;
  signal?: AbortSignal;
}

/** A template from hop3's `nix/` folder and the values it is instantiated with. */
export interface NixExpression {
  /** File name in `nix/`, e.g. `python.nix`. */
  template: string;
  /** `@@name@@` placeholders -> values, rendered as Nix literals. */
  variables: Record<string, NixValue>;
}

export type NixValue = string | number | boolean | null | readonly NixValue[] | { readonly [key: string]: NixValue };

/**
 * Marker for the Nix output path in generated runtime defaults: templates replace it
 * with `$out` when they write `hop3/runtime.json`. Absolute so that path joins keep it.
 */
export const NIX_OUT = '/@out@';

/** One step a build would take, as `hop3 plan` and the build's opening summary show it. */
export interface PlanStep {
  /** What runs: the command as it would be typed (`npm ci --no-audit --no-fund`), else what hop3 does, in words. */
  run: string;
  /** What decided it, when the command does not say (`package-lock.json found`, `[build] build in hop3.toml`). */
  because?: string;
  /** Host tools it needs, by the names `hop3 doctor` checks (python3, python3-venv, npm); checked by `hop3 plan`. */
  needs?: string[];
}

/** One language: how to detect it, its defaults, and how to install its dependencies. */
export interface Toolchain {
  readonly name: string;
  /** Returns the reason it applies ("requirements.txt found"), or undefined when it does not. */
  detect(config: AppConfig): Promise<string | undefined>;
  defaults(config: AppConfig, layout: RuntimeLayout): Promise<RuntimeDefaults>;
  /** A line for the build log on what it chose from the source (e.g. the folder a static site serves), if anything. */
  describe?(config: AppConfig): Promise<string | undefined>;
  /** Install dependencies into `appRoot` for the local builder. */
  installLocal(ctx: LocalInstallContext): Promise<void>;
  /** What `installLocal` would run for this app, in order, without running anything (reads the source only). */
  planSteps?(config: AppConfig, env: NodeJS.ProcessEnv): Promise<PlanStep[]>;
  /**
   * Turn a worker written in one of Hop3's conventions into a shell command (e.g. python's
   * `wsgi: module:callable`); undefined leaves it as written. Applied after the manifest merge.
   */
  adaptWorker?(name: string, command: string, layout: RuntimeLayout): string | undefined;
  /** The generated Nix expression for this language (the nix builder's fallback when the app has no Nix file). */
  nixExpression?(config: AppConfig): Promise<NixExpression>;
  /** Fetch what the Nix build cannot (it has no network): e.g. wheels, hop3's static server. */
  nixVendor?(ctx: NixVendorContext): Promise<void>;
  /** The generated Dockerfile for this language (the docker builder's fallback when the app has no Dockerfile). */
  dockerfile?(config: AppConfig): Promise<DockerfilePlan>;
}

/** A template from hop3's `docker/` folder; its variables are build args (BASE_IMAGE, BUILD_IMAGE). */
export interface DockerfilePlan {
  /** File name in `docker/` without `.Dockerfile`, e.g. `python`. */
  template: string;
  /** The official image users expect when they choose none. */
  defaultBaseImage: string;
  /** Files of hop3 the image needs: path in the build context -> file on this host. */
  extraFiles?: Record<string, string>;
}

/** Runtime defaults for a generated Nix expression: the app lives in `$out/app`. */
export function nixRuntime(defaults: RuntimeDefaults): NixValue {
  return {
    workers: defaults.workers,
    env_vars: defaults.env_vars,
    path_prepend: defaults.path_prepend,
    static_paths: defaults.static_paths,
    ...(defaults.healthcheck_path ? { healthcheck_path: defaults.healthcheck_path } : {}),
    working_dir: NIX_APP_ROOT,
  };
}

/** Where generated Nix expressions put the app's files. */
export const NIX_APP_ROOT = `${NIX_OUT}/app`;
