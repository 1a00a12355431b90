// Regenerates the checked-in JSON Schema from the zod schema: `npm run schema`.
import { writeFile } from 'node:fs/promises';
import { BUILDER_NAMES } from '../builders/registry.js';
import { artifactJsonSchema, JSON_SCHEMA_FILE } from '../src/artifact/json-schema.js';

await writeFile(JSON_SCHEMA_FILE, artifactJsonSchema(BUILDER_NAMES));
console.log(`wrote ${JSON_SCHEMA_FILE}`);
