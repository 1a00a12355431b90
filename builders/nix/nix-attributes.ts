import { Hop3Error, isHop3Error } from '../../src/errors.js';
import { runNix, type NixRun } from './nix-command.js';

/** The Nix system of this host, e.g. x86_64-linux. */
export function nixSystem(): string {
  const arch = ({ x64: 'x86_64', arm64: 'aarch64' } as Record<string, string>)[process.arch] ?? process.arch;
  return `${arch}-${process.platform === 'darwin' ? 'darwin' : 'linux'}`;
}

/** What can be built instead: the flake's `packages.<system>`, or the file's top-level attributes. */
export async function listNixAttributes(installable: { flake: string; overrideArgs: string[] } | { file: string }, run: NixRun): Promise<string[]> {
  const args =
    'flake' in installable
      ? ['eval', '--json', `${installable.flake}#packages.${nixSystem()}`, '--apply', 'builtins.attrNames', ...installable.overrideArgs]
      : ['eval', '--json', '--impure', '--expr', `let f = import ${JSON.stringify(installable.file)}; v = if builtins.isFunction f then f { } else f; in if v.type or null == "derivation" then [ ] else builtins.attrNames v`];
  const { stdout } = await runNix(args, run);
  const names: unknown = JSON.parse(stdout);
  return Array.isArray(names) ? names.filter((name): name is string => typeof name === 'string') : [];
}

/** Add "these exist: ..." to a missing-attribute error; the original error stands if listing fails too. */
export async function withAttributeList(error: unknown, list: () => Promise<string[]>): Promise<unknown> {
  if (!isHop3Error(error, 'BUILD_NIX_ATTR_MISSING')) return error;
  const names = await list().catch(() => undefined);
  if (names === undefined) return error;
  const available = names.length > 0 ? `Attributes that exist: ${names.join(', ')}.` : 'It defines no buildable attributes.';
  return error.with({
    message: `${error.message} ${available}`,
    ...(names.length > 0 ? { hint: `Set \`[nix] attr = "${names[0]}"\` in hop3.toml (or one of the others).` } : {}),
  });
}
