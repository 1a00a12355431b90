import path from 'node:path';
import * as z from 'zod';
import { Hop3Error } from '../../src/errors.js';
import { readJson } from './fs-utils.js';

const Dependencies = z.record(z.string(), z.unknown()).optional();

/** The parts of package.json hop3 reads; the rest is the app's business. */
const PackageJsonSchema = z.looseObject({
  main: z.string().optional(),
  scripts: z.record(z.string(), z.string()).optional(),
  /** Corepack's field: "yarn@4.5.3", "pnpm@9.15.0+sha512.…". */
  packageManager: z.string().optional(),
  // Old package.json files have engines as an array or a string: not a requirement hop3 can read, so none.
  engines: z.record(z.string(), z.unknown()).optional().catch(undefined),
  dependencies: Dependencies,
  devDependencies: Dependencies,
  optionalDependencies: Dependencies,
});
export type PackageJson = z.infer<typeof PackageJsonSchema>;

export async function readPackageJson(dir: string): Promise<PackageJson> {
  const file = path.join(dir, 'package.json');
  let json: unknown;
  try {
    json = await readJson(file);
  } catch (error) {
    throw new Hop3Error('CONFIG_PACKAGE_JSON_INVALID', `${file} is not valid JSON: ${(error as Error).message}`, { file, cause: error, hint: 'Fix package.json.' });
  }
  const result = PackageJsonSchema.safeParse(json);
  if (!result.success) {
    throw new Hop3Error('CONFIG_PACKAGE_JSON_INVALID', `${file}: ${result.error.issues[0]?.message}`, { file, hint: 'Fix package.json.' });
  }
  return result.data;
}

/** engines.<name> when it is a string. */
export function engine(pkg: PackageJson, name: string): string | undefined {
  const value = pkg.engines?.[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** Whether the app depends (in any section) on one of `names`. */
export function dependsOn(pkg: PackageJson, names: readonly string[]): boolean {
  return [pkg.dependencies, pkg.devDependencies, pkg.optionalDependencies].some((deps) => names.some((name) => deps?.[name] !== undefined));
}
