import * as z from 'zod';
import { BuildArtifactSchema } from './schema.js';

export const JSON_SCHEMA_FILE = 'schema/build-artifact.schema.json';

/**
 * The checked-in JSON Schema is generated from the zod schema, with `builder` narrowed to the
 * builders the registry has (passed in: the registry sits above this layer); a test fails when it is stale.
 */
export function artifactJsonSchema(builderNames: readonly string[]): string {
  const schema = z.toJSONSchema(BuildArtifactSchema.safeExtend({ builder: z.enum(builderNames as [string, ...string[]]) }), { target: 'draft-2020-12' });
  return `${JSON.stringify({ ...schema, $id: 'https://hop3.dev/schema/build-artifact.schema.json', title: 'hop3 BuildArtifact' }, null, 2)}\n`;
}
