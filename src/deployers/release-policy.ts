import * as z from 'zod';
import type { Artifact } from '../artifact/artifact-file.js';

/** `[run] keep-releases, max-restarts, restart-window, drain`, recorded at build in metadata.release_policy, with defaults. */
const ReleasePolicySchema = z.object({
  keep_releases: z.number().int().min(1).default(5),
  max_restarts: z.number().int().nonnegative().default(5),
  restart_window: z.number().positive().default(60),
  drain: z.number().nonnegative().default(2),
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
