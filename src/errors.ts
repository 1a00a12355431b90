/**
 * The one error family. Library code throws Hop3Error; only the CLI formats it.
 * Every code is in this catalog, grouped by area; `usage: true` marks the user's own input (exit 2).
 */
export const ERROR_CODES = [
  // the app's own files
  'CONFIG_TOML_SYNTAX', 'CONFIG_TOML_INVALID', 'CONFIG_PROCFILE_INVALID', 'CONFIG_PACKAGE_JSON_INVALID', 'CONFIG_UNREADABLE',
  'CONFIG_UNKNOWN_BUILDER', 'CONFIG_UNKNOWN_TOOLCHAIN', 'CONFIG_INVALID_APP_NAME', 'CONFIG_LABELS_INVALID',
  'CONFIG_STATICFILE_INVALID', 'CONFIG_STATICFILE_AUTH_INVALID',
  // artifacts
  'ARTIFACT_INVALID', 'ARTIFACT_INVALID_JSON', 'ARTIFACT_NOT_FOUND', 'ARTIFACT_VERSION_UNSUPPORTED', 'ARTIFACT_WRITE_FAILED',
  'ARTIFACT_OUTPUT_INVALID', 'ARTIFACT_UNKNOWN_BUILDER',
  // builds, any builder
  'BUILD_SOURCE_NOT_FOUND', 'BUILD_SOURCE_UNREADABLE', 'BUILD_COPY_FAILED', 'BUILD_NO_TOOLCHAIN', 'BUILD_HOOK_FAILED', 'BUILD_ID_EXHAUSTED', 'BUILD_DUPLICATE_APP',
  'BUILD_PIP_FAILED', 'BUILD_PYTHON_VENV_FAILED', 'BUILD_PYTHON_MISSING', 'BUILD_PYTHON_PIP_MISSING', 'BUILD_NPM_FAILED',
  'BUILD_YARN_FAILED', 'BUILD_PNPM_FAILED', 'BUILD_COREPACK_FAILED', 'BUILD_NODE_VERSION_UNSATISFIED',
  'BUILD_DEPENDENCY_LINK_FAILED', 'BUILD_SOURCE_DATE_EPOCH_INVALID', 'BUILD_PACKAGES_MISSING',
  // the network profile: CA bundle, proxy, registries (src/config/network-profile.ts)
  'CONFIG_CA_BUNDLE_INVALID', 'CONFIG_PROXY_INVALID', 'BUILD_NETWORK_CA_UNTRUSTED',
  // hop3 build --check: a second build from scratch differs
  'BUILD_NOT_REPRODUCIBLE',
  // [source]: the upstream code a build starts from
  'BUILD_SOURCE_FETCH_FAILED', 'BUILD_SOURCE_NETWORK_UNREACHABLE',
  // the go toolchain
  'BUILD_GO_MISSING', 'BUILD_GO_FAILED', 'BUILD_GO_NO_MAIN',
  // build secrets (--secret, [build] secrets)
  'BUILD_SECRET_MISSING', 'BUILD_SECRET_INVALID', 'BUILD_SECRET_WRITE_FAILED', 'BUILD_SECRETS_UNSUPPORTED',
  // the docker builder
  'BUILD_DOCKER_BASE_IMAGE_MISSING', 'BUILD_DOCKER_BUILD_FAILED', 'BUILD_DOCKER_CONTEXT', 'BUILD_DOCKER_DAEMON_UNREACHABLE',
  'BUILD_DOCKER_DOCKERFILE_MISSING', 'BUILD_DOCKER_DOCKERFILE_OUTSIDE', 'BUILD_DOCKER_HOST_INVALID', 'BUILD_DOCKER_INVALID_NAME',
  'BUILD_DOCKER_NO_TEMPLATE', 'BUILD_DOCKER_SECRETS_UNSUPPORTED', 'BUILD_DOCKER_SOURCE_DATE_EPOCH', 'BUILD_DOCKER_SYMLINK_OUTSIDE_CONTEXT', 'BUILD_DOCKER_TLS_CERTS',
  'BUILD_DOCKER_NORMALISE_FAILED',
  // the nix builder
  'BUILD_NIX_ATTR_MISSING', 'BUILD_NIX_BUILD_FAILED', 'BUILD_NIX_CANCELLED', 'BUILD_NIX_EJECT_EXISTS', 'BUILD_NIX_EVAL_FAILED', 'BUILD_NIX_NIXPKGS_MISSING',
  'BUILD_NIX_GIT_FAILED', 'BUILD_NIX_MISSING', 'BUILD_NIX_NO_OUTPUT', 'BUILD_NIX_NO_TEMPLATE', 'BUILD_NIX_RUNTIME_INVALID',
  'BUILD_NIX_SECRETS_UNSUPPORTED', 'BUILD_NIX_PACKAGE_UNKNOWN',
  // running artifacts
  'DEPLOY_BEFORE_RUN_FAILED', 'DEPLOY_CONTAINER_BEFORE_RUN_FAILED', 'DEPLOY_CONTAINER_DAEMON_UNREACHABLE', 'DEPLOY_CONTAINER_IMAGE_MISSING',
  'DEPLOY_CONTAINER_START_FAILED', 'DEPLOY_LOCATION_MISSING', 'DEPLOY_NOT_HEALTHY', 'DEPLOY_NOT_RUNNING', 'DEPLOY_NO_DEPLOYER', 'DEPLOY_NO_WORKERS', 'DEPLOY_PORT_IN_USE',
  'DEPLOY_NO_RELEASE', 'DEPLOY_ROUTER_FAILED', 'DEPLOY_TARGET_MISMATCH', 'DEPLOY_UNKNOWN_TARGET', 'DEPLOY_UNKNOWN_WORKER', 'DEPLOY_WORKER_EXITED', 'DEPLOY_WORKER_UNTRUSTED',
  'DEPLOY_WORKER_START_FAILED', 'DEPLOY_RUN_USER_UNKNOWN', 'DEPLOY_RUN_USER_DENIED', 'DEPLOY_RELEASE_FAILED', 'DEPLOY_CONTAINER_RELEASE_FAILED',
  'DEPLOY_ENV_INVALID', 'DEPLOY_REPLICAS_UNSUPPORTED', 'DEPLOY_IMAGE_PULL_FAILED', 'DEPLOY_IMAGE_DIGEST_MISMATCH', 'DEPLOY_NIX_COPY_FAILED',
  // shipping artifacts to other hosts: push, bundle, unbundle
  'SHIP_LOCAL_ARTIFACT', 'SHIP_REGISTRY_INVALID', 'SHIP_REGISTRY_AUTH', 'SHIP_PUSH_FAILED', 'SHIP_NIX_STORE_INVALID', 'SHIP_NIX_COPY_FAILED',
  'SHIP_NOT_LOCAL', 'SHIP_BUNDLE_FAILED', 'SHIP_BUNDLE_INVALID', 'SHIP_BUNDLE_EXISTS',
  // the swarm target
  'DEPLOY_SWARM_DAEMON_UNREACHABLE', 'DEPLOY_SWARM_NOT_MANAGER', 'DEPLOY_SWARM_IMAGE_MISSING', 'DEPLOY_SWARM_UNSUPPORTED', 'DEPLOY_SWARM_SERVICE_FAILED',
  'DEPLOY_SWARM_ROLLED_BACK', 'DEPLOY_SWARM_NOT_CONVERGED', 'DEPLOY_SWARM_PUBLISH_INVALID',
  // HOP3_HOME
  'STATE_CORRUPT', 'STATE_LOCKED', 'STATE_LOCK_LOST', 'STATE_UNKNOWN_DEPLOYER', 'STATE_UNREADABLE', 'STATE_WRITE_FAILED', 'STATE_HOME_READONLY',
  // the command line itself
  'CLI_CANCELLED', 'CLI_INVALID_OPTION',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface Hop3ErrorOptions {
  /** What the user can do about it, one sentence. */
  hint?: string;
  cause?: unknown;
  /** The user's own input is wrong (a flag, a name): the CLI exits 2, as for bad usage. */
  usage?: boolean;
  /** File the error is about, when there is one. */
  file?: string;
  /** Command that failed, exit code, and the tail of its output. */
  command?: string;
  exitCode?: number;
  outputTail?: string;
  durationMs?: number;
  timedOut?: boolean;
  /** Set when a failed deploy brought the previous release back: its build id. */
  restoredBuild?: string;
  /** Set when a failed deploy never touched the live release (behind the router): its build id. */
  keptBuild?: string;
}

export class Hop3Error extends Error {
  override readonly name = 'Hop3Error';
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly usage: boolean;
  readonly file: string | undefined;
  readonly command: string | undefined;
  readonly exitCode: number | undefined;
  readonly outputTail: string | undefined;
  readonly durationMs: number | undefined;
  readonly timedOut: boolean | undefined;
  readonly restoredBuild: string | undefined;
  readonly keptBuild: string | undefined;

  constructor(code: ErrorCode, message: string, options: Hop3ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.usage = options.usage ?? false;
    this.file = options.file;
    this.command = options.command;
    this.exitCode = options.exitCode;
    this.outputTail = options.outputTail;
    this.durationMs = options.durationMs;
    this.timedOut = options.timedOut;
    this.restoredBuild = options.restoredBuild;
    this.keptBuild = options.keptBuild;
  }

  /** Every option this error was made with, so a copy keeps them all. */
  get options(): Hop3ErrorOptions {
    const options: Hop3ErrorOptions = {};
    const fields = { hint: this.hint, cause: this.cause, file: this.file, command: this.command, exitCode: this.exitCode, outputTail: this.outputTail, durationMs: this.durationMs, timedOut: this.timedOut, restoredBuild: this.restoredBuild, keptBuild: this.keptBuild };
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) (options as Record<string, unknown>)[key] = value;
    if (this.usage) options.usage = true;
    return options;
  }

  /** The same error with some fields added or replaced (message included), every other field kept. */
  with(changes: Hop3ErrorOptions & { message?: string }): Hop3Error {
    const { message = this.message, ...options } = changes;
    const copy = new Hop3Error(this.code, message, { ...this.options, ...options });
    if (this.stack) copy.stack = this.stack;
    return copy;
  }
}

export function isHop3Error(error: unknown, code?: ErrorCode): error is Hop3Error {
  return error instanceof Hop3Error && (code === undefined || error.code === code);
}

/** Last `lines` non-empty lines of a text, for error messages. */
export function tail(text: string, lines = 20): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** The same error with output attached (a deploy failure is useless without the app's own words); kept if it has some. */
export function withOutputTail(error: unknown, outputTail: string): unknown {
  if (!isHop3Error(error) || error.outputTail || !outputTail) return error;
  return error.with({ outputTail });
}

/**
 * A failure of a library hop3 calls (dockerode, the file system) as a coded error: what hop3 was
 * doing, the library's own words, and what to do. A Hop3Error passes through unchanged.
 */
export function wrapError(error: unknown, code: ErrorCode, doing: string, hint: string, extra: Hop3ErrorOptions = {}): Hop3Error {
  if (error instanceof Hop3Error) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new Hop3Error(code, `${doing}: ${reason}`, { cause: error, hint, ...extra });
}
