import * as z from 'zod';

/** Bumped on any incompatible change; loaders reject versions they do not know. */
export const ARTIFACT_SCHEMA_VERSION = 1;

/** Builder and target names: the registries say which exist; the artifact only says what is well formed. */
export const ExtensionNameSchema = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'a lowercase name such as "docker"');

/** App names become directory names and image repositories: keep them to a safe alphabet. */
export const AppNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be 1-63 chars of a-z, 0-9, ".", "_", "-", starting with a letter or digit')
  .refine((name) => !name.includes('..'), 'must not contain ".."');

export const WorkerNameSchema = z.string().regex(/^[A-Za-z0-9_-]+$/, 'worker names are letters, digits, "_" and "-"');

export const RuntimeConfigSchema = z
  .object({
    env_vars: z.record(z.string(), z.string()).describe('Environment given to every worker and before_run command.'),
    path_prepend: z.array(z.string()).describe('Directories put in front of PATH, in order.'),
    working_dir: z.string().describe('Directory workers start in ("" = the artifact location).'),
    workers: z.record(WorkerNameSchema, z.string().min(1)).describe('Worker name -> shell command; "web" gets $PORT.'),
    before_run: z.array(z.string().min(1)).describe('Commands run once, in order, before workers start.'),
    static_paths: z.record(z.string(), z.string()).describe('URL prefix -> directory served as static files.'),
    healthcheck_path: z.string().describe('HTTP path polled until 2xx after start ("" = no HTTP check).'),
    healthcheck_timeout: z.number().int().positive().describe('Seconds to wait for the health check.'),
  })
  .strict();

export const BuildArtifactSchema = z
  .object({
    schema_version: z.literal(ARTIFACT_SCHEMA_VERSION),
    kind: z.string().min(1).describe('Toolchain that built it: python, node, static, generic...'),
    location: z.string().min(1).describe('A directory, a /nix/store path, or a Docker image reference.'),
    runtime: RuntimeConfigSchema,
    builder: ExtensionNameSchema.describe('Builder that made it (one of this hop3\'s builders).'),
    app_name: AppNameSchema,
    built_at: z.iso.datetime({ offset: true }).describe('ISO 8601 build time.'),
    build_id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/),
    metadata: z.record(z.string(), z.unknown()),
  })
  .strict();

export type RuntimeConfig = z.infer<typeof RuntimeConfigSchema>;
export type BuildArtifact = z.infer<typeof BuildArtifactSchema>;

export const DEFAULT_HEALTHCHECK_TIMEOUT = 30;
