#!/usr/bin/env node
// hop3's built-in static file server: copied into static builds so they run with nothing but node.
// Usage: node static-server.mjs [--auth-file=<htpasswd>] [--index-fallback] <prefix=dir>... (or a single <dir>
// served at /). Listens on $BIND_ADDRESS:$PORT.
// Rules: GET and HEAD only; never a dotfile (any path segment starting with "."), hop3's config
// (HIDDEN_NAMES anywhere, a hop3/ folder at a served root), nor a file whose real path leaves its root.
// --auth-file: every request needs HTTP basic auth against those `user:hash` lines (Staticfile.auth): apr1 and
// $1$ MD5-crypt, $5$/$6$ SHA-crypt, {SHA}, {SSHA} with node's crypto; bcrypt with bcryptjs copied beside the server.
// --index-fallback: a path that matches no file serves its mount's index.html (single-page apps).
import { createHash, timingSafeEqual } from 'node:crypto';
import { constants, readFileSync } from 'node:fs';
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
const HIDDEN_NAMES = new Set(['hop3.toml', 'hop3.nix', 'Procfile', 'BUILD_ARTIFACT.json', 'static-server.mjs', 'Staticfile', 'Staticfile.auth']);
/** hop3 reads an app's config from hop3/ at its root. */
const HIDDEN_ROOT_DIRS = new Set(['hop3']);
const MAX_URL_LENGTH = 4096;
const ASSET_MAX_AGE = 3600;

const options = process.argv.slice(2).filter((arg) => arg.startsWith('--'));
const authFile = options.find((arg) => arg.startsWith('--auth-file='))?.slice('--auth-file='.length);
const indexFallback = options.includes('--index-fallback');
const mounts = process.argv.slice(2).filter((arg) => !arg.startsWith('--')).map((arg) => {
  const eq = arg.indexOf('=');
  const [prefix, dir] = eq > 0 && arg.startsWith('/') ? [arg.slice(0, eq), arg.slice(eq + 1)] : ['/', arg];
  return { prefix: prefix.split('/').filter(Boolean), dir: path.resolve(dir) };
}).sort((a, b) => b.prefix.length - a.prefix.length);
if (mounts.length === 0) mounts.push({ prefix: [], dir: process.cwd() });

// ---- basic auth (htpasswd) ----

const CRYPT64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const digest = (algorithm, ...parts) => { const hash = createHash(algorithm); for (const part of parts) hash.update(part); return hash.digest(); };

/** crypt(3)'s base-64: `count` characters of the 24-bit value `a b c`, low bits first. */
function crypt64(a, b, c, count) {
  let value = (a << 16) | (b << 8) | c;
  let out = '';
  for (let i = 0; i < count; i++, value >>= 6) out += CRYPT64[value & 0x3f];
  return out;
}

/** MD5-crypt, as Apache's apr1 (`$apr1$`) and glibc's `$1$`: 1000 rounds of MD5 (Poul-Henning Kamp's algorithm). */
function md5Crypt(password, magic, saltText) {
  const salt = Buffer.from(saltText.slice(0, 8));
  const alternate = digest('md5', password, salt, password);
  const first = createHash('md5').update(password).update(magic).update(salt);
  for (let left = password.length; left > 0; left -= 16) first.update(alternate.subarray(0, Math.min(left, 16)));
  for (let bits = password.length; bits > 0; bits >>= 1) first.update(bits & 1 ? Buffer.alloc(1) : password.subarray(0, 1));
  let result = first.digest();
  for (let round = 0; round < 1000; round++) {
    const next = createHash('md5').update(round & 1 ? password : result);
    if (round % 3) next.update(salt);
    if (round % 7) next.update(password);
    result = next.update(round & 1 ? result : password).digest();
  }
  const r = result;
  const encoded = crypt64(r[0], r[6], r[12], 4) + crypt64(r[1], r[7], r[13], 4) + crypt64(r[2], r[8], r[14], 4) + crypt64(r[3], r[9], r[15], 4) + crypt64(r[4], r[10], r[5], 4) + crypt64(0, 0, r[11], 2);
  return `${magic}${saltText.slice(0, 8)}$${encoded}`;
}

/** Byte order of SHA-crypt's encoding (Drepper's spec): triples of the digest, then the bytes left over. */
const SHA_CRYPT = {
  5: { algorithm: 'sha256', order: [[0, 10, 20], [21, 1, 11], [12, 22, 2], [3, 13, 23], [24, 4, 14], [15, 25, 5], [6, 16, 26], [27, 7, 17], [18, 28, 8], [9, 19, 29]], last: (r) => crypt64(0, r[31], r[30], 3) },
  6: { algorithm: 'sha512', order: [[0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48], [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13], [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41]], last: (r) => crypt64(0, 0, r[63], 2) },
};

/** `len` bytes of `block` repeated. */
const repeatTo = (block, len) => Buffer.concat(Array.from({ length: Math.ceil(len / block.length) || 0 }, () => block)).subarray(0, len);

/** SHA-256/512-crypt (`$5$`, `$6$`), as glibc, mkpasswd and `openssl passwd -5/-6` write them. */
function shaCrypt(password, stored) {
  const match = /^\$([56])\$(?:rounds=(\d+)\$)?([^$]{0,16})/.exec(stored);
  if (!match) return undefined;
  const { algorithm, order, last } = SHA_CRYPT[match[1]];
  const rounds = match[2] === undefined ? 5000 : Math.min(Math.max(Number(match[2]), 1000), 999_999_999);
  const salt = Buffer.from(match[3]);
  const size = algorithm === 'sha256' ? 32 : 64;
  const alternate = digest(algorithm, password, salt, password);
  const first = createHash(algorithm).update(password).update(salt).update(repeatTo(alternate, password.length));
  for (let bits = password.length; bits > 0; bits >>= 1) first.update(bits & 1 ? alternate : password);
  let result = first.digest();
  const p = repeatTo(digest(algorithm, ...Array(password.length).fill(password)), password.length);
  const s = repeatTo(digest(algorithm, ...Array(16 + result[0]).fill(salt)), salt.length);
  for (let round = 0; round < rounds; round++) {
    const next = createHash(algorithm).update(round & 1 ? p : result);
    if (round % 3) next.update(s);
    if (round % 7) next.update(p);
    result = next.update(round & 1 ? result : p).digest();
  }
  if (result.length !== size) return undefined;
  const encoded = order.map(([a, b, c]) => crypt64(result[a], result[b], result[c], 4)).join('') + last(result);
  return `$${match[1]}$${match[2] === undefined ? '' : `rounds=${rounds}$`}${match[3]}$${encoded}`;
}

/** What `password` hashes to in the format (and with the salt) of `stored`; undefined for a format it does not know. */
function hashLike(stored, password) {
  if (stored.startsWith('{SHA}')) return `{SHA}${digest('sha1', password).toString('base64')}`;
  if (stored.startsWith('{SSHA}')) {
    const salt = Buffer.from(stored.slice(6), 'base64').subarray(20);
    return `{SSHA}${Buffer.concat([digest('sha1', password, salt), salt]).toString('base64')}`;
  }
  const md5 = /^(\$apr1\$|\$1\$)([^$]*)\$/.exec(stored);
  if (md5) return md5Crypt(password, md5[1], md5[2]);
  return shaCrypt(password, stored);
}

const sameText = (a, b) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
const BCRYPT = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;

/** bcryptjs, copied beside the server by the build (in hop3's own tree, its node_modules); undefined when neither loads. */
async function loadBcrypt() {
  for (const specifier of [new URL('./bcrypt.mjs', import.meta.url).href, 'bcryptjs']) {
    try {
      return (await import(specifier)).default;
    } catch {
      // try the next place
    }
  }
  return undefined;
}

/** `password` (bytes) against one htpasswd hash; false for a format this server cannot verify. */
async function passwordMatches(stored, password) {
  if (BCRYPT.test(stored)) return bcrypt !== undefined && (await bcrypt.compare(password.toString('utf8'), stored));
  const computed = hashLike(stored, password);
  return computed !== undefined && sameText(computed, stored);
}

/** user -> hash from htpasswd lines; read once at start (a build is immutable), so a missing file stops the server. */
function readUsers(file) {
  const users = new Map();
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    console.error(`static server: cannot read the auth file: ${error.message}; not serving the site without it`);
    process.exit(1);
  }
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const colon = line.indexOf(':');
    if (line === '' || line.startsWith('#') || colon <= 0) continue;
    const hash = line.slice(colon + 1);
    if (!BCRYPT.test(hash) && hashLike(hash, Buffer.from('')) === undefined) console.error(`static server: ${file}: the hash of user ${JSON.stringify(line.slice(0, colon))} is in a format this server does not know; that user cannot sign in`);
    users.set(line.slice(0, colon), hash);
  }
  return users;
}

const users = authFile === undefined ? undefined : readUsers(authFile);
// bcrypt is the one format node's crypto cannot verify: loaded only when a user has such a hash.
const bcrypt = users && [...users.values()].some((hash) => BCRYPT.test(hash)) ? await loadBcrypt() : undefined;
if (users && bcrypt === undefined && [...users.values()].some((hash) => BCRYPT.test(hash))) console.error(`static server: ${authFile}: bcryptjs is not beside the server; users with a bcrypt hash cannot sign in`);
/** Authorization headers already verified: the crypt formats cost milliseconds each, a page loads dozens of files. */
const verified = new Set();
const MAX_VERIFIED = 1000;
/** Compared against for an unknown user, so that the answer takes as long as for a known one. */
const DECOY = '$apr1$hop3hop3$2uZ5Lu9m0f.d5Yu5xB2.y0';

/** The request carries the basic-auth credentials of a user of the auth file. */
async function authorized(req) {
  const header = req.headers.authorization ?? '';
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return false;
  const key = digest('sha256', header).toString('hex');
  if (verified.has(key)) return true;
  const credentials = Buffer.from(match[1], 'base64');
  const colon = credentials.indexOf(':');
  if (colon < 0) return false;
  const user = credentials.subarray(0, colon).toString('utf8');
  const password = credentials.subarray(colon + 1);
  const stored = users.get(user);
  const matches = await passwordMatches(stored ?? DECOY, password);
  if (stored === undefined || !matches) return false;
  if (verified.size >= MAX_VERIFIED) verified.clear();
  verified.add(key);
  return true;
}

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

/** With --index-fallback, the index.html at the root of the mount a missing path falls in; never for a hidden path. */
async function fallbackFile(segments) {
  const mount = mounts.find((m) => m.prefix.every((p, i) => segments[i] === p));
  if (!mount || isHidden(segments.slice(mount.prefix.length))) return undefined;
  return openFile([...mount.prefix, 'index.html']);
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
  const body = status === 404 ? 'not found\n' : status === 400 ? 'bad request\n' : status === 401 ? 'authentication required\n' : '';
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

async function respond(req, res) {
  if (users && !(await authorized(req))) return sendStatus(res, 401, { 'www-authenticate': 'Basic realm="Restricted", charset="UTF-8"' });
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendStatus(res, 405, { allow: 'GET, HEAD' });
  const segments = segmentsOf(req.url ?? '');
  const found = (await openFile(segments)) ?? (indexFallback ? await fallbackFile(segments) : undefined);
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
