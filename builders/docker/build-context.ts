import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import dockerignore from '@balena/dockerignore';
import tar from 'tar-fs';
import type { Header, Pack } from 'tar-stream';
import { Hop3Error } from '../../src/errors.js';
import type { SourceEntry } from '../source-tree.js';

// CommonJS module typed as an ES default export: `.default` is the factory either way.
const ignore = dockerignore.default;

/** @types/tar-fs describes tar-fs 2; these are the tar-fs 3 pack options used here. */
interface PackOptions {
  sort: boolean;
  ignore(name: string): boolean;
  map(header: TarHeader): TarHeader;
  finalize: false;
  finish(pack: Pack): void;
}
type TarHeader = Partial<Header> & Pick<Header, 'name'>;
const packDirectory = tar.pack as unknown as (cwd: string, options: PackOptions) => Pack;

/** Entry times when SOURCE_DATE_EPOCH is not set: any fixed value keeps contexts identical. */
export const DEFAULT_CONTEXT_EPOCH = 0;

/** A file hop3 adds to the context (a generated Dockerfile, hop3's static server). */
export interface ExtraFile {
  /** POSIX path inside the context. */
  path: string;
  content: Buffer;
}

export interface BuildContextSpec {
  sourceDir: string;
  /** Source entries to send, already filtered (see `contextEntries`). */
  entries: readonly SourceEntry[];
  extras: readonly ExtraFile[];
  /** mtime of every entry, in seconds since the epoch. */
  epoch: number;
}

/** SOURCE_DATE_EPOCH when set (reproducible-builds convention), else a fixed epoch. */
export function contextEpoch(env: NodeJS.ProcessEnv): number {
  const value = env.SOURCE_DATE_EPOCH;
  if (value === undefined || value === '') return DEFAULT_CONTEXT_EPOCH;
  if (!/^\d+$/.test(value)) {
    throw new Hop3Error('BUILD_DOCKER_SOURCE_DATE_EPOCH', `SOURCE_DATE_EPOCH=${value} is not a number of seconds.`, {
      hint: 'Set it to a Unix timestamp, e.g. SOURCE_DATE_EPOCH=$(git log -1 --format=%ct), or unset it.',
    });
  }
  return Number(value);
}

/**
 * The source entries that go into the context: the app's `.dockerignore` applied client side
 * (the daemon does not filter a tar it is sent), and every symlink checked to stay inside.
 */
export async function contextEntries(sourceDir: string, entries: readonly SourceEntry[]): Promise<SourceEntry[]> {
  const patterns = await readFile(path.join(sourceDir, '.dockerignore'), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw new Hop3Error('BUILD_DOCKER_CONTEXT', `Cannot read ${path.join(sourceDir, '.dockerignore')}: ${error.message}`, { cause: error, file: '.dockerignore' });
  });
  const filter = ignore({ ignorecase: false }).add(patterns);
  const kept = entries.filter((entry) => !filter.ignores(entry.path));
  for (const entry of kept) if (entry.type === 'symlink') checkSymlink(sourceDir, entry);
  return kept;
}

/** A link out of the context would be dangling in the image, or leak host paths: refuse it. */
function checkSymlink(sourceDir: string, entry: SourceEntry): void {
  const target = entry.linkTarget ?? '';
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(entry.path), target));
  if (path.posix.isAbsolute(target) || resolved === '..' || resolved.startsWith('../')) {
    throw new Hop3Error('BUILD_DOCKER_SYMLINK_OUTSIDE_CONTEXT', `${path.join(sourceDir, entry.path)} is a symlink to ${target}, which is outside the build context ${sourceDir}.`, {
      file: entry.path,
      hint: 'Copy the target into the app directory, make the link relative and inside it, or list the link in .dockerignore.',
    });
  }
}

/**
 * Stream the context as a tar. Entries are normalised (mtime = epoch, uid/gid 0, no user names,
 * modes 0755/0644) so that identical sources give a byte-identical context; files are read
 * as the tar is consumed, so memory stays flat whatever the context size.
 */
export function packContext(spec: BuildContextSpec): Readable {
  const wanted = new Set(spec.entries.map((entry) => entry.path));
  const mtime = new Date(spec.epoch * 1000);
  const extraNames = new Set(spec.extras.map((extra) => extra.path));
  const normalise = (header: TarHeader): TarHeader => {
    const executable = header.type === 'directory' || (header.mode ?? 0) & 0o111;
    return { ...header, mtime, uid: 0, gid: 0, uname: '', gname: '', mode: executable ? 0o755 : 0o644 };
  };
  const pack = packDirectory(spec.sourceDir, {
    sort: true,
    // tar-fs walks the tree itself; only what the entry list holds goes in (extras replace same-named files).
    ignore: (name) => {
      const rel = path.relative(spec.sourceDir, name).split(path.sep).join('/');
      return !wanted.has(rel) || extraNames.has(rel);
    },
    map: (header) => normalise(header),
    finalize: false,
    finish: (packed) => {
      // Parent dirs the source does not have (e.g. `.hop3/`), so the daemon does not invent their modes.
      const parents = new Set(spec.extras.flatMap((extra) => ancestors(extra.path)).filter((dir) => !wanted.has(dir)));
      for (const dir of [...parents].sort()) packed.entry(normalise({ name: dir, type: 'directory' }));
      for (const extra of spec.extras) packed.entry(normalise({ name: extra.path, type: 'file', size: extra.content.length, mode: 0o644 }), extra.content);
      packed.finalize();
    },
  });
  // tar-stream 3 is a streamx stream; Node's own Readable is what the HTTP client pipes with backpressure.
  return Readable.from(pack);
}

function ancestors(file: string): string[] {
  const parts = file.split('/').slice(0, -1);
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}
