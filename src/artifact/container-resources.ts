import * as z from 'zod';
import type { Artifact } from './artifact-file.js';
import { Hop3Error } from '../errors.js';
import { formatIssues } from '../validation.js';

/** Limits the docker builder records in `metadata.resources` from `[docker] memory` / `cpus`. */
export const ContainerResourcesSchema = z
  .object({
    memory_bytes: z.number().int().positive().optional(),
    nano_cpus: z.number().int().positive().optional(),
  })
  .strict();

export type ContainerResources = z.infer<typeof ContainerResourcesSchema>;

/** The artifact's container limits, as Docker HostConfig fields (none when it has none). */
export function containerLimits(artifact: Artifact): { Memory?: number; NanoCpus?: number } {
  if (artifact.metadata.resources === undefined) return {};
  const result = ContainerResourcesSchema.safeParse(artifact.metadata.resources);
  if (!result.success) {
    throw new Hop3Error('ARTIFACT_INVALID', `metadata.resources of ${artifact.app_name} ${artifact.build_id} is invalid: ${formatIssues(result.error.issues)}`, {
      hint: 'Rebuild the app with `hop3 build <dir> --builder docker`.',
    });
  }
  const { memory_bytes: memory, nano_cpus: cpus } = result.data;
  return { ...(memory ? { Memory: memory } : {}), ...(cpus ? { NanoCpus: cpus } : {}) };
}
