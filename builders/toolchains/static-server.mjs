#!/usr/bin/env node
// hop3's built-in static file server: copied into static builds so they run with nothing but node.
// Usage: node static-server.mjs <prefix=dir>... (or a single <dir> served at /). Listens on $BIND_ADDRESS:$PORT.
// Rules: GET and HEAD only; never a dotfile (any path segment starting with "."), hop3's config
// (HIDDEN_NAMES anywhere, a hop3/ folder at a served root), nor a file whose real path leaves its root.
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.htm': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.json': 'application/json',
  '.map': 'application/json', '.xml': 'application/xml', '.txt': 'text/plain; charset=utf-8', '.pdf': 'application/pdf',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif',
  '.webp': 'image/webp', '.ico': 'image/x-icon', '.avif': 'image/avif', '.wasm': 'application/wasm',
  '.woff2': 'font/woff2', '.woff': 'font/woff', '.webmanifest': 'application/manifest+json',
};
/** Config and hop3's own files: never served, at any depth (keep in sync with HIDDEN in static.ts). */
const HIDDEN_NAMES = new Set(['hop3.toml', 'hop3.nix', 'Procfile', 'BUILD_ARTIFACT.json', 'static-server.mjs']);
/** hop3 reads an app's config from hop3/ at its root. */
const HIDDEN_ROOT_DIRS = new Set(['hop3']);
const MAX_URL_LENGTH = 4096;
const ASSET_MAX_AGE = 3600;

const mounts = process.argv.slice(2).map((arg) => {
  const eq = arg.indexOf('=');
  const [prefix, dir] = eq > 0 && arg.startsWith('/') ? [arg.slice(0, eq), arg.slice(eq + 1)] : ['/', arg];
  return { prefix: prefix.split('/').filter(Boolean), dir: path.resolve(dir) };
}).sort((a, b) => b.prefix.length - a.prefix.length);
if (mounts.length === 0) mounts.push({ prefix: [], dir: process.cwd() });

class HttpError extends Error {
  constructor(status) {
    super(String(status));
    this.status = status;
  }
}

/** The decoded path segments of a request target; any trick (`..`, encoded `/` `\` NUL, backslashes) is a 400. */
function segmentsOf(target) {
  if (target.length > MAX_URL_LENGTH || !target.startsWith('/')) throw new HttpError(400);
  const pathname = target.split(/[?#]/, 1)[0];
  if (pathname.includes('\\')) throw new HttpError(400);
  const segments = [];
  for (const raw of pathname.split('/')) {
    if (raw === '') continue;
    let segment;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      throw new HttpError(400);
    }
    if (segment === '.' || segment === '..' || /[/\\\0]/.test(segment)) throw new HttpError(400);
    segments.push(segment);
  }
  return segments;
}

function isHidden(segments) {
  return segments.some((s, i) => s.startsWith('.') || HIDDEN_NAMES.has(s) || (i === 0 && HIDDEN_ROOT_DIRS.has(s)));
}

/** `real` is `root` or inside it. */
function isInside(root, real) {
  const relative = path.relative(root, real);
  return relative === '' || (relative.split(path.sep)[0] !== '..' && !path.isAbsolute(relative));
}

/** The real path of `segments` under the mount's root, or undefined when it is missing, hidden or outside the root. */
async function realFile(root, segments) {
  const real = await realpath(path.join(root, ...segments)).catch(() => undefined);
  // Checked on the real path too: a symlink inside the root may point at hop3.toml or .env.
  if (real === undefined || !isInside(root, real) || isHidden(path.relative(root, real).split(path.sep).filter(Boolean))) return undefined;
  return real;
}

/** An open file for the request path (a directory gives its index.html), or undefined for 404. */
async function openFile(segments) {
  const mount = mounts.find((m) => m.prefix.every((p, i) => segments[i] === p));
  if (!mount) return undefined;
  const rest = segments.slice(mount.prefix.length);
  if (isHidden(rest)) return undefined;
  const root = await realpath(mount.dir).catch(() => undefined);
  if (root === undefined) return undefined;
  for (const candidate of [rest, [...rest, 'index.html']]) {
    const real = await realFile(root, candidate);
    if (real === undefined) return undefined;
    const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined);
    if (handle === undefined) return undefined;
    const info = await handle.stat().catch(() => undefined);
    if (info?.isFile()) return { handle, info, file: real };
    await handle.close();
    if (!info?.isDirectory()) return undefined;
  }
  return undefined;
}

/** Nix sets every store file's mtime to 1: there, a file is told apart by its inode and has no usable date. */
const hasDate = (info) => info.mtimeMs >= 2000;

function etagOf(info) {
  const version = hasDate(info) ? Math.floor(info.mtimeMs).toString(16) : `i${info.ino.toString(16)}`;
  return `"${info.size.toString(16)}-${version}"`;
}

/** RFC 9110 conditional GET: If-None-Match wins over If-Modified-Since. */
function notModified(req, etag, info) {
  const noneMatch = req.headers['if-none-match'];
  if (noneMatch !== undefined) return noneMatch.split(',').some((tag) => { const t = tag.trim(); return t === '*' || t.replace(/^W\//, '') === etag; });
  const since = Date.parse(req.headers['if-modified-since'] ?? '');
  return hasDate(info) && !Number.isNaN(since) && Math.floor(info.mtimeMs / 1000) * 1000 <= since;
}

/** One byte range from a Range header: {start, end} (inclusive), 'unsatisfiable', or undefined to send the whole file. */
function rangeOf(req, etag, info) {
  const header = req.headers.range;
  if (header === undefined) return undefined;
  const ifRange = req.headers['if-range'];
  if (ifRange !== undefined && ifRange !== etag && !(hasDate(info) && ifRange === info.mtime.toUTCString())) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined; // several ranges or bad syntax: the whole file
  const size = info.size;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    return suffix === 0 || size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size) return 'unsatisfiable';
  return start > end ? undefined : { start, end };
}

function sendStatus(res, status, headers = {}) {
  const body = status === 404 ? 'not found\n' : status === 400 ? 'bad request\n' : '';
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

async function respond(req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendStatus(res, 405, { allow: 'GET, HEAD' });
  const found = await openFile(segmentsOf(req.url ?? ''));
  if (!found) return sendStatus(res, 404);
  const { handle: file, info } = found;
  let streaming = false;
  try {
    const etag = etagOf(info);
    const type = TYPES[path.extname(found.file).toLowerCase()] ?? 'application/octet-stream';
    const headers = {
      etag,
      ...(hasDate(info) ? { 'last-modified': info.mtime.toUTCString() } : {}),
      'cache-control': type.startsWith('text/html') ? 'no-cache' : `public, max-age=${ASSET_MAX_AGE}`,
      'accept-ranges': 'bytes',
      'x-content-type-options': 'nosniff',
    };
    if (notModified(req, etag, info)) return void res.writeHead(304, headers).end();
    const range = rangeOf(req, etag, info);
    if (range === 'unsatisfiable') return sendStatus(res, 416, { ...headers, 'content-range': `bytes */${info.size}` });
    const { start, end } = range ?? { start: 0, end: info.size - 1 };
    res.writeHead(range ? 206 : 200, {
      ...headers,
      'content-type': type,
      'content-length': end - start + 1,
      ...(range ? { 'content-range': `bytes ${start}-${end}/${info.size}` } : {}),
    });
    if (req.method === 'HEAD' || info.size === 0) return void res.end();
    streaming = true;
    // pipeline destroys the file stream (closing the descriptor) when the client goes away or a read fails.
    pipeline(file.createReadStream({ start, end }), res, () => {});
  } finally {
    if (!streaming) await file.close().catch(() => {});
  }
}

const server = http.createServer((req, res) => {
  respond(req, res).catch((error) => {
    if (res.headersSent) return void res.destroy();
    sendStatus(res, error instanceof HttpError ? error.status : 500);
  });
});

const port = Number(process.env.PORT || 8000);
const host = process.env.BIND_ADDRESS || '127.0.0.1';
server.listen(port, host, () => console.log(`static server on http://${host}:${port} serving ${mounts.map((m) => `/${m.prefix.map((p) => `${p}/`).join('')} -> ${m.dir}`).join(', ')}`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
