import { appendFile, mkdtemp, open, rename, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { followFiles, MAX_TAIL_BYTES, readLogTail, readTail, type FilePosition } from '../../src/deployers/log-files.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-logs-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const numbered = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}`).join('\n') + '\n';

describe('readTail', () => {
  it('returns the last lines, with or without a final newline, and nothing for a missing file', async () => {
    const file = path.join(dir, 'a.log');
    await writeFile(file, numbered(1, 10));
    expect(await readTail(file, 3)).toBe('line 8\nline 9\nline 10');
    expect(await readTail(file, 50)).toBe(numbered(1, 10).trimEnd());
    expect(await readTail(file, 0)).toBe('');
    await appendFile(file, 'partial');
    expect(await readTail(file, 2)).toBe('line 10\npartial');
    expect(await readTail(path.join(dir, 'missing.log'), 5)).toBe('');
  });

  it('keeps empty lines and starts no earlier than `from`', async () => {
    const file = path.join(dir, 'b.log');
    await writeFile(file, 'old\nolder\n\nnew 1\n\nnew 2\n');
    expect(await readTail(file, 3)).toBe('new 1\n\nnew 2');
    expect(await readTail(file, 100, 'old\nolder\n'.length)).toBe('\nnew 1\n\nnew 2');
    expect(await readTail(file, 100, 10_000)).toBe('');
  });

  it('reads lines that span its read blocks', async () => {
    const file = path.join(dir, 'c.log');
    const long = 'x'.repeat(150_000);
    await writeFile(file, `first\n${long}\nlast\n`);
    expect(await readTail(file, 2)).toBe(`${long}\nlast`);
  });

  it('reads the end of a 3 GiB log without reading the rest', async () => {
    const file = path.join(dir, 'huge.log');
    // Sparse: 3 GiB of NUL bytes cost no disk; reading them all (as readFile would) cannot be done in memory.
    await writeFile(file, '');
    await truncate(file, 3 * 1024 ** 3);
    await appendFile(file, `\n${numbered(1, 1000)}`);
    const before = process.memoryUsage().arrayBuffers;
    expect(await readTail(file, 50)).toBe(numbered(951, 1000).trimEnd());
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 ** 2);
  });

  it('returns at most MAX_TAIL_BYTES of a log that has no newline for gigabytes', async () => {
    const file = path.join(dir, 'one-line.log');
    await writeFile(file, '');
    await truncate(file, 2 * 1024 ** 3);
    const text = await readTail(file, 10);
    expect(text.length).toBe(MAX_TAIL_BYTES);
  });
});

describe('readLogTail', () => {
  it('continues into the rotated copies, newest first, when the current file is short', async () => {
    const file = path.join(dir, 'web.log');
    await writeFile(`${file}.2`, numbered(1, 10));
    await writeFile(`${file}.1`, numbered(11, 20));
    await writeFile(file, numbered(21, 22));
    expect((await readLogTail(file, 5)).text).toBe(numbered(18, 22).trimEnd());
    expect((await readLogTail(file, 15)).text).toBe(numbered(8, 22).trimEnd());
    expect((await readLogTail(file, 100)).text).toBe(numbered(1, 22).trimEnd());
    expect((await readLogTail(file, 2)).text).toBe(numbered(21, 22).trimEnd());
  });
});

describe('followFiles', () => {
  async function follow(
    files: Record<string, string>,
    act: (settle: () => Promise<void>) => Promise<void>,
    from?: Record<string, FilePosition | undefined>,
    intervalMs = 40,
    onOutput?: (text: string) => void,
  ): Promise<string> {
    let output = '';
    const controller = new AbortController();
    const write = (chunk: string) => {
      output += chunk;
      onOutput?.(output);
    };
    const following = followFiles(files, write, { signal: controller.signal, intervalMs, ...(from ? { from } : {}) });
    const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 120));
    await settle();
    await act(settle);
    await settle();
    controller.abort();
    await following;
    return output;
  }

  it('shows only what is appended after it starts, across a rotation and a double rotation between two polls', async () => {
    const file = path.join(dir, 'web.log');
    await writeFile(file, 'already shown by the tail\n');
    const output = await follow({ web: file }, async (settle) => {
      await appendFile(file, numbered(1, 3));
      await settle();
      await appendFile(file, numbered(4, 5));
      // one rotation: the rest of the old file comes before the new one
      await rename(file, `${file}.1`);
      await writeFile(file, numbered(6, 7));
      await settle();
      // two rotations before the next poll: the copy in between is shown whole
      await appendFile(file, numbered(8, 8));
      await rename(`${file}.1`, `${file}.2`);
      await rename(file, `${file}.1`);
      await writeFile(file, numbered(9, 10));
      await rename(`${file}.2`, `${file}.3`);
      await rename(`${file}.1`, `${file}.2`);
      await rename(file, `${file}.1`);
      await writeFile(file, numbered(11, 12));
    });
    expect(output).toBe(numbered(1, 12));
  });

  it('neither loses nor repeats a line when rotations race with its polls', async () => {
    // Polls back to back, interleaved with the writer's renames at every await: CI once saw a poll open the file
    // a rotation had just replaced, and lines of the generation in between were lost.
    const file = path.join(dir, 'web.log');
    await writeFile(file, '');
    let line = 0;
    let shown = '';
    const output = await follow(
      { web: file },
      async () => {
        for (let round = 0; round < 80; round++) {
          await appendFile(file, numbered(++line, line));
          // one or two rotations (LOG_KEEP is 3), each followed by a new file with a line in it
          for (let rotation = 0; rotation <= round % 2; rotation++) {
            await rename(`${file}.2`, `${file}.3`).catch(() => {});
            await rename(`${file}.1`, `${file}.2`).catch(() => {});
            await rename(file, `${file}.1`);
            await writeFile(file, numbered(++line, line));
          }
          // Within LOG_KEEP rotations of the file it follows: wait until it shows the newest line.
          while (!shown.endsWith(`line ${line}\n`)) await new Promise((resolve) => setImmediate(resolve));
        }
      },
      undefined,
      0,
      (text) => (shown = text),
    );
    expect(output).toBe(numbered(1, line));
  });

  it('prefixes each line with its worker, also when a line arrives in pieces', async () => {
    const web = path.join(dir, 'web.log');
    const clock = path.join(dir, 'clock.log');
    await writeFile(web, '');
    const output = await follow({ web, clock }, async (settle) => {
      await appendFile(web, 'half a ');
      await settle();
      await appendFile(web, 'line\nnext\n');
      await writeFile(clock, 'tick\n'); // created after -f started
    });
    expect(output.split('\n').sort()).toEqual(['', 'clock | tick', 'web | half a line', 'web | next']);
  });

  it('goes on exactly where the tail stopped, even when the file was rotated in between', async () => {
    const file = path.join(dir, 'web.log');
    await writeFile(file, numbered(1, 3));
    const tail = await readLogTail(file, 2);
    expect(tail.text).toBe('line 2\nline 3');
    // written after the tail was read, before -f started: shown once
    await appendFile(file, numbered(4, 5));
    await rename(file, `${file}.1`);
    await writeFile(file, numbered(6, 6));
    const output = await follow({ web: file }, async () => appendFile(file, numbered(7, 7)), { web: tail.position });
    expect(output).toBe(numbered(4, 7));
  });

  it('starts again from the top of a truncated file', async () => {
    const file = path.join(dir, 'web.log');
    await writeFile(file, numbered(1, 100));
    const output = await follow({ web: file }, async (settle) => {
      const handle = await open(file, 'r+');
      await handle.truncate(0);
      await handle.close();
      await settle();
      await appendFile(file, 'after truncation\n');
    });
    expect(output).toBe('after truncation\n');
  });
});
