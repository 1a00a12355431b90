import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { WorkerNameSchema } from '../../src/artifact/schema.js';
import { Hop3Error } from '../../src/errors.js';
import { formatIssues } from '../../src/validation.js';
import type { RuntimeDefaults } from '../../src/manifest/runtime-defaults.js';

/** Hop3's convention: a derivation may describe how to run it in `<out>/hop3/runtime.json`. */
export const RUNTIME_JSON = 'hop3/runtime.json';

const RuntimeJsonSchema = z
  .object({
    workers: z.record(WorkerNameSchema, z.string().min(1)),
    env_vars: z.record(z.string(), z.string()),
    path_prepend: z.array(z.string()),
    static_paths: z.record(z.string(), z.string()),
    healthcheck_path: z.string(),
    working_dir: z.string(),
  })
  .partial()
  .strict();

export interface NixRuntime {
  defaults: RuntimeDefaults;
  workingDir: string;
}

/**
 * Toolchain-level defaults of a Nix output: runtime.json's PATH entries, then `<out>/bin`, and the rest of runtime.json.
 * Relative paths in runtime.json are relative to the output; the working dir must stay inside it.
 */
export async function readNixRuntime(out: string): Promise<NixRuntime> {
  const file = path.join(out, RUNTIME_JSON);
  const raw = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  let parsed: z.infer<typeof RuntimeJsonSchema> = {};
  if (raw !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (error) {
      throw invalid(file, `not valid JSON: ${(error as Error).message}`);
    }
    const result = RuntimeJsonSchema.safeParse(json);
    if (!result.success) throw invalid(file, formatIssues(result.error.issues));
    parsed = result.data;
  }
  const resolve = (p: string) => path.posix.resolve(out, p);
  const workingDir = resolve(parsed.working_dir ?? '.');
  if (workingDir !== out && !workingDir.startsWith(`${out}/`)) throw invalid(file, `working_dir ${workingDir} is outside the output ${out}`);
  const bin = path.join(out, 'bin');
  const hasBin = await access(bin).then(() => true, () => false);
  // runtime.json's own entries first (e.g. a virtualenv's bin/ must beat the bare python in <out>/bin).
  const pathPrepend = [...(parsed.path_prepend ?? []).map(resolve), ...(hasBin ? [bin] : [])];
  return {
    workingDir,
    defaults: {
      workers: parsed.workers ?? {},
      env_vars: parsed.env_vars ?? {},
      path_prepend: [...new Set(pathPrepend)],
      static_paths: Object.fromEntries(Object.entries(parsed.static_paths ?? {}).map(([prefix, dir]) => [prefix, resolve(dir)])),
      ...(parsed.healthcheck_path ? { healthcheck_path: parsed.healthcheck_path } : {}),
    },
  };
}

function invalid(file: string, problem: string): Hop3Error {
  return new Hop3Error('BUILD_NIX_RUNTIME_INVALID', `${file}: ${problem}`, {
    file,
    hint: 'The derivation writes hop3/runtime.json: keys workers, env_vars, path_prepend, static_paths, healthcheck_path, working_dir (see nix/README.md).',
  });
}
