import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * hop3's layers, lowest first: a module may import its own layer or lower ones, never a higher one,
 * and the builder and deployer halves (both layer 2) never import each other.
 */
export const LAYERS: readonly { name: string; level: number; paths: readonly string[] }[] = [
  { name: 'foundation', level: 0, paths: ['src/errors.ts', 'src/validation.ts', 'src/package-root.ts', 'src/log/', 'src/process/', 'src/engines/', 'src/artifact/', 'src/config/', 'src/state/'] },
  { name: 'manifest', level: 1, paths: ['src/manifest/'] },
  { name: 'builders', level: 2, paths: ['builders/'] },
  { name: 'deployers', level: 2, paths: ['src/deployers/'] },
  { name: 'application', level: 3, paths: ['src/app/'] },
  { name: 'cli', level: 4, paths: ['src/cli/'] },
];

export function layerOf(file: string): (typeof LAYERS)[number] | undefined {
  return LAYERS.find((layer) => layer.paths.some((p) => (p.endsWith('/') ? file.startsWith(p) : file === p)));
}

/** Relative module specifiers a file imports: static, re-exports and dynamic import(). */
export function importsOf(source: string): string[] {
  const specifiers = new Set<string>();
  for (const match of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.[^'"]+)['"]/gm)) specifiers.add(match[1]!);
  return [...specifiers];
}

/** Every import that points against the layer order, as "importer -> imported (why)". */
export function layerViolations(files: ReadonlyMap<string, string>): string[] {
  const violations: string[] = [];
  for (const [file, source] of files) {
    const from = layerOf(file);
    if (!from) {
      violations.push(`${file} belongs to no layer (add its folder to LAYERS)`);
      continue;
    }
    for (const specifier of importsOf(source)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)).replace(/\.js$/, '.ts');
      const to = layerOf(target);
      if (!to) continue; // assets and package files outside the layered code
      if (to.level > from.level) violations.push(`${file} -> ${target} (${from.name} must not import the higher ${to.name} layer)`);
      else if (to.level === from.level && to.name !== from.name) violations.push(`${file} -> ${target} (${from.name} and ${to.name} never import each other)`);
    }
  }
  return violations;
}

/** The TypeScript sources of src/ and builders/, keyed by path relative to the repository root. */
export async function readLayeredSources(root: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const top of ['src', 'builders']) {
    for (const entry of await readdir(path.join(root, top), { recursive: true })) {
      if (!entry.endsWith('.ts')) continue;
      const rel = `${top}/${entry.split(path.sep).join('/')}`;
      files.set(rel, await readFile(path.join(root, rel), 'utf8'));
    }
  }
  return files;
}
