import * as z from 'zod';
import type { Artifact } from '../artifact/artifact-file.js';
import { Hop3Error } from '../errors.js';
import { GeneratedEnvSpecsSchema } from '../state/generated-env.js';

/** `[run] keep-releases, max-restarts, restart-window, drain, replicas`, recorded at build in metadata.release_policy, with defaults. */
const ReleasePolicySchema = z.object({
  keep_releases: z.number().int().min(1).default(5),
  max_restarts: z.number().int().nonnegative().default(5),
  restart_window: z.number().positive().default(60),
  drain: z.number().nonnegative().default(2),
  /** Tasks per worker where the target runs replicas (swarm); others run one. */
  replicas: z.number().int().min(1).default(1),
});

export type ReleasePolicy = z.infer<typeof ReleasePolicySchema>;

export function releasePolicy(artifact: Artifact): ReleasePolicy {
  const parsed = ReleasePolicySchema.safeParse(artifact.metadata.release_policy ?? {});
  return parsed.success ? parsed.data : ReleasePolicySchema.parse({});
}

/** `[healthcheck] contains/interval/retries`, recorded at build in metadata.healthcheck. */
const HealthProbeSchema = z.object({ contains: z.string().optional(), interval: z.number().positive().optional(), retries: z.number().int().nonnegative().optional() });

export type HealthProbe = z.infer<typeof HealthProbeSchema>;

export function healthProbe(artifact: Artifact): HealthProbe {
  const parsed = HealthProbeSchema.safeParse(artifact.metadata.healthcheck ?? {});
  return parsed.success ? parsed.data : {};
}

/** `[run] start-timeout`, recorded at build in metadata.start_timeout: seconds the app may take to start answering. */
export function startTimeout(artifact: Artifact): number | undefined {
  const parsed = z.number().positive().finite().safeParse(artifact.metadata.start_timeout);
  return parsed.success ? parsed.data : undefined;
}

/** `[port] web` / `[web] port` / `[docker] port`, recorded at build in metadata.web_port: where the app listens in a container. */
export function webPort(artifact: Artifact): number | undefined {
  const parsed = z.number().int().min(1).max(65535).safeParse(artifact.metadata.web_port);
  return parsed.success ? parsed.data : undefined;
}

/** `[env] NAME = { generate }`, recorded at build in metadata.generated_env (how to make each value, never the value). */
export function generatedEnvSpecs(artifact: Artifact): z.infer<typeof GeneratedEnvSpecsSchema> {
  if (artifact.metadata.generated_env === undefined) return {};
  const parsed = GeneratedEnvSpecsSchema.safeParse(artifact.metadata.generated_env);
  if (parsed.success) return parsed.data;
  // Running without a secret the app declared would start it wrongly: refuse, as for any bad artifact field.
  throw new Hop3Error('ARTIFACT_INVALID', `${artifact.app_name} build ${artifact.build_id}: metadata.generated_env is not what hop3 writes (${parsed.error.issues[0]?.message}).`, {
    hint: 'Rebuild the app with this hop3.',
  });
}
