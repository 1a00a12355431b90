/**
 * `$NAME` and `${NAME}` in `[env]` values, as Hop3 writes them (`NITRO_PORT = "$PORT"`). One rule for the
 * build (`[env.computed]` against `[env]`) and the run (every value against the worker's final variables):
 * a reference to a variable that is set is replaced by its value; any other is left as written (Hop3 does
 * the same), so a literal `$` in a password survives. No shell runs: `$(...)`, `$1`, `$$` stay as they are.
 */
const REFERENCE = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/** The variable names a value refers to, in order, each once. */
export function referencesOf(value: string): string[] {
  return [...new Set(Array.from(value.matchAll(REFERENCE), (match) => (match[1] ?? match[2])!))];
}

/** One pass over a value: each reference `lookup` knows is replaced, the others are left as written. */
export function expandReferences(value: string, lookup: (name: string) => string | undefined): string {
  return value.replace(REFERENCE, (match, braced: string | undefined, bare: string | undefined) => lookup((braced ?? bare)!) ?? match);
}

/**
 * The app's variables with their references expanded, each against the others and `fixed` (hop3's own
 * PORT, APP...: used as they are, never expanded). A variable referring to itself, directly or through
 * others, keeps that reference as written.
 */
export function resolveEnv(app: Readonly<Record<string, string>>, fixed: Readonly<Record<string, string>> = {}): Record<string, string> {
  const resolved = new Map<string, string>();
  const resolving = new Set<string>();
  const resolve = (name: string): string | undefined => {
    if (Object.hasOwn(fixed, name)) return fixed[name];
    if (!Object.hasOwn(app, name) || resolving.has(name)) return undefined;
    const done = resolved.get(name);
    if (done !== undefined) return done;
    resolving.add(name);
    const value = expandReferences(app[name]!, resolve);
    resolving.delete(name);
    resolved.set(name, value);
    return value;
  };
  return Object.fromEntries(Object.keys(app).map((name) => [name, resolve(name)!]));
}
