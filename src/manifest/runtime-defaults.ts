/**
 * Runtime defaults: the lowest layer of the manifest merge (hop3.toml > Procfile > these).
 * Toolchains produce them, builders rewrite their paths for where the app runs. Paths are as seen there.
 */
export interface RuntimeDefaults {
  workers: Record<string, string>;
  env_vars: Record<string, string>;
  path_prepend: string[];
  static_paths: Record<string, string>;
  healthcheck_path?: string;
}

export function emptyDefaults(): RuntimeDefaults {
  return { workers: {}, env_vars: {}, path_prepend: [], static_paths: {} };
}
