import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import * as z from 'zod';
import { Hop3Error } from '../../src/errors.js';
import type { DockerClient } from '../../src/engines/docker-client.js';
import { rewriteLayer, type RewrittenLayer } from './layer-rewrite.js';

export interface NormaliseRequest {
  docker: DockerClient;
  /** The image the build made. */
  imageId: string;
  /** Moved to the normalised image. */
  tag: string;
  /** Images the build started FROM: their layers are already reproducible and are neither rewritten nor sent back. */
  baseImageIds: readonly string[];
  /** Seconds since the Unix epoch: every mtime in the build's own layers, and it is every time in the config. */
  epoch: number;
}

export interface NormalisedImage {
  imageId: string;
  /** Layers rewritten (the build's own). */
  rewritten: number;
  /** Installer caches and logs dropped from them. */
  dropped: string[];
}

/** `docker save`'s manifest.json (Docker 1.10+ format). */
const SaveManifest = z.array(z.looseObject({ Config: z.string(), Layers: z.array(z.string()) })).min(1);

/**
 * `container_config` of a layer that is not the top one in `docker save` output: Go's zero container.Config,
 * as Engine 20.10 writes it. Only used to predict which directories hold base layers, so as not to rewrite them;
 * another engine's encoding only costs rewriting (then discarding) those too.
 */
const ZERO_CONTAINER_CONFIG =
  '{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null}';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Makes the built image reproducible, as BuildKit's rewrite-timestamp, ko and jib do: the image is streamed out
 * (`docker save`), the build's own layers rewritten (layer-rewrite.ts), the config's times and per-build fields
 * (created, history, container, container_config, the parent image) set from `epoch` or dropped, and the result
 * loaded back under the same tag. Base layers pass through unread; rewritten layers go through temp files, so
 * memory stays bounded. Two builds of the same source then have the same image ID.
 */
export async function normaliseImage(request: NormaliseRequest): Promise<NormalisedImage> {
  const { docker } = request;
  const image = await docker.getImage(request.imageId).inspect();
  const diffIds = image.RootFS.Layers ?? [];
  const baseCount = await baseLayerCount(docker, diffIds, request.baseImageIds);
  const baseDirs = predictedLayerDirs(diffIds, Math.min(baseCount, diffIds.length - 1));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-image-'));
  try {
    const saved = await readSavedImage((await docker.getImage(request.imageId).get()) as Readable, dir, baseDirs, request.epoch);
    const manifest = SaveManifest.parse(JSON.parse(saved.files.get('manifest.json') ?? 'null'))[0]!;
    const configText = saved.files.get(manifest.Config);
    if (configText === undefined || manifest.Layers.length !== diffIds.length) throw unexpected(`it has no config ${manifest.Config} or not ${diffIds.length} layers`);
    const layers = manifest.Layers.map((layerPath, index) => {
      if (index < baseCount) return { diffId: diffIds[index]! };
      const layer = saved.layers.get(layerPath);
      if (!layer || layer.originalDiffId !== diffIds[index]) throw unexpected(`its layer ${layerPath} is not layer ${index} (${diffIds[index]})`);
      return { diffId: layer.diffId, file: path.join(dir, `${layerPath.split('/')[0]}.out`), size: layer.size };
    });
    const config = normaliseConfig(JSON.parse(configText) as Record<string, unknown>, layers.map((layer) => layer.diffId), request.epoch);
    const imageId = `sha256:${sha256(config)}`;
    const exists = await docker
      .getImage(imageId)
      .inspect()
      .then(() => true, () => false);
    if (exists) {
      const [repo, tag] = splitTag(request.tag);
      await docker.getImage(imageId).tag({ repo, tag });
    } else {
      await loadImage(docker, loadTar(config, imageId, request.tag, layers));
    }
    const dropped = [...saved.layers.values()].flatMap((layer) => layer.dropped);
    return { imageId, rewritten: layers.length - baseCount, dropped };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** How many of an image's first layers are a base image's. */
export async function baseLayerCount(docker: DockerClient, diffIds: readonly string[], baseImageIds: readonly string[]): Promise<number> {
  const bases = await Promise.all(baseImageIds.map(async (id) => (await docker.getImage(id).inspect()).RootFS.Layers ?? []));
  return Math.max(0, ...bases.map((layers) => commonPrefix(diffIds, layers)));
}

/** How many leading layers two images share. */
function commonPrefix(a: readonly string[], b: readonly string[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

/** `docker save`'s directory names (v1 ids) of the first `count` layers, below the top one: a digest of their chain id and parent. */
export function predictedLayerDirs(diffIds: readonly string[], count: number): Set<string> {
  const dirs = new Set<string>();
  let chain = '';
  let parent = '';
  for (let i = 0; i < count; i++) {
    chain = i === 0 ? diffIds[0]! : `sha256:${sha256(`${chain} ${diffIds[i]}`)}`;
    parent = sha256(`{"container_config":${ZERO_CONTAINER_CONFIG},"created":"1970-01-01T00:00:00Z","layer_id":"${chain}"${parent ? `,"parent":"sha256:${parent}"` : ''}}`);
    dirs.add(parent);
  }
  return dirs;
}

interface SavedImage {
  /** Small JSON files (manifest.json, the config) by name. */
  files: Map<string, string>;
  /** Rewritten layers by their path in the save (`<dir>/layer.tar`). */
  layers: Map<string, RewrittenLayer & { originalDiffId: string }>;
}

/** Reads `docker save` output: base layers skipped, the others rewritten into `<dir>.out` in `tmp`. */
async function readSavedImage(stream: Readable, tmp: string, baseDirs: ReadonlySet<string>, epoch: number): Promise<SavedImage> {
  const files = new Map<string, string>();
  const layers = new Map<string, RewrittenLayer & { originalDiffId: string }>();
  const extract = tarStream.extract();
  const reading = (async () => {
    for await (const entry of extract) {
      const { name } = entry.header;
      const layerDir = /^([0-9a-f]{64})\/layer\.tar$/.exec(name)?.[1];
      if (layerDir !== undefined && !baseDirs.has(layerDir)) {
        const raw = path.join(tmp, `${layerDir}.tar`);
        const originalDiffId = await saveLayer(entry as AsyncIterable<Buffer>, raw);
        layers.set(name, { originalDiffId, ...(await rewriteLayer(raw, path.join(tmp, `${layerDir}.out`), epoch)) });
        await rm(raw, { force: true });
      } else if (name.endsWith('.json') && !name.includes('/')) {
        const chunks: Buffer[] = [];
        for await (const chunk of entry as AsyncIterable<Buffer>) chunks.push(chunk);
        files.set(name, Buffer.concat(chunks).toString('utf8'));
      } else {
        for await (const _chunk of entry as AsyncIterable<Buffer>); // drained: a base layer, or a file hop3 does not need
      }
    }
  })();
  stream.pipe(extract);
  stream.on('error', (error) => extract.destroy(error));
  try {
    await reading;
  } finally {
    stream.destroy(); // a failure half-way leaves the engine's export open otherwise
  }
  return { files, layers };
}

/** Writes a layer of the export to `file`; returns its sha256 (its diff_id as the daemon knows it). */
export async function saveLayer(entry: AsyncIterable<Buffer>, file: string): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(file, 'w');
  try {
    for await (const chunk of entry) {
      hash.update(chunk);
      await handle.write(chunk);
    }
  } finally {
    await handle.close();
  }
  return `sha256:${hash.digest('hex')}`;
}

/** The config with the build's times and per-container fields made independent of when and where it ran. */
function normaliseConfig(config: Record<string, unknown>, diffIds: readonly string[], epoch: number): string {
  const created = new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');
  const { container: _container, container_config: _containerConfig, ...rest } = config;
  const inner = { ...(rest.config as Record<string, unknown> | undefined) };
  // The parent image is an intermediate one, with an id of its own per build.
  if ('Image' in inner) inner.Image = '';
  if ('Hostname' in inner) inner.Hostname = '';
  const history = ((rest.history as Record<string, unknown>[] | undefined) ?? []).map((entry) => ({ ...entry, created }));
  return JSON.stringify({ ...rest, config: inner, created, history, rootfs: { type: 'layers', diff_ids: diffIds } });
}

/** A tar `docker load` takes: the config, the manifest, and only the rewritten layers (the engine has the others by chain id). */
function loadTar(config: string, imageId: string, tag: string, layers: readonly { diffId: string; file?: string; size?: number }[]): Readable {
  const pack = tarStream.pack();
  const hex = imageId.replace('sha256:', '');
  const layerPath = (diffId: string) => `${diffId.replace('sha256:', '')}/layer.tar`;
  void (async () => {
    try {
      pack.entry({ name: `${hex}.json`, mtime: new Date(0) }, config);
      pack.entry({ name: 'manifest.json', mtime: new Date(0) }, JSON.stringify([{ Config: `${hex}.json`, RepoTags: [tag], Layers: layers.map((layer) => layerPath(layer.diffId)) }]));
      for (const layer of layers) {
        if (!layer.file) continue;
        const size = (await stat(layer.file)).size;
        await new Promise<void>((resolve, reject) => {
          const sink = pack.entry({ name: layerPath(layer.diffId), size, mtime: new Date(0) }, (error) => (error ? reject(error) : resolve()));
          void (async () => {
            for await (const chunk of createReadStream(layer.file!) as AsyncIterable<Buffer>) if (!sink.write(chunk)) await once(sink, 'drain');
            sink.end(undefined);
          })().catch(reject);
        });
      }
      pack.finalize();
    } catch (error) {
      pack.destroy(error as Error);
    }
  })();
  return Readable.from(pack);
}

/** `docker load`, its progress stream read to the end; an error message in it fails the load (the status is 200 even then). */
async function loadImage(docker: DockerClient, tar: Readable): Promise<void> {
  const response = (await docker.loadImage(tar, { quiet: true })) as NodeJS.ReadableStream;
  let text = '';
  for await (const chunk of response) text += chunk.toString();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const message = JSON.parse(line) as { error?: string; errorDetail?: { message?: string } };
    const failure = message.errorDetail?.message ?? message.error;
    if (failure) throw new Hop3Error('BUILD_DOCKER_NORMALISE_FAILED', `Docker could not load the normalised image: ${failure}`, { hint: 'Check the daemon log and free disk space; the build itself succeeded, rebuild to try again.' });
  }
}

function splitTag(reference: string): [string, string] {
  const colon = reference.lastIndexOf(':');
  return colon > reference.lastIndexOf('/') ? [reference.slice(0, colon), reference.slice(colon + 1)] : [reference, 'latest'];
}

function unexpected(what: string): Hop3Error {
  return new Hop3Error('BUILD_DOCKER_NORMALISE_FAILED', `Cannot normalise the built image: ${what} in the engine's export.`, { hint: 'This Docker Engine exports images in a format hop3 does not know; report it with `docker version`.' });
}
