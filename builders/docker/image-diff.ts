import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import type { DockerClient } from '../../src/engines/docker-client.js';
import { baseLayerCount, predictedLayerDirs, saveLayer } from './image-normalise.js';

/** What an image holds above its base images: file path -> a digest of its type, mode, owner, link target, mtime and bytes; and its config. */
export interface ImageContents {
  files: Map<string, string>;
  config: Record<string, unknown>;
}

/** Where two images differ: files and config fields (dotted paths), each sorted. */
export interface ImageDifference {
  files: string[];
  config: string[];
}

/** Reads an image's own layers (`docker save`, base layers skipped unread) into a listing to compare. */
export async function imageContents(docker: DockerClient, imageId: string, baseImageIds: readonly string[]): Promise<ImageContents> {
  const image = await docker.getImage(imageId).inspect();
  const diffIds = image.RootFS.Layers ?? [];
  const baseDirs = predictedLayerDirs(diffIds, Math.min(await baseLayerCount(docker, diffIds, baseImageIds), diffIds.length - 1));
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'hop3-image-'));
  try {
    return await readContents(docker, imageId, baseDirs, tmp);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function readContents(docker: DockerClient, imageId: string, baseDirs: ReadonlySet<string>, tmp: string): Promise<ImageContents> {
  const files = new Map<string, string>();
  const layers = new Map<string, Map<string, string>>();
  let manifest: { Config: string; Layers: string[] }[] = [];
  const jsons = new Map<string, string>();
  const extract = tarStream.extract();
  const stream = (await docker.getImage(imageId).get()) as Readable;
  stream.on('error', (error) => extract.destroy(error));
  stream.pipe(extract);
  for await (const entry of extract) {
    const { name } = entry.header;
    const layerDir = /^([0-9a-f]{64})\/layer\.tar$/.exec(name)?.[1];
    if (layerDir !== undefined && !baseDirs.has(layerDir)) {
      const raw = path.join(tmp, `${layerDir}.tar`);
      await saveLayer(entry as AsyncIterable<Buffer>, raw);
      layers.set(name, await listLayer(raw));
      await rm(raw, { force: true });
    } else if (name.endsWith('.json') && !name.includes('/')) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry as AsyncIterable<Buffer>) chunks.push(chunk);
      jsons.set(name, Buffer.concat(chunks).toString('utf8'));
    } else for await (const _chunk of entry as AsyncIterable<Buffer>); // drained
  }
  manifest = JSON.parse(jsons.get('manifest.json') ?? '[]') as typeof manifest;
  const top = manifest[0];
  // Upper layers win, as in the image's file system.
  for (const layerPath of top?.Layers ?? []) for (const [file, digest] of layers.get(layerPath) ?? []) files.set(file, digest);
  return { files, config: JSON.parse(jsons.get(top?.Config ?? '') ?? '{}') as Record<string, unknown> };
}

/** Files and config fields that differ between two listings. */
export function diffImageContents(a: ImageContents, b: ImageContents): ImageDifference {
  const files = [...new Set([...a.files.keys(), ...b.files.keys()])].filter((file) => a.files.get(file) !== b.files.get(file)).sort();
  return { files, config: diffFields(a.config, b.config, '').sort() };
}

function diffFields(a: unknown, b: unknown, at: string): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!isObject(a) || !isObject(b) || at.split('.').length > 2) return [at || '(config)'];
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].flatMap((key) => diffFields(a[key], b[key], at ? `${at}.${key}` : key));
}

/** A layer's entries, read from the file it was saved to. */
async function listLayer(file: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const extract = tarStream.extract();
  const input = createReadStream(file);
  input.on('error', (error) => extract.destroy(error));
  input.pipe(extract);
  for await (const entry of extract) {
    const { name, type, mode, uid, gid, linkname, mtime } = entry.header;
    const hash = createHash('sha256');
    for await (const chunk of entry as AsyncIterable<Buffer>) hash.update(chunk);
    files.set(`/${name.replace(/\/$/, '')}`, `${type} ${(mode ?? 0).toString(8)} ${uid}:${gid} ${linkname ?? ''} ${mtime?.toISOString()} ${hash.digest('hex')}`);
  }
  return files;
}
