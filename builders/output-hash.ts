import { createHash } from 'node:crypto';
import { ARTIFACT_FILE_NAME } from '../src/artifact/artifact-file.js';
import { digestTreeFiles, entryLine, listTree } from './source-tree.js';

/** What a local build's own path is written as before hashing: a venv and deps.json name it, and it differs per HOP3_HOME. */
export const OUTPUT_ROOT_PLACEHOLDER = '<build-dir>';

/** A .pyc's header: magic number (the interpreter), flags, and for a hash-based one the hash of its source. */
const PYC_HEADER = 16;

/**
 * A hash-based .pyc (what pip writes with SOURCE_DATE_EPOCH set) is determined by its header: the interpreter and its
 * source's hash. Its code names the source's absolute path, with its length: no placeholder can stand in for that.
 */
function hashBased(bytes: Buffer): boolean {
  return bytes.length >= PYC_HEADER && (bytes.readUInt32LE(4) & 1) === 1;
}

/** Never part of the output's hash: the artifact is written after it, and Python's caches of the app are made at run time. */
const OUTPUT_EXCLUDES = [ARTIFACT_FILE_NAME];

export interface OutputTree {
  /** `sha256:<hex>` of the whole tree. */
  hash: string;
  /** Path -> digest of each entry (type, exec bit, link target, bytes), to say which files differ. */
  files: Map<string, string>;
}

/**
 * Hash of a local build's output (app copy, venv, node_modules), the build dir's own path replaced by a placeholder:
 * two clean builds of the same source in different places hash the same when the installers are deterministic.
 * Mtimes and owners are not part of it (source-tree.ts's digest).
 */
export async function hashOutputTree(buildDir: string): Promise<OutputTree> {
  const entries = await listTree(buildDir, OUTPUT_EXCLUDES);
  const own = Buffer.from(buildDir);
  const placeholder = Buffer.from(OUTPUT_ROOT_PLACEHOLDER);
  const rewrite = (bytes: Buffer, rel: string) => (rel.endsWith('.pyc') && hashBased(bytes) ? bytes.subarray(0, PYC_HEADER) : bytes.includes(own) ? replaceAll(bytes, own, placeholder) : bytes);
  const digests = await digestTreeFiles(buildDir, entries, rewrite);
  const hash = createHash('sha256');
  const files = new Map<string, string>();
  entries.forEach((entry, index) => {
    const line = entryLine(entry, entry.linkTarget?.split(buildDir).join(OUTPUT_ROOT_PLACEHOLDER));
    hash.update(line);
    if (entry.type === 'file') hash.update(digests[index]!);
    files.set(entry.path, createHash('sha256').update(line).update(digests[index] ?? '').digest('hex'));
  });
  return { hash: `sha256:${hash.digest('hex')}`, files };
}

/** Paths whose entries differ between two output trees, sorted. */
export function differingFiles(a: OutputTree, b: OutputTree): string[] {
  return [...new Set([...a.files.keys(), ...b.files.keys()])].filter((file) => a.files.get(file) !== b.files.get(file)).sort();
}

function replaceAll(bytes: Buffer, from: Buffer, to: Buffer): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  for (let at = bytes.indexOf(from); at !== -1; at = bytes.indexOf(from, start)) {
    parts.push(bytes.subarray(start, at), to);
    start = at + from.length;
  }
  parts.push(bytes.subarray(start));
  return Buffer.concat(parts);
}
