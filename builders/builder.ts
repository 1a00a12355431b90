import type { Artifact } from '../src/artifact/artifact-file.js';
import type { DockerClient } from '../src/engines/docker-client.js';
import type { Hop3Error } from '../src/errors.js';
import type { AppConfig } from '../src/config/app-config.js';
import type { Logger } from '../src/log/logger.js';
import type { NetworkProfile } from '../src/config/network-profile.js';
import type { AppPaths } from '../src/state/hop3-home.js';
import type { BuiltAtSource } from './build-time.js';
import type { BuildSecret } from './secrets/build-secrets.js';
import type { SourceEntry } from './source-tree.js';
import type { RuntimeDefaults } from '../src/manifest/runtime-defaults.js';
import type { PlanStep, Toolchain } from './toolchains/toolchain.js';

/** What the registry hands to the builder it constructs: the environment, and engine clients a test may replace. */
export interface BuilderEngines {
  env: NodeJS.ProcessEnv;
  docker?: DockerClient;
}

export interface Availability {
  usable: boolean;
  /** Version or reason, shown by `hop3 doctor`. */
  detail: string;
  /** What to install or start when it is not usable. */
  hint?: string;
}

/** Everything a builder needs, normalised once by the build pipeline. */
export interface BuildContext {
  appName: string;
  /** Absolute path of the app's source directory; builders never modify it. */
  sourceDir: string;
  config: AppConfig;
  toolchain: Toolchain;
  paths: AppPaths;
  /** The source files (hop3's excludes and `[build] ignore` applied), in a stable order. */
  sourceEntries: readonly SourceEntry[];
  /** Digest of those entries: equal sources, equal digest. */
  sourceDigest: string;
  /** The pipeline's key of the build's inputs (build-key.ts): a builder without a content id of its own derives its build_id from it. */
  buildKey: string;
  /** `--base-image`, for builders that use one. */
  baseImage?: string;
  /** The build's time (built_at): SOURCE_DATE_EPOCH, a clean checkout's commit time, or the clock. */
  now: Date;
  /** Where `now` came from; only a clock time differs between two builds of the same source. */
  builtAtSource: BuiltAtSource;
  /** The user's environment, with the network profile's CA and proxy variables (`networkEnv`) set. */
  env: NodeJS.ProcessEnv;
  /** CA bundle, proxy, registries and their credentials, resolved once for this build (its secrets are masked in `log`). */
  network?: NetworkProfile;
  /** `--secret` and `[build] secrets`, for build steps only: never in the artifact, the build dir, an image or the store. */
  secrets: readonly BuildSecret[];
  /** Build from nothing (`hop3 build --check`): no engine cache, no dependencies reused from earlier builds. */
  fromScratch?: boolean;
  /** Reproducibility asked for (SOURCE_DATE_EPOCH set, or `hop3 build --check`): builders that pay for it (image normalisation) do it. */
  reproducible?: boolean;
  /** Already masks the secrets' values. */
  log: Logger;
  signal?: AbortSignal;
}

/** What a builder needs to say what it would do, without doing it: `hop3 plan`, and the summary a build opens with. */
export type PlanContext = Pick<BuildContext, 'appName' | 'sourceDir' | 'config' | 'toolchain' | 'paths' | 'sourceEntries' | 'baseImage' | 'env'>;

/** What a builder would do for an app, described before anything runs. */
export interface BuilderPlan {
  steps: PlanStep[];
  /** The app's root as seen where it runs (a build dir with `<build_id>` in it, `/app` in an image, a store path): the planned manifest's paths. */
  appRoot: string;
  /** What the app declares that this builder will not do (e.g. build hooks only the local builder runs). */
  warnings: string[];
  /** What the build's output adds to the runtime defaults, which no plan can know (an own Dockerfile's CMD, a Nix build's runtime.json). */
  runtimeFromBuild?: string;
}

/** What a builder produced; the pipeline merges the manifest and writes the artifact. */
export interface BuildOutput {
  buildId: string;
  /** The build's dir under `builds/` when the builder made it (`<build_id>` or `<build_id>.<n>`); else the pipeline makes one. */
  buildDir?: string;
  /** A directory, a /nix/store path or an image reference. */
  location: string;
  /** Directory workers start in, as seen where the app runs. */
  workingDir: string;
  /** Toolchain-level defaults with paths as seen where the app runs. */
  defaults: RuntimeDefaults;
  metadata: Record<string, unknown>;
}

/** Where two builds of the same inputs differ (`hop3 build --check`); empty lists when identical. */
export interface BuildDifference {
  /** What was compared: `output tree hash`, `image id`, `store path`. */
  compared: string;
  /** That value for each build. */
  values: [string, string];
  /** Files that differ (paths in the output, or in the image). */
  files: string[];
  /** Other fields that differ (an image's config fields). */
  fields: string[];
}

export interface Builder {
  readonly name: string;
  /** A reproducible build's output differs from a plain one's (BuildContext.reproducible): the mode is part of the build key. */
  readonly reproducibleDiffers?: boolean;
  available(): Promise<Availability>;
  /**
   * Why this builder cannot hand these build secrets to its steps without keeping them somewhere, as the
   * error to throw; undefined when it can. A builder without it is refused secrets (BUILD_SECRETS_UNSUPPORTED).
   */
  refuseSecrets?(ids: readonly string[]): Hop3Error | undefined;
  build(ctx: BuildContext): Promise<BuildOutput>;
  /** What `build` would do, reading the source only (no build dir, engine call or network); without it, plans say the builder does not describe its steps. */
  plan?(ctx: PlanContext): Promise<BuilderPlan>;
  /**
   * Whether an earlier build's image is still there and still what this build would make from the same
   * source (e.g. its base images unchanged), so that it can be reused. Builders of images only.
   */
  isCurrent?(artifact: Artifact): Promise<boolean>;
  /** Where the outputs of two builds differ; `first` is the existing build, `second` the one made from scratch to check it. */
  compareBuilds?(first: Artifact, second: Artifact): Promise<BuildDifference>;
  /** Removes what a check build made outside its temporary HOP3_HOME (an image tag, a store path); never the build it checked. */
  discardCheckBuild?(artifact: Artifact): Promise<void>;
}
