import type { WorkerRecord } from '../state/releases.js';
import type { LogOptions } from './deployer.js';

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

/** The logs call of a container or a Swarm service (dockerode): a Buffer, or a stream with `follow`. */
export type EngineLogs = (id: string, options: { stdout: true; stderr: true; follow: boolean; tail: number; since?: number }) => Promise<unknown>;

/** The last `lines` lines of a container's or a service's output; '' when the engine has none (or no such object). */
export async function engineLogTail(logs: EngineLogs, id: string, lines: number): Promise<string> {
  if (lines <= 0 || !id) return '';
  const output = await logs(id, { stdout: true, stderr: true, follow: false, tail: lines }).catch(() => Buffer.alloc(0));
  return decodeLogFrames(Buffer.isBuffer(output) ? output : Buffer.from(String(output))).replace(/\n$/, '');
}

/** `hop3 logs` for engine workers: each one's tail, then (with follow) what they print, prefixed by worker when there are several. */
export async function writeEngineLogs(workers: readonly WorkerRecord[], options: LogOptions, logs: EngineLogs): Promise<void> {
  const prefix = (name: string, text: string) => (workers.length > 1 ? text.replace(/^(?=.)/gm, `${name} | `) : text);
  for (const worker of workers) {
    const text = await engineLogTail(logs, worker.id, options.lines);
    if (text) options.write(`${prefix(worker.name, text)}\n`);
  }
  if (!options.follow) return;
  await Promise.all(
    workers.map(async (worker) => {
      const stream = (await logs(worker.id, { follow: true, stdout: true, stderr: true, since: Math.floor(Date.now() / 1000), tail: 0 })) as NodeJS.ReadableStream & { destroy(): void };
      options.signal?.addEventListener('abort', () => stream.destroy(), { once: true });
      const frames = new LogFrames();
      try {
        for await (const chunk of stream) {
          const text = frames.push(chunk as Buffer);
          if (text) options.write(prefix(worker.name, text));
        }
      } catch (error) {
        if (!options.signal?.aborted) throw error;
      }
    }),
  );
}
