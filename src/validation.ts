import type * as z from 'zod';

/** `runtime.workers.web: expected string` — one line per issue, field paths users can find in their file. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`).join('; ');
}

/**
 * `runtime.env_vars.DEBUG`, `static./assets`; a key with dots, spaces or control characters is shown as a
 * JSON string (`workers."a b"`, `workers."\n"`), so a path reads one way and stays on one line.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((part, index) => {
      if (typeof part === 'number') return `[${part}]`;
      const key = String(part);
      return `${index === 0 ? '' : '.'}${/^[A-Za-z0-9_\-\/=+@:$]+$/.test(key) || isJsonString(key) ? key : JSON.stringify(key)}`;
    })
    .join('');
}

/** A key a schema already put in quotes (hop3.toml's env names): shown as it is, not quoted twice. */
function isJsonString(key: string): boolean {
  if (!/^"[^]*"$/.test(key)) return false;
  try {
    return typeof JSON.parse(key) === 'string';
  } catch {
    return false;
  }
}
