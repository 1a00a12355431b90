import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tarStream, { type Header } from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { rewriteLayer } from '../../builders/docker/layer-rewrite.js';

type Entry = { header: Partial<Header> & { name: string }; data?: string };

async function tarOf(entries: readonly Entry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const { header, data } of entries) {
    if (data === undefined) pack.entry(header);
    else pack.entry(header, data);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function read(file: string): Promise<{ header: Header; data: string }[]> {
  const extract = tarStream.extract();
  createReadStream(file).pipe(extract);
  const out: { header: Header; data: string }[] = [];
  for await (const entry of extract) {
    let data = '';
    for await (const chunk of entry as AsyncIterable<Buffer>) data += chunk.toString();
    out.push({ header: entry.header, data });
  }
  return out;
}

const EPOCH = 1_700_000_000;
const late = new Date('2026-01-02T03:04:05.678Z');
const early = new Date('2001-01-01T00:00:00Z');
const ENTRIES: Entry[] = [
  { header: { name: 'app/b.txt', mtime: late, pax: { atime: '1767323045.1', 'SCHILY.xattr.user.k': 'v' } }, data: 'bee' },
  { header: { name: 'app/', type: 'directory', mtime: late } },
  { header: { name: 'app/z-target', mtime: early }, data: 'shared bytes' },
  { header: { name: 'app/c-link', type: 'link', linkname: 'app/z-target', mtime: late } },
  { header: { name: 'root/.npm/_logs/2026-debug.log', mtime: late }, data: 'noise' },
];

describe('rewriteLayer', () => {
  let dir: string;
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('sorts entries, sets every mtime to the epoch, drops PAX times and npm logs, and gives a hard link group to its first name', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-layer-'));
    await writeFile(path.join(dir, 'in.tar'), await tarOf(ENTRIES));
    const result = await rewriteLayer(path.join(dir, 'in.tar'), path.join(dir, 'out.tar'), EPOCH);
    expect(result.dropped).toEqual(['root/.npm/_logs/2026-debug.log']);
    const out = await read(path.join(dir, 'out.tar'));
    expect(out.map((e) => e.header.name)).toEqual(['app/', 'app/b.txt', 'app/c-link', 'app/z-target']);
    for (const entry of out) expect(entry.header.mtime.getTime()).toBe(EPOCH * 1000); // older ones too (ENTRIES[2])
    expect(out[1]!.header.pax).toMatchObject({ 'SCHILY.xattr.user.k': 'v' }); // xattrs kept
    expect(out[1]!.header.pax).not.toHaveProperty('atime');
    expect(out[2]!.header).toMatchObject({ type: 'file' });
    expect(out[2]!.data).toBe('shared bytes');
    expect(out[3]!.header).toMatchObject({ type: 'link', linkname: 'app/c-link' });
  });

  it('gives the same bytes for the same files in another order and with other times', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-layer-'));
    const shuffled = [ENTRIES[2]!, ENTRIES[0]!, ENTRIES[3]!, ENTRIES[1]!].map((e) => ({ ...e, header: { ...e.header, ...(e.header.mtime === late ? { mtime: new Date() } : {}) } }));
    await writeFile(path.join(dir, 'a.tar'), await tarOf(ENTRIES));
    await writeFile(path.join(dir, 'b.tar'), await tarOf(shuffled));
    const a = await rewriteLayer(path.join(dir, 'a.tar'), path.join(dir, 'a.out'), EPOCH);
    const b = await rewriteLayer(path.join(dir, 'b.tar'), path.join(dir, 'b.out'), EPOCH);
    expect(b.diffId).toBe(a.diffId);
    expect(a.diffId).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
