import { open, readFile, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** Last `lines` lines of a file from byte `from` on ('' when it does not exist). */
export async function readTail(file: string, lines: number, from = 0): Promise<string> {
  const text = (await readFile(file).catch(() => Buffer.alloc(0))).subarray(from).toString('utf8');
  if (lines <= 0) return '';
  const all = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  return all.slice(-lines).join('\n');
}

/** Write what is appended to `files` as it arrives, prefixed per file, until the signal aborts. */
export async function followFiles(files: Record<string, string>, write: (chunk: string) => void, signal?: AbortSignal): Promise<void> {
  const offsets = new Map<string, number>();
  for (const file of Object.values(files)) offsets.set(file, (await stat(file).catch(() => undefined))?.size ?? 0);
  const prefix = Object.keys(files).length > 1;
  while (!signal?.aborted) {
    for (const [name, file] of Object.entries(files)) {
      const size = (await stat(file).catch(() => undefined))?.size ?? 0;
      const offset = offsets.get(file) ?? 0;
      if (size < offset) offsets.set(file, 0); // truncated/rotated
      if (size <= offset) continue;
      const handle = await open(file, 'r');
      try {
        const buffer = Buffer.alloc(size - offset);
        await handle.read(buffer, 0, buffer.length, offset);
        offsets.set(file, size);
        const text = buffer.toString('utf8');
        write(prefix ? text.replace(/^(?=.)/gm, `${name} | `) : text);
      } finally {
        await handle.close();
      }
    }
    await sleep(200, undefined, { signal }).catch(() => {});
  }
}
