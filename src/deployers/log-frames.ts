/**
 * Decoder for the Engine's multiplexed log stream (containers without a TTY): frames of an 8-byte
 * header (stream type, 3 zero bytes, big-endian length) then the payload. Frames may span chunks.
 */
export class LogFrames {
  private pending: Buffer = Buffer.alloc(0);

  /** Feed bytes; returns the text of every complete frame, stdout and stderr interleaved as sent. */
  push(chunk: Buffer): string {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let text = '';
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      text += this.pending.subarray(8, 8 + size).toString('utf8');
      this.pending = this.pending.subarray(8 + size);
    }
    return text;
  }
}

export function decodeLogFrames(buffer: Buffer): string {
  return new LogFrames().push(buffer);
}
