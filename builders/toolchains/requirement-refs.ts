import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/** What a requirements file points at on disk, as absolute paths. */
export interface RequirementRefs {
  /** Nested requirement and constraint files (-r, -c). */
  files: string[];
  /** Local wheels, archives, find-links folders and projects installed by copy: their content is what gets installed. */
  trees: string[];
  /** Projects installed editable (-e): the venv points at their code, so only their declared dependencies count. */
  editables: string[];
}

const NESTED = new Set(['-r', '--requirement', '-c', '--constraint']);
const EDITABLE = new Set(['-e', '--editable']);
const FIND_LINKS = new Set(['-f', '--find-links']);
/** Options whose value is never a local path: skipped with their value. */
const NOT_PATHS = new Set(['-i', '--index-url', '--extra-index-url', '--trusted-host', '--hash', '--config-settings', '--global-option']);
const ARCHIVE = /\.(whl|zip|tar\.gz|tgz|tar\.bz2|tar)$/i;

/**
 * The local paths a requirements file names, following `-r`/`-c` includes (pip's syntax: `#` comments,
 * `\` continuations, `--opt value` or `--opt=value`). Relative paths are tried against the file's own folder,
 * as pip does for find-links, then the app root (pip's working directory); paths that do not exist are ignored.
 */
export async function requirementRefs(appRoot: string, file: string): Promise<RequirementRefs> {
  const refs: RequirementRefs = { files: [], trees: [], editables: [] };
  const seen = new Set<string>();
  const visit = async (reqFile: string): Promise<void> => {
    if (seen.has(reqFile)) return;
    seen.add(reqFile);
    const text = await readFile(reqFile, 'utf8').catch(() => undefined);
    if (text === undefined) return;
    const tokens = requirementTokens(text);
    const local = (token: string) => localPath(token, [path.dirname(reqFile), appRoot]);
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i]!;
      if (NESTED.has(token)) {
        const nested = await local(tokens[++i] ?? '');
        if (nested) {
          refs.files.push(nested);
          await visit(nested);
        }
      } else if (EDITABLE.has(token)) {
        const project = await local(tokens[++i] ?? '');
        if (project) refs.editables.push(project);
      } else if (FIND_LINKS.has(token)) {
        const links = await local(tokens[++i] ?? '');
        if (links) refs.trees.push(links);
      } else if (NOT_PATHS.has(token)) {
        i++;
      } else if (!token.startsWith('-')) {
        const target = looksLikePath(token) ? await local(token) : undefined;
        if (target) refs.trees.push(target);
      }
    }
  };
  await visit(path.resolve(appRoot, file));
  return refs;
}

/** The file's words, comments and continuations removed, `--opt=value` and `-rfile` split in two. */
export function requirementTokens(text: string): string[] {
  const tokens: string[] = [];
  for (const line of text.replace(/\\\r?\n/g, ' ').split(/\r?\n/)) {
    for (const word of line.replace(/(^|\s)#.*$/, '').trim().split(/\s+/)) {
      if (word === '') continue;
      const long = /^(--[\w-]+)=(.*)$/.exec(word);
      const short = /^(-[rcefi])(.+)$/.exec(word);
      if (long) tokens.push(long[1]!, long[2]!);
      else if (short) tokens.push(short[1]!, short[2]!);
      else tokens.push(word);
    }
  }
  return tokens;
}

/** A path or a file: URL, not a requirement like `flask>=3` or an https URL. */
function looksLikePath(token: string): boolean {
  if (token.startsWith('file:')) return true;
  if (token.includes('://')) return false;
  return token === '.' || token.startsWith('./') || token.startsWith('../') || token.startsWith('/') || ARCHIVE.test(token) || (token.includes('/') && !/[<>=!~;]/.test(token));
}

/** The existing local path a token names, tried against each base in turn. */
async function localPath(token: string, bases: readonly string[]): Promise<string | undefined> {
  if (token === '') return undefined;
  let target = token.replace(/^file:(\/\/(localhost)?)?/, '').replace(/#.*$/, '').replace(/\[[^\]]*\]$/, '');
  if (token.startsWith('file:')) target = decodeURIComponent(target);
  if (target.includes('://')) return undefined;
  for (const base of path.isAbsolute(target) ? [''] : bases) {
    const candidate = path.resolve(base, target);
    if (await stat(candidate).catch(() => undefined)) return candidate;
  }
  return undefined;
}
