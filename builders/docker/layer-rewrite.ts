import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform } from 'node:stream';
import tarStream, { type Header } from 'tar-stream';

/**
 * What installers leave in a layer that differs from one build to the next and that nothing reads at run time:
 * npm's cache and logs, pip's cache, Python's own cache dirs of tools. Dropped from rewritten layers.
 */
const DROPPED = [/(^|\/)\.npm\/(_logs|_cacache|_npx|_update-notifier-last-checked)(\/|$)/, /(^|\/)\.cache\/(pip|node-gyp|corepack)(\/|$)/, /(^|\/)npm-debug\.log$/];

export interface RewrittenLayer {
  /** sha256 of the rewritten layer: its new diff_id. */
  diffId: string;
  size: number;
  /** Paths dropped (installer caches and logs). */
  dropped: string[];
}

interface LayerEntry {
  header: Header;
  /** Where its data starts in the layer file. */
  offset: number;
}

/**
 * Rewrites the layer tar `raw` into `output`, reproducibly: entries sorted by name, every mtime set to `epoch` (seconds),
 * PAX access/change times removed, installer caches and logs dropped. Headers are read first, then each entry's data
 * is read from where it sits in `raw`: memory holds headers only, whatever the layer's size.
 */
export async function rewriteLayer(raw: string, output: string, epoch: number): Promise<RewrittenLayer> {
  const entries: LayerEntry[] = [];
  const extract = tarStream.extract();
  const input = createReadStream(raw);
  input.on('error', (error) => extract.destroy(error));
  input.pipe(extract);
  for await (const entry of extract) {
    entries.push({ header: entry.header, offset: (entry.header as Header & { byteOffset: number }).byteOffset });
    for await (const _chunk of entry as AsyncIterable<Buffer>); // read through: the data is read again, in order, below
  }

  const dropped: string[] = [];
  const kept = entries.filter(({ header }) => {
    const drop = DROPPED.some((pattern) => pattern.test(header.name));
    if (drop) dropped.push(header.name);
    return !drop;
  });
  const ordered = leadersFirst(kept.sort((a, b) => (a.header.name < b.header.name ? -1 : a.header.name > b.header.name ? 1 : 0)));

  const pack = tarStream.pack();
  const rewritten = createHash('sha256');
  let size = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      rewritten.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  const out = pipeline(Readable.from(pack), measure, createWriteStream(output));
  out.catch(() => undefined); // awaited below, after the entries
  const spooled = await open(raw, 'r');
  try {
    for (const { header, offset: start } of ordered) {
      const clean = cleanHeader(header, epoch);
      await new Promise<void>((resolve, reject) => {
        const sink = pack.entry(clean, (error) => (error ? reject(error) : resolve()));
        if (clean.type !== 'file' && clean.type !== 'contiguous-file') return;
        void (async () => {
          if (clean.size > 0) {
            for await (const chunk of createReadStream('', { fd: spooled.fd, start, end: start + clean.size - 1, autoClose: false }) as AsyncIterable<Buffer>) {
              if (!sink.write(chunk)) await once(sink, 'drain');
            }
          }
          sink.end(undefined);
        })().catch(reject);
      });
    }
    pack.finalize();
    await out;
  } finally {
    await spooled.close();
  }
  return { diffId: `sha256:${rewritten.digest('hex')}`, size, dropped };
}

/**
 * mtime set to the epoch, not clamped to it: the engine's cache reuses a COPY layer made by another build whose
 * context had other (older) times, since it keys on content; times in PAX records dropped. Owners, modes, xattrs kept.
 */
function cleanHeader(header: Header, epoch: number): Header {
  const mtime = new Date(epoch * 1000);
  const pax = header.pax ? Object.fromEntries(Object.entries(header.pax as Record<string, string>).filter(([key]) => !['mtime', 'atime', 'ctime'].includes(key))) : undefined;
  return { ...header, mtime, pax: pax && Object.keys(pax).length > 0 ? pax : null };
}

/**
 * A hard link names an entry before it; once sorted, a link may come first. Then the group's first name by sort
 * order carries the data and the others link to it: the same files, in an order that depends on names only.
 */
function leadersFirst(entries: LayerEntry[]): LayerEntry[] {
  const index = new Map(entries.map((entry, i) => [entry.header.name, i]));
  const groups = new Map<string, LayerEntry[]>();
  for (const entry of entries) {
    if (entry.header.type !== 'link' || !index.has(entry.header.linkname)) continue;
    (groups.get(entry.header.linkname) ?? groups.set(entry.header.linkname, []).get(entry.header.linkname)!).push(entry);
  }
  const replaced = new Map<string, LayerEntry>();
  for (const [target, links] of groups) {
    const data = entries[index.get(target)!]!;
    const names = [target, ...links.map((link) => link.header.name)].sort();
    const leader = names[0]!;
    if (leader === target) continue;
    replaced.set(leader, { header: { ...data.header, name: leader }, offset: data.offset });
    for (const name of names.slice(1)) {
      const own = name === target ? data : links.find((link) => link.header.name === name)!;
      replaced.set(name, { header: { ...own.header, name, type: 'link', linkname: leader, size: 0 }, offset: 0 });
    }
  }
  return entries.map((entry) => replaced.get(entry.header.name) ?? entry);
}
