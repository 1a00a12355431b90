import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AppConfig } from '../../src/config/app-config.js';
import { Hop3Error } from '../../src/errors.js';
import { packageRoot } from '../../src/package-root.js';
import type { NixValue, Toolchain } from '../toolchains/toolchain.js';
import { nixAttribute } from './nix-packages.js';

export const NIX_TEMPLATE_DIR = path.join(packageRoot, 'nix');
/** The file a generated expression is written to (staged for a build, or in the app by `hop3 nix eject`). */
export const GENERATED_NIX_FILE = 'hop3.nix';

export interface GeneratedExpression {
  /** The template it came from, e.g. `python.nix`. */
  template: string;
  text: string;
}

/** The toolchain's template from `nix/`, with its `@@name@@` placeholders replaced by Nix literals. */
export async function generateNixExpression(toolchain: Toolchain, config: AppConfig, appName: string): Promise<GeneratedExpression> {
  if (!toolchain.nixExpression) {
    throw new Hop3Error('BUILD_NIX_NO_TEMPLATE', `hop3 has no Nix template for the ${toolchain.name} toolchain.`, {
      hint: 'Add a flake.nix or default.nix to the app (hop3 builds it as it is), or build with --builder local or --builder docker.',
    });
  }
  const { template, variables } = await toolchain.nixExpression(config);
  const { build, run } = config.settings;
  const values: Record<string, NixValue> = {
    name: appName,
    buildPackages: [...new Set(build.packages.map(nixAttribute))],
    runPackages: [...new Set(run.packages.map(nixAttribute))],
    ...variables,
  };
  const source = await readFile(path.join(NIX_TEMPLATE_DIR, template), 'utf8');
  const text = source.replace(/( *)[^\n]*?@@(\w+)@@/g, (line, indent: string, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`nix/${template}: no value for @@${name}@@`);
    return line.replace(`@@${name}@@`, () => toNix(value, indent)); // a function: `$$`, `$'`, `$&` in a value stay as they are
  });
  return { template, text };
}

/** A JSON-like value as a Nix literal; strings are escaped so nothing in them is interpolated. */
export function toNix(value: NixValue, indent = ''): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `"${value.replace(/[\\"]/g, '\\$&').replace(/\$\{/g, '\\${').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;
  if (typeof value === 'number') return value < 0 ? `(${value})` : String(value); // `[ -1 ]` is a syntax error in Nix
  if (typeof value === 'boolean') return String(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    const items: readonly NixValue[] = value;
    return items.length === 0 ? '[ ]' : `[\n${items.map((item) => `${inner}${toNix(item, inner)}\n`).join('')}${indent}]`;
  }
  const entries = Object.entries(value as { readonly [key: string]: NixValue });
  if (entries.length === 0) return '{ }';
  return `{\n${entries.map(([key, item]) => `${inner}${nixKey(key)} = ${toNix(item, inner)};\n`).join('')}${indent}}`;
}

const NIX_KEYWORDS = new Set(['assert', 'else', 'if', 'in', 'inherit', 'let', 'or', 'rec', 'then', 'with']);

/** Attribute names stay bare when Nix allows it (readable ejected files), quoted otherwise. */
function nixKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_'-]*$/.test(key) && !NIX_KEYWORDS.has(key) ? key : toNix(key);
}
