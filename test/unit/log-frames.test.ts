import { describe, expect, it } from 'vitest';
import { decodeLogFrames, LogFrames } from '../../src/deployers/log-frames.js';

/** One frame of the Engine's multiplexed stream: stream type (1 stdout, 2 stderr), 3 zero bytes, big-endian length, payload. */
function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header.writeUInt8(stream, 0);
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('docker log frames', () => {
  it('decodes stdout and stderr frames interleaved in the order sent', () => {
    const bytes = Buffer.concat([frame(1, 'out one\n'), frame(2, 'err one\n'), frame(1, 'out two\n')]);
    expect(decodeLogFrames(bytes)).toBe('out one\nerr one\nout two\n');
  });

  it('keeps a frame split across chunks until its payload is complete', () => {
    const frames = new LogFrames();
    const bytes = frame(1, 'hello world\n');
    expect(frames.push(bytes.subarray(0, 11))).toBe(''); // header + 3 payload bytes
    expect(frames.push(bytes.subarray(11))).toBe('hello world\n');
  });

  it('waits for the rest of a partial header, however it is cut', () => {
    const bytes = Buffer.concat([frame(2, 'first\n'), frame(1, 'second\n')]);
    for (let cut = 1; cut < bytes.length; cut++) {
      const frames = new LogFrames();
      const text = frames.push(bytes.subarray(0, cut)) + frames.push(bytes.subarray(cut));
      expect(text, `cut at byte ${cut}`).toBe('first\nsecond\n');
    }
  });

  it('decodes a stream fed one byte at a time, multi-byte characters included', () => {
    const bytes = Buffer.concat([frame(1, 'café ☕\n'), frame(2, ''), frame(2, 'ünïcode\n')]);
    const frames = new LogFrames();
    let text = '';
    for (const byte of bytes) text += frames.push(Buffer.from([byte]));
    expect(text).toBe('café ☕\nünïcode\n');
  });

  it('returns nothing for an incomplete trailing frame', () => {
    const bytes = Buffer.concat([frame(1, 'done\n'), frame(1, 'never finished\n').subarray(0, 12)]);
    expect(decodeLogFrames(bytes)).toBe('done\n');
  });
});
