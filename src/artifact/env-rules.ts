/**
 * What an environment variable must be for a process to start with it at all. Shared by every
 * reader of env (the artifact's env_vars; hop3.toml's [env] may reuse it), so a value that can
 * never reach execve is refused when its file is read, not as E2BIG or a spawn error at run time.
 */

/** Linux refuses any one `NAME=value` string longer than this (MAX_ARG_STRLEN, the NUL included). */
export const MAX_ENV_ENTRY_BYTES = 128 * 1024;
/** hop3's budget for an app's own variables: the host's environment and argv share the kernel's ~2 MiB. */
export const MAX_ENV_TOTAL_BYTES = 1024 * 1024;

/** Why `name` cannot be an environment variable name, or undefined when it can. */
export function envNameProblem(name: string): string | undefined {
  if (name === '') return 'an environment variable name cannot be empty';
  if (name.includes('=')) return 'an environment variable name cannot contain "="';
  if (name.includes('\0')) return 'an environment variable name cannot contain a NUL character';
  return undefined;
}

/** Why `name=value` cannot be passed to a process, or undefined when it can. */
export function envValueProblem(name: string, value: string): string | undefined {
  if (value.includes('\0')) return 'the value contains a NUL character, which no process environment can hold';
  const bytes = envEntryBytes(name, value);
  if (bytes > MAX_ENV_ENTRY_BYTES) return `${name}=<value> is ${bytes} bytes; one variable may be at most ${MAX_ENV_ENTRY_BYTES} bytes (128 KiB, the kernel's limit)`;
  return undefined;
}

/** Why the variables together cannot be passed to a process, or undefined when they can. */
export function envTotalProblem(env: Readonly<Record<string, string>>): string | undefined {
  let total = 0;
  for (const [name, value] of Object.entries(env)) total += envEntryBytes(name, value);
  if (total > MAX_ENV_TOTAL_BYTES) return `the variables take ${total} bytes together; an app may set at most ${MAX_ENV_TOTAL_BYTES} bytes (1 MiB)`;
  return undefined;
}

/** Every problem of an environment, keyed by variable name (`''` for the whole). */
export function envProblems(env: Readonly<Record<string, string>>): { name: string; problem: string }[] {
  const problems: { name: string; problem: string }[] = [];
  for (const [name, value] of Object.entries(env)) {
    const problem = envNameProblem(name) ?? envValueProblem(name, value);
    if (problem) problems.push({ name, problem });
  }
  const total = envTotalProblem(env);
  if (total) problems.push({ name: '', problem: total });
  return problems;
}

/** Bytes of `name=value\0` as execve sees them. */
function envEntryBytes(name: string, value: string): number {
  return Buffer.byteLength(name) + 1 + Buffer.byteLength(value) + 1;
}
