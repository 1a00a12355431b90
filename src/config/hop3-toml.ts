import { parse as parseToml, TomlError } from 'smol-toml';
import * as z from 'zod';
import { ExtensionNameSchema } from '../artifact/schema.js';
import { Hop3Error } from '../errors.js';
import { formatIssues } from '../validation.js';

/** A command may be a string or a list of strings (a string is a one-item list), as in Hop3. */
const Commands = z.union([z.string(), z.array(z.string())]).transform((value) => (typeof value === 'string' ? [value] : value));
const StringList = z.array(z.string());
const EnvValue = z.union([z.string(), z.number(), z.boolean()]).transform(String);

const MetadataSection = z
  .object({
    id: z.string(),
    version: z.string(),
    title: z.string(),
    description: z.string(),
    author: z.string(),
    license: z.string(),
    name: z.string(),
    homepage: z.string(),
    categories: StringList,
    tags: StringList,
  })
  .partial()
  .strict();

const BuildSection = z
  .object({
    builder: ExtensionNameSchema.describe('auto, or a builder of this hop3 (checked by the builder registry)'),
    toolchain: z.string(),
    'static-dir': z.string(),
    'before-build': Commands,
    'after-build': Commands,
    build: Commands,
    test: Commands,
    packages: StringList,
    'node-version': z.string(),
    'pip-install': StringList,
    ignore: StringList,
  })
  .partial()
  .strict();

const RunSection = z
  .object({
    start: Commands,
    'before-run': Commands,
    workers: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'worker names are letters, digits, "_" and "-"'), z.string().min(1)),
    'start-timeout': z.number(),
    packages: StringList,
    static: z.record(z.string(), z.string()),
    healthcheck: z.string(),
    'healthcheck-timeout': z.number().int().positive(),
  })
  .partial()
  .strict();

const EnvSection = z
  .object({
    _policy: z.enum(['keep-existing', 'override']).optional(),
    computed: z.record(z.string(), EnvValue).optional(),
  })
  .catchall(EnvValue);

const PortEntry = z.union([z.number().int(), z.object({ container: z.number().int(), public: z.number().int().optional(), https: z.boolean().optional() }).strict()]);

const HealthcheckSection = z
  .object({ path: z.string(), contains: z.string(), interval: z.number().int(), timeout: z.number().int().positive(), retries: z.number().int() })
  .partial()
  .strict();

const DockerSection = z
  .object({
    port: z.number().int(),
    runtime: z.string(),
    'build-args': z.record(z.string(), EnvValue),
    'base-image': z.string().min(1),
    dockerfile: z.string().min(1),
    target: z.string().min(1),
    'build-image': z.string().min(1),
    /** Container memory limit, e.g. "512m" or "1g" (bytes after parsing). */
    memory: z
      .string()
      .regex(/^\d+(\.\d+)?\s*[kmg]?b?$/i, 'a size such as "512m" or "1g"')
      .transform(toBytes),
    /** Container CPU limit in cores, e.g. 0.5. */
    cpus: z.number().positive(),
  })
  .partial()
  .strict();

function toBytes(size: string): number {
  const [, amount, unit = ''] = /^(\d+(?:\.\d+)?)\s*([kmg]?)/i.exec(size)!;
  return Math.round(Number(amount) * 1024 ** ' kmg'.indexOf(unit.toLowerCase() || ' '));
}

export const Hop3TomlSchema = z
  .object({
    metadata: MetadataSection,
    build: BuildSection,
    run: RunSection,
    env: EnvSection,
    port: z.record(z.string(), PortEntry),
    healthcheck: HealthcheckSection,
    docker: DockerSection,
    static: z.record(z.string(), z.string()),
    nix: z.record(z.string(), z.unknown()),
    /** Where the artifact runs by default (a deployer target: process, container...); checked when it runs. */
    deploy: z.object({ target: ExtensionNameSchema }).partial().strict(),
  })
  .partial()
  .strict();

export type Hop3Toml = z.infer<typeof Hop3TomlSchema>;

export function parseHop3Toml(text: string, file = 'hop3.toml'): Hop3Toml {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (error) {
    const where = error instanceof TomlError ? `:${error.line}:${error.column}` : '';
    throw new Hop3Error('CONFIG_TOML_SYNTAX', `${file}${where}: ${(error as Error).message.split('\n')[0]}`, {
      file,
      cause: error,
      hint: 'Fix the TOML syntax (https://toml.io); strings need quotes, tables are [section].',
    });
  }
  const result = Hop3TomlSchema.safeParse(raw);
  if (!result.success) {
    throw new Hop3Error('CONFIG_TOML_INVALID', `${file}: ${formatIssues(result.error.issues)}`, {
      file,
      hint: 'Keys are dashed (before-run, not before_run); see the hop3.toml reference in README.md for sections, keys and types.',
    });
  }
  return result.data;
}

/** `[env]` as plain strings: `computed` values get `${VAR}` substituted from the other values. */
export function envFromToml(toml: Hop3Toml): Record<string, string> {
  const { _policy: _ignored, computed = {}, ...plain } = toml.env ?? {};
  const env: Record<string, string> = { ...(plain as Record<string, string>) };
  for (const [key, template] of Object.entries(computed)) {
    env[key] = template.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_match, name: string) => env[name] ?? '');
  }
  return env;
}
