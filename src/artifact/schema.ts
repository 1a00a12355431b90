import * as z from 'zod';
import { envNameProblem, envTotalProblem, envValueProblem, MAX_ENV_ENTRY_BYTES } from './env-rules.js';
import { locationProblem, pathEntryProblem, runtimeDirProblem } from './location.js';
import { cronScheduleProblem } from '../config/cron-schedule.js';

/**
 * The version hop3 writes, bumped on any change an older hop3 could not read (the runtime is strict).
 * Loaders read every version in ARTIFACT_READABLE_VERSIONS and reject the others.
 * 2: runtime.release and runtime.scheduled (absent in a version 1 artifact: none).
 */
export const ARTIFACT_SCHEMA_VERSION = 2;
export const ARTIFACT_READABLE_VERSIONS = [1, 2];

/** Builder and target names: the registries say which exist; the artifact only says what is well formed. */
export const ExtensionNameSchema = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'a lowercase name such as "docker"');

/** App names become directory names and image repositories: keep them to a safe alphabet. */
export const AppNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be 1-63 chars of a-z, 0-9, ".", "_", "-", starting with a letter or digit')
  .refine((name) => !name.includes('..'), 'must not contain ".."');

const WORKER_NAME_RULE = 'worker names are 1-64 letters, digits, "_" and "-"';
/** Worker names become log file names and container names: a safe alphabet, short. */
export const WorkerNameSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, WORKER_NAME_RULE);

/** A command for `/bin/sh -c`: something to run, and an argument the kernel accepts. */
const CommandSchema = z.string().min(1, 'the command is empty').superRefine((command, ctx) => {
  const problem = commandProblem(command);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const EnvVarsSchema = z.record(z.string(), z.string()).superRefine((env, ctx) => {
  for (const [name, value] of Object.entries(env)) {
    const problem = envNameProblem(name) ?? envValueProblem(name, value);
    if (problem) ctx.addIssue({ code: 'custom', path: [name], message: problem });
  }
  const total = envTotalProblem(env);
  if (total) ctx.addIssue({ code: 'custom', message: total });
});

const PathEntrySchema = z.string().superRefine((dir, ctx) => {
  const problem = pathEntryProblem(dir);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** `/`, `/assets`: a URL path, and a prefix the static server can split from its directory at the first "=". */
const URL_PREFIX_RULE = 'a URL prefix starts with "/" and has no whitespace, "=" or control characters';
const UrlPrefixSchema = z.string().regex(/^\/[^\s=\u0000-\u001f\u007f]*$/, URL_PREFIX_RULE);

/** A record whose bad keys say what a key must be (zod alone says "Invalid key in record"). */
const keyRule = (rule: string) => ({ error: (issue: { code?: string }) => (issue.code === 'invalid_key' ? `invalid key: ${rule}` : undefined) });

const HealthcheckPathSchema = z
  .string()
  .regex(/^(?:\/[^\s\u0000-\u001f\u007f]*)?$/, 'an HTTP path starts with "/" and has no whitespace or control characters ("" = no HTTP check)')
  .max(2048);

/** A scheduled job: a 5-field cron schedule (or @daily...) and the command it runs. */
const ScheduledJobSchema = z
  .object({
    schedule: z.string().superRefine((schedule, ctx) => {
      const problem = cronScheduleProblem(schedule);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
    command: CommandSchema,
  })
  .strict();

export const RuntimeConfigSchema = z
  .object({
    env_vars: EnvVarsSchema.describe('Environment given to every worker and before_run command.'),
    path_prepend: z.array(PathEntrySchema).describe('Directories put in front of PATH, in order.'),
    working_dir: z.string().describe('Directory workers start in ("" = the artifact location).'),
    workers: z.record(WorkerNameSchema, CommandSchema, keyRule(WORKER_NAME_RULE)).describe('Worker name -> shell command; "web" gets $PORT.'),
    before_run: z.array(CommandSchema).describe('Commands run in order before the workers, at every start of a release.'),
    release: z.array(CommandSchema).optional().describe('Since version 2. Commands run once per new release, in order, before it starts and goes live (Heroku\'s release phase); absent = none.'),
    scheduled: z
      .record(WorkerNameSchema, ScheduledJobSchema, keyRule(WORKER_NAME_RULE))
      .optional()
      .describe('Since version 2. Job name -> schedule and command, run by hop3 at those times (host local time); absent = none.'),
    static_paths: z.record(UrlPrefixSchema, z.string(), keyRule(URL_PREFIX_RULE)).describe('URL prefix -> directory served as static files.'),
    healthcheck_path: HealthcheckPathSchema.describe('HTTP path polled until 2xx after start ("" = no HTTP check).'),
    healthcheck_timeout: z.number().int().positive().describe('Seconds to wait for the health check.'),
  })
  .strict();

export const BuildArtifactSchema = z
  .object({
    schema_version: z.literal(ARTIFACT_READABLE_VERSIONS),
    kind: z.string().min(1).describe('Toolchain that built it: python, node, static, generic...'),
    location: z
      .string()
      .min(1)
      .superRefine((location, ctx) => {
        const problem = location === '' ? undefined : locationProblem(location); // min(1) names an empty one
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .describe('A directory, a /nix/store path, or a Docker image reference.'),
    runtime: RuntimeConfigSchema,
    builder: ExtensionNameSchema.describe('Builder that made it (one of this hop3\'s builders).'),
    app_name: AppNameSchema,
    built_at: z.iso.datetime({ offset: true }).describe('ISO 8601 build time.'),
    build_id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/),
    metadata: z.record(z.string(), z.unknown()),
  })
  .strict()
  .superRefine(checkRuntimeDirs)
  .superRefine(checkVersionFields);

export type RuntimeConfig = z.infer<typeof RuntimeConfigSchema>;
export type BuildArtifact = z.infer<typeof BuildArtifactSchema>;

export const DEFAULT_HEALTHCHECK_TIMEOUT = 30;

function commandProblem(command: string): string | undefined {
  if (command !== '' && command.trim() === '') return 'the command is only whitespace';
  if (command.includes('\0')) return 'the command contains a NUL character';
  if (Buffer.byteLength(command) >= MAX_ENV_ENTRY_BYTES) return `the command is longer than the kernel's ${MAX_ENV_ENTRY_BYTES - 1}-byte limit for one argument`;
  return undefined;
}

/** working_dir and static directories belong to the artifact: inside its location (or, in an image, absolute). */
function checkRuntimeDirs(artifact: { location: unknown; runtime: unknown }, ctx: z.RefinementCtx): void {
  // Runs even when other fields failed: look only at what is well formed.
  const { location, runtime } = artifact as { location: unknown; runtime: { working_dir?: unknown; static_paths?: unknown } | undefined };
  if (typeof location !== 'string' || location === '' || locationProblem(location)) return; // reported on location itself
  const workingDir = runtime?.working_dir;
  const staticPaths = runtime?.static_paths;
  if (typeof workingDir === 'string' && workingDir !== '') {
    const problem = runtimeDirProblem(workingDir, location);
    if (problem) ctx.addIssue({ code: 'custom', path: ['runtime', 'working_dir'], message: problem });
  }
  if (staticPaths === null || typeof staticPaths !== 'object') return;
  for (const [prefix, dir] of Object.entries(staticPaths)) {
    if (typeof dir !== 'string') continue;
    const problem = runtimeDirProblem(dir, location);
    if (problem) ctx.addIssue({ code: 'custom', path: ['runtime', 'static_paths', prefix], message: problem });
  }
}

/** Fields a version does not have are refused (a version 1 artifact with `release` is not one hop3 wrote); a job and a worker never share a name. */
function checkVersionFields(artifact: { schema_version: unknown; runtime: unknown }, ctx: z.RefinementCtx): void {
  const runtime = artifact.runtime as { workers?: unknown; release?: unknown; scheduled?: unknown } | undefined;
  if (runtime === null || typeof runtime !== 'object') return;
  if (artifact.schema_version === 1) {
    for (const field of ['release', 'scheduled'] as const) {
      if (runtime[field] !== undefined) ctx.addIssue({ code: 'custom', path: ['runtime', field], message: 'is not a field of schema_version 1 (it came with version 2)' });
    }
  }
  if (runtime.scheduled === null || typeof runtime.scheduled !== 'object' || runtime.workers === null || typeof runtime.workers !== 'object') return;
  for (const name of Object.keys(runtime.scheduled)) {
    if (Object.hasOwn(runtime.workers, name)) ctx.addIssue({ code: 'custom', path: ['runtime', 'scheduled', name], message: `is also a worker: a name is a worker or a scheduled job, not both` });
  }
}
