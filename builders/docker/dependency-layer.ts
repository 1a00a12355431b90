import type { SourceEntry } from '../source-tree.js';
import type { DependencyFiles } from '../toolchains/dependency-files.js';

/** The template line hop3 replaces with the COPYs of the dependency files. */
export const DEPENDENCY_FILES_MARKER = '# hop3:copy-dependency-files';

/** COPY sources the engine would expand or that JSON form cannot hold safely. */
const UNSAFE = /[*?[\\\n\r]/;

export interface DependencyLayer {
  /** The template with its marker line replaced. */
  text: string;
  /** What the install step gets before the code; undefined: the whole source. */
  copied: string[] | undefined;
}

/**
 * Replace the template's marker with COPYs of only the files its install step reads, so that the
 * engine's cache keeps that step while the rest of the source changes. Listed paths the context lacks
 * are skipped (the install would not see them after `COPY .` either); a symlink among them, or a
 * name COPY would expand, falls back to copying the whole source first, as before.
 */
export function withDependencyLayer(template: string, files: DependencyFiles, entries: readonly SourceEntry[], appRoot: string): DependencyLayer {
  const copies = files && dependencyCopies(files, entries, appRoot);
  const lines = copies?.lines ?? [`COPY . ${appRoot}`];
  const text = template
    .split('\n')
    .map((line) => (line.trim() === DEPENDENCY_FILES_MARKER ? lines.join('\n') : line))
    .join('\n');
  return { text, copied: copies?.copied };
}

function dependencyCopies(files: readonly string[], entries: readonly SourceEntry[], appRoot: string): { lines: string[]; copied: string[] } | undefined {
  const byPath = new Map(entries.map((entry) => [entry.path, entry]));
  const present = files.filter((file) => byPath.has(file));
  if (present.length === 0 || present.some((file) => UNSAFE.test(file))) return undefined;
  // A link inside a copied folder may point at what is not copied yet.
  const linked = entries.some((entry) => entry.type === 'symlink' && present.some((file) => entry.path === file || entry.path.startsWith(`${file}/`)));
  if (linked) return undefined;
  // Files one COPY per folder they are in, then each listed folder: COPY copies a folder's contents, not the folder.
  const filesByDir = new Map<string, string[]>();
  const dirLines: string[] = [];
  for (const file of present) {
    if (byPath.get(file)!.type === 'dir') dirLines.push(copy([file], `${appRoot}/${file}/`));
    else {
      const dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : '';
      filesByDir.set(dir, [...(filesByDir.get(dir) ?? []), file]);
    }
  }
  const fileLines = [...filesByDir].sort(([a], [b]) => a.localeCompare(b)).map(([dir, group]) => copy(group, dir ? `${appRoot}/${dir}/` : `${appRoot}/`));
  return { lines: [...fileLines, ...dirLines], copied: present };
}

/** JSON form: names with spaces or quotes need no escaping rules of their own. */
function copy(sources: readonly string[], target: string): string {
  return `COPY ${JSON.stringify([...sources, target]).replace(/","/g, '", "')}`;
}
