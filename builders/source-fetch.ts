import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { SourceSettings } from '../src/config/app-settings.js';
import { Hop3Error, tail, wrapError } from '../src/errors.js';
import type { Logger } from '../src/log/logger.js';
import { runCommand } from '../src/process/run-command.js';
import type { NetworkProfile } from '../src/config/network-profile.js';
import { copySourceTree, listSourceTree, type SourceEntry } from './source-tree.js';

/** The directory a build reads: the app dir itself, or a temporary merge of `[source]` and the app dir. */
export interface EffectiveSource extends AsyncDisposable {
  dir: string;
  /** What `[source]` fetched, for the artifact's metadata (the url and, for a file, its sha256). */
  upstream?: { url: string; sha256?: string };
}

export interface SourceFetchOptions {
  env: NodeJS.ProcessEnv;
  /** The build's proxy and CA bundle, which Node's fetch would not use. */
  network?: NetworkProfile;
  log: Logger;
  signal?: AbortSignal;
}

/** How long a download may take in all; a stalled server must not hang a build forever. */
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;

/**
 * Materialise the source a build starts from. With a tarball or directory `[source]`, its files are
 * unpacked into a temporary directory (a single top-level folder, as in GitHub archives, is its root),
 * then the app dir's own files (hop3.toml, Procfile, patches) overlay them. Removed on dispose.
 */
export async function effectiveSource(appDir: string, source: SourceSettings | undefined, options: SourceFetchOptions): Promise<EffectiveSource> {
  if (!source) return { dir: appDir, [Symbol.asyncDispose]: async () => {} };
  const root = await mkdtemp(path.join(options.env.TMPDIR || os.tmpdir(), 'hop3-source-'));
  const dispose = () => rm(root, { recursive: true, force: true });
  try {
    const unpacked = path.join(root, 'upstream');
    await mkdir(unpacked);
    options.log.step(`fetching [source] ${source.url}`);
    const { local, sha256 } = await localCopy(source.url, appDir, root, options);
    if ((await stat(local)).isDirectory()) await copySourceTree(local, await listSourceTree(local), unpacked);
    else await untar(local, unpacked, source.url, options);
    const dir = await singleTopDir(unpacked);
    // The tarball itself, when it lives in the app dir, is not part of what is built.
    const insideApp = path.relative(appDir, local);
    const skip = insideApp.startsWith('..') || path.isAbsolute(insideApp) ? [] : [insideApp.split(path.sep).join('/')];
    const overlay = await listSourceTree(appDir, skip);
    await overlayTree(appDir, overlay, dir);
    options.log.info(`built from [source] ${source.url}, with the app's own ${overlay.filter((e) => e.type !== 'dir').length} files over it`);
    return { dir, upstream: { url: source.url, ...(sha256 ? { sha256 } : {}) }, [Symbol.asyncDispose]: dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** The `[source]` as a file or directory on this host: a file:// URL or path as it is, an http(s) URL downloaded into `root`. */
async function localCopy(url: string, appDir: string, root: string, options: SourceFetchOptions): Promise<{ local: string; sha256?: string }> {
  let local: string;
  if (/^https?:\/\//i.test(url)) local = await download(url, path.join(root, 'download'), options);
  else if (/^file:/i.test(url)) local = fileURLToPath(url);
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new Hop3Error('BUILD_SOURCE_FETCH_FAILED', `[source] url = "${url}": hop3 fetches file://, http:// and https:// URLs and local paths only.`, {
      hint: 'Download it yourself and point [source] url at the file (file:///path/app.tar.gz, or a path relative to the app).',
    });
  } else local = path.resolve(appDir, url);
  const info = await stat(local).catch((error: unknown) => {
    throw wrapError(error, 'BUILD_SOURCE_FETCH_FAILED', `Cannot read [source] ${url} (${local})`, 'Check [source] url in hop3.toml: a tarball or directory on this host (a path relative to the app dir, or file:///absolute/path).');
  });
  return info.isDirectory() ? { local } : { local, sha256: await fileSha256(local) };
}

/** GET the URL into `file`; an unreachable network says so, with the offline way out. */
async function download(url: string, file: string, options: SourceFetchOptions): Promise<string> {
  const signals = [AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS), ...(options.signal ? [options.signal] : [])];
  let response: { ok: boolean; status: number; statusText: string; body: Readable | null };
  try {
    response = await get(url, AbortSignal.any(signals), options.network);
  } catch (error) {
    options.signal?.throwIfAborted();
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new Hop3Error('BUILD_SOURCE_NETWORK_UNREACHABLE', `Cannot download [source] ${url}: the network is unreachable from this host (${cause?.code ?? (error as { code?: string }).code ?? cause?.message ?? (error as Error).message}).`, {
      cause: error,
      hint: 'Download the tarball where the network allows, put it on this host (e.g. in the app dir) and set [source] url = "file:///path/to/it.tar.gz" (or a path relative to the app).',
    });
  }
  if (!response.ok || !response.body) {
    response.body?.destroy();
    throw new Hop3Error('BUILD_SOURCE_FETCH_FAILED', `Cannot download [source] ${url}: the server answered ${response.status} ${response.statusText}.`, {
      hint: 'Check [source] url (and [metadata] upstream_version, if the url uses ${upstream_version}).',
    });
  }
  try {
    await pipeline(response.body, createWriteStream(file, { mode: 0o600 }));
  } catch (error) {
    options.signal?.throwIfAborted();
    throw wrapError(error, 'BUILD_SOURCE_NETWORK_UNREACHABLE', `The download of [source] ${url} broke off`, 'Retry, or vendor the tarball: download it elsewhere and set [source] url = "file:///path/to/it.tar.gz".');
  }
  return file;
}

/** fetch, or with a proxy or CA bundle in the build's network profile, a GET that uses them. */
async function get(url: string, signal: AbortSignal, network: NetworkProfile | undefined): Promise<{ ok: boolean; status: number; statusText: string; body: Readable | null }> {
  const proxy = url.startsWith('https:') ? network?.proxy.https : network?.proxy.http;
  if (proxy || network?.caBundle) {
    const ca = network?.caBundle ? await readFile(network.caBundle.value, 'utf8') : undefined;
    const noProxy = network?.proxy.noProxy?.value;
    // Loaded for a download only: http, https and tls cost every build's start-up otherwise.
    const { proxiedGet } = await import('./proxied-get.js');
    const response = await proxiedGet(url, { ...(proxy ? { proxy: proxy.value } : {}), ...(noProxy ? { noProxy } : {}), ...(ca ? { ca } : {}), signal });
    const status = response.statusCode ?? 0;
    return { ok: status >= 200 && status < 300, status, statusText: response.statusMessage ?? '', body: response };
  }
  const response = await fetch(url, { signal, redirect: 'follow' });
  return { ok: response.ok, status: response.status, statusText: response.statusText, body: response.body ? Readable.fromWeb(response.body as import('node:stream/web').ReadableStream) : null };
}

/** Unpack with the host's tar (gzip, xz, bzip2 or none, as tar detects): it refuses absolute and `..` member paths. */
async function untar(file: string, into: string, url: string, options: SourceFetchOptions): Promise<void> {
  const result = await runCommand('tar', ['-xf', file, '-C', into, '--no-same-owner'], { env: options.env, ...(options.signal ? { signal: options.signal } : {}) });
  if (result.failed) {
    options.signal?.throwIfAborted();
    throw new Hop3Error('BUILD_SOURCE_FETCH_FAILED', `Cannot unpack [source] ${url}: \`tar -xf\` failed (${result.reason}).`, {
      command: result.command,
      ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
      outputTail: tail(result.all),
      hint: result.notFound ? 'Install tar (Debian: apt-get install tar).' : '[source] must be a tarball (.tar, .tar.gz, .tgz, .tar.xz, .tar.bz2) or a directory.',
    });
  }
}

/** A tree whose only entry is a directory (`app-1.0/`) is rooted there. */
async function singleTopDir(dir: string): Promise<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.length === 1 && entries[0]!.isDirectory() ? path.join(dir, entries[0]!.name) : dir;
}

/**
 * Copy the app's entries over the unpacked tree. What is in the way goes first: a file where the app has
 * a folder, and any symlink (the upstream's links must never redirect the app's files outside the tree).
 */
async function overlayTree(from: string, entries: readonly SourceEntry[], to: string): Promise<void> {
  try {
    for (const entry of entries) {
      const target = path.join(to, entry.path);
      const existing = await lstat(target).catch(() => undefined);
      if (entry.type === 'dir') {
        if (existing?.isDirectory()) continue;
        if (existing) await rm(target, { recursive: true, force: true });
        await mkdir(target, { mode: 0o700 });
        continue;
      }
      if (existing) await rm(target, { recursive: true, force: true });
      if (entry.type === 'symlink') await symlink(entry.linkTarget!, target);
      else await copyFile(path.join(from, entry.path), target);
    }
  } catch (error) {
    throw wrapError(error, 'BUILD_COPY_FAILED', `Cannot put the app's files over its [source] in ${to}`, 'Check that TMPDIR is writable and has room.');
  }
}

async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
