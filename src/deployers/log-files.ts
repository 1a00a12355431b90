import { open, stat, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';

/** A worker log is rotated when it would pass this size (log-writer.mjs does it; HOP3_LOG_MAX_BYTES overrides, for tests). */
export const LOG_MAX_BYTES = 10 * 1024 * 1024;
/** Rotated logs kept beside the current one: `<worker>.log.1` (newest) to `.3` (oldest). */
export const LOG_KEEP = 3;
/** Bytes read at a time, backwards for a tail and forwards for -f. */
const BLOCK = 64 * 1024;
/** The most a tail returns: a log without newlines for gigabytes still costs bounded memory. */
export const MAX_TAIL_BYTES = 8 * 1024 * 1024;

/** The size a worker log rotates at: HOP3_LOG_MAX_BYTES when it is a whole number ≥ 1024, else LOG_MAX_BYTES. */
export function logMaxBytes(env: NodeJS.ProcessEnv): number {
  const value = Number(env.HOP3_LOG_MAX_BYTES);
  return Number.isSafeInteger(value) && value >= 1024 ? value : LOG_MAX_BYTES;
}

/** `<worker>.log.<n>`: the n-th newest rotated copy of a log (the naming log-writer.mjs uses). */
export function rotatedLog(file: string, n: number): string {
  return `${file}.${n}`;
}

/** Where a reader stopped in a file: -f continues from there, on that very file even if it was rotated since. */
export interface FilePosition {
  inode: number;
  offset: number;
}

interface Tail {
  text: string;
  lines: number;
  /** Where the read ended; undefined when the file does not exist. */
  position: FilePosition | undefined;
}

/** The last lines of a worker log, and where they end in its current file. */
export interface LogTail {
  text: string;
  position: FilePosition | undefined;
}

/**
 * Last `lines` lines of a file from byte `from` on ('' when it does not exist). Reads backwards from
 * the end in blocks until it has seen enough newlines, so a multi-GB log costs a few blocks.
 */
export async function readTail(file: string, lines: number, from = 0): Promise<string> {
  return (await tailOf(file, lines, from)).text;
}

/** Last `lines` lines of a worker log, continuing into its rotated copies when the current file has fewer. */
export async function readLogTail(file: string, lines: number, keep = LOG_KEEP): Promise<LogTail> {
  const current = await tailOf(file, lines);
  const parts = current.lines > 0 ? [current.text] : [];
  let missing = lines - current.lines;
  for (let n = 1; n <= keep && missing > 0; n++) {
    const tail = await tailOf(rotatedLog(file, n), missing);
    if (tail.lines === 0) continue;
    parts.unshift(tail.text);
    missing -= tail.lines;
  }
  return { text: parts.join('\n'), position: current.position };
}

async function tailOf(file: string, lines: number, from = 0): Promise<Tail> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return { text: '', lines: 0, position: undefined };
  try {
    const { size, ino } = await handle.stat();
    const position = { inode: ino, offset: size };
    if (lines <= 0) return { text: '', lines: 0, position };
    const start = await tailStart(handle, lines, Math.min(Math.max(from, 0), size), size);
    if (start >= size) return { text: '', lines: 0, position };
    const buffer = Buffer.alloc(size - start);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    let text = buffer.subarray(0, bytesRead).toString('utf8');
    if (text.endsWith('\n')) text = text.slice(0, -1);
    return { text, lines: text.split('\n').length, position: { inode: ino, offset: start + bytesRead } };
  } finally {
    await handle.close();
  }
}

/** Offset where the last `lines` lines of [from, size) begin: just after the lines-th newline from the end (a final newline ends the last line). */
async function tailStart(handle: FileHandle, lines: number, from: number, size: number): Promise<number> {
  const block = Buffer.alloc(BLOCK);
  let found = 0;
  let position = size;
  while (position > from) {
    const length = Math.min(BLOCK, position - from);
    position -= length;
    const { bytesRead } = await handle.read(block, 0, length, position);
    for (let i = bytesRead - 1; i >= 0; i--) {
      if (block[i] !== 0x0a || position + i === size - 1) continue;
      if (++found === lines) return position + i + 1;
    }
    if (size - position >= MAX_TAIL_BYTES) return size - MAX_TAIL_BYTES;
  }
  return from;
}

/** One followed log: the open file (which keeps its inode across a rename) and how far it was read. */
interface Followed {
  name: string;
  file: string;
  handle: FileHandle | undefined;
  inode: number;
  offset: number;
  decoder: StringDecoder;
  atLineStart: boolean;
}

export interface FollowOptions {
  signal?: AbortSignal | undefined;
  /** Per file name: where the tail shown before stopped (default: the end of each file when -f starts). */
  from?: Record<string, FilePosition | undefined>;
  keep?: number;
  intervalMs?: number;
}

/**
 * Write what is appended to `files` as it arrives, prefixed per file when there are several, until the
 * signal aborts. A rotated file (renamed to `.1`, a new one created) is read to its end before the new
 * one, and copies rotated in between two polls are shown whole, so -f loses nothing across rotation.
 */
export async function followFiles(files: Record<string, string>, write: (chunk: string) => void, options: FollowOptions = {}): Promise<void> {
  const { signal, keep = LOG_KEEP, intervalMs = 200 } = options;
  const prefix = Object.keys(files).length > 1;
  const followed: Followed[] = [];
  for (const [name, file] of Object.entries(files)) {
    const entry: Followed = { name, file, handle: undefined, inode: -1, offset: 0, decoder: new StringDecoder('utf8'), atLineStart: true };
    const from = options.from?.[name];
    if (from) await resume(entry, from);
    else if (await reopen(entry)) entry.offset = (await entry.handle!.stat()).size; // what is there already was shown by the tail
    followed.push(entry);
  }
  const emit = (entry: Followed, text: string) => {
    if (!text) return;
    if (prefix) {
      const tag = `${entry.name} | `;
      write((entry.atLineStart ? tag : '') + text.replace(/\n(?=[^])/g, `\n${tag}`));
    } else {
      write(text);
    }
    entry.atLineStart = text.endsWith('\n');
  };
  try {
    while (!signal?.aborted) {
      for (const entry of followed) await poll(entry, emit, keep);
      await sleep(intervalMs, undefined, { signal }).catch(() => {});
    }
  } finally {
    await Promise.all(followed.map((entry) => entry.handle?.close()));
  }
}

async function poll(entry: Followed, emit: (entry: Followed, text: string) => void, keep: number): Promise<void> {
  if (entry.handle) await drain(entry, emit);
  const current = await stat(entry.file).catch(() => undefined);
  if (!current || current.ino === entry.inode) return;
  // Rotated. The new file is opened first: a rotation racing with this poll then cannot move it out of sight
  // (it is read through the handle), and the copies in between are those older than it and newer than the old one.
  const next = await open(entry.file, 'r').catch(() => undefined);
  if (!next) return; // renamed again between stat and open: the next poll finds its successor
  const nextInode = (await next.stat()).ino;
  if (entry.handle) {
    // The old file is complete once renamed (the writer closes it first): finish it, then the copies rotated since.
    await drain(entry, emit);
    emit(entry, entry.decoder.end());
    await entry.handle.close();
    for (const missed of await openRotatedBetween(entry.file, { older: entry.inode, newer: nextInode }, keep)) await emitWhole(entry, missed, emit);
  }
  Object.assign(entry, { handle: next, inode: nextInode, offset: 0, decoder: new StringDecoder('utf8') });
  await drain(entry, emit);
}

/** Continue where a tail stopped: in the current file, or in `.1` if it was rotated in between (the first poll then moves on). */
async function resume(entry: Followed, from: FilePosition): Promise<void> {
  for (const file of [entry.file, rotatedLog(entry.file, 1)]) {
    const handle = await open(file, 'r').catch(() => undefined);
    if (!handle) continue;
    if ((await handle.stat()).ino === from.inode) {
      Object.assign(entry, { handle, inode: from.inode, offset: from.offset });
      return;
    }
    await handle.close();
  }
  await reopen(entry); // rotated further: the current file from its start
}

/** Open the current file; false when it does not exist (yet). */
async function reopen(entry: Followed): Promise<boolean> {
  const handle = await open(entry.file, 'r').catch(() => undefined);
  if (!handle) return false;
  entry.handle = handle;
  entry.inode = (await handle.stat()).ino;
  entry.offset = 0;
  return true;
}

/** Emit what was appended since the last read, a block at a time; a truncated file is read again from its start. */
async function drain(entry: Followed, emit: (entry: Followed, text: string) => void): Promise<void> {
  const handle = entry.handle!;
  const size = (await handle.stat()).size;
  if (size < entry.offset) entry.offset = 0;
  const buffer = Buffer.alloc(BLOCK);
  while (entry.offset < size) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(BLOCK, size - entry.offset), entry.offset);
    if (bytesRead === 0) break;
    entry.offset += bytesRead;
    emit(entry, entry.decoder.write(buffer.subarray(0, bytesRead)));
  }
}

/** Rotated copies newer than the file with `inode` (oldest first): rotated more than once between two polls. */
/**
 * The rotated copies of `file` between two generations, opened, oldest first. Each is opened before it is
 * looked at and appears once, so a rotation shifting the copies mid-walk neither hides nor repeats one.
 */
async function openRotatedBetween(file: string, { older, newer }: { older: number; newer: number }, keep: number): Promise<FileHandle[]> {
  const between: FileHandle[] = [];
  const seen = new Set([newer]);
  for (let n = 1; n <= keep; n++) {
    const handle = await open(rotatedLog(file, n), 'r').catch(() => undefined);
    if (!handle) continue;
    const { ino } = await handle.stat();
    if (seen.has(ino) || ino === older) await handle.close();
    else {
      seen.add(ino);
      between.unshift(handle);
    }
    if (ino === older) break;
  }
  return between;
}

async function emitWhole(entry: Followed, handle: FileHandle, emit: (entry: Followed, text: string) => void): Promise<void> {
  const copy: Followed = { ...entry, handle, offset: 0, decoder: new StringDecoder('utf8') };
  try {
    await drain(copy, emit);
    emit(copy, copy.decoder.end());
  } finally {
    entry.atLineStart = copy.atLineStart;
    await handle.close();
  }
}
