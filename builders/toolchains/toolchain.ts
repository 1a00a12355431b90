import type { AppConfig } from '../../src/config/app-config.js';
import type { Logger } from '../../src/log/logger.js';
import type { RuntimeDefaults } from '../../src/manifest/runtime-defaults.js';

/** Where the app lives when it runs: a build dir, `/app` in a container, `$out` in the Nix store. */
export interface RuntimeLayout {
  /** Directory holding the app's files (the source copy plus installed dependencies). */
  appRoot: string;
  /**
   * The app's files after its build steps, on this host, when the builder can show them (the local builder,
   * once its steps ran): a toolchain may choose from what the build made (a dist/ folder, a server file).
   * Without it, choices are made from the source.
   */
  built?: string;
}

export interface LocalInstallContext {
  /** The build's own copy of the source; dependencies are installed inside it. */
  appRoot: string;
  config: AppConfig;
  /** Environment for pip/npm: the user's, so their index and cache settings apply. */
  env: NodeJS.ProcessEnv;
  log: Logger;
  signal?: AbortSignal;
  /**
   * Set by the local builder when the toolchain has `dependencyInputs`: what it returned for this build and,
   * when an older build had the same inputs, that build, whose `outputs` are already hard-linked into `appRoot`.
   */
  dependencies?: { inputs: DependencyInputs; reused?: ReusedDependencies };
}

/**
 * What the dependencies an install makes are made from. The local builder digests it into a key: a later
 * build with the same key hard-links the older build's outputs instead of installing again.
 */
export interface DependencyInputs {
  /** The file the dependencies are declared in, for the build log: "requirements.txt", "package-lock.json". */
  manifest: string;
  /**
   * Every input, by a label the build log can name when it changed ("requirements.txt", "wheels/",
   * "python3", "env PIP_INDEX_URL"), to a digest of its content. Never a value itself: it is saved in the build.
   */
  digests: Record<string, string>;
  /** What the install creates in the app root and a later build may reuse: `.venv`, `node_modules`. */
  outputs: string[];
  /** Paths (relative to the app root) in the outputs that may name the app root: rewritten for the new build, never linked. */
  relocate?(relPath: string): boolean;
  /** Paths in the outputs that build steps write into (caches): copied, never linked, so a write cannot reach an older build. */
  copy?(relPath: string): boolean;
  /** Why this build must install afresh whatever an older one holds (e.g. an install script that reads the app's code). */
  noReuse?: string;
  /** What the toolchain found on the host while digesting (an interpreter's path), handed back to its `installLocal`. */
  host?: Readonly<Record<string, string>>;
}

/** An older build whose dependencies the local builder linked into the new one. */
export interface ReusedDependencies {
  buildId: string;
  /** Its app root, as the paths inside its outputs name it. */
  appRoot: string;
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
  /**
   * What the dependencies `installLocal` makes are made from (manifest and lockfile, local package dirs,
   * interpreter, the recipe's version, env that changes resolution), read from the build's copy after the
   * `before-build` hooks. Without it, the local builder installs afresh on every build.
   */
  dependencyInputs?(ctx: LocalInstallContext): Promise<DependencyInputs>;
  /**
   * Install dependencies into `appRoot` for the local builder. With `ctx.dependencies.reused`, the outputs are
   * already linked from an older build: install only what still must be (the app itself), and never write into
   * an existing file in place (it is shared with the older build): remove it and write a new one.
   */
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
  /**
   * Facts the run side needs that are no runtime field, recorded in the artifact's metadata with every builder
   * (static: `static_rules`, the auth and fallback its server applies, which the router must not bypass).
   */
  artifactMetadata?(config: AppConfig): Promise<Record<string, unknown>>;
}

/** A template from hop3's `docker/` folder; its variables are build args (BASE_IMAGE, BUILD_IMAGE). */
export interface DockerfilePlan {
  /** File name in `docker/` without `.Dockerfile`, e.g. `python`. */
  template: string;
  /** The official image users expect when they choose none. */
  defaultBaseImage: string;
  /** Files of hop3 the image needs: path in the build context -> file on this host. */
  extraFiles?: Record<string, string>;
  /**
   * A build stage that needs an image of its own (a compiler): HOP3_DOCKER_BUILD_IMAGE, a general build
   * image, does not apply; `[docker] build-image` > the variable `env` > `default`.
   */
  buildImage?: { default: string; env: string };
  /** Template build args the toolchain computes from the source (`[docker] build-args` win). */
  buildArgs?: Record<string, string>;
  /** Variables of the user's environment passed as build args when set (e.g. GOPROXY); `[docker] build-args` win. */
  passEnv?: readonly string[];
  /**
   * What the template's dependency install reads (see dependency-files.ts), copied in before it so that
   * the engine's cache keeps the install while only code changes; undefined: the whole source.
   */
  dependencyFiles?: string[] | undefined;
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
