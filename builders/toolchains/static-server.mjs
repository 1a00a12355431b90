#!/usr/bin/env node
// hop3's built-in static file server: copied into static builds so they run with nothing but node.
// Usage: node static-server.mjs <prefix=dir>... (or a single <dir> served at /). Listens on $BIND_ADDRESS:$PORT.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.htm': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.json': 'application/json',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif',
  '.ico': 'image/x-icon', '.txt': 'text/plain; charset=utf-8', '.wasm': 'application/wasm', '.webp': 'image/webp',
};

const mounts = process.argv.slice(2).map((arg) => {
  const eq = arg.indexOf('=');
  const [prefix, dir] = eq > 0 && arg.startsWith('/') ? [arg.slice(0, eq), arg.slice(eq + 1)] : ['/', arg];
  return { prefix: prefix.endsWith('/') ? prefix : `${prefix}/`, dir: path.resolve(dir) };
}).sort((a, b) => b.prefix.length - a.prefix.length);
if (mounts.length === 0) mounts.push({ prefix: '/', dir: process.cwd() });

async function resolveFile(urlPath) {
  const mount = mounts.find((m) => `${urlPath}/`.startsWith(m.prefix) || urlPath.startsWith(m.prefix));
  if (!mount) return undefined;
  const file = path.resolve(mount.dir, `.${urlPath.slice(mount.prefix.length - 1)}`);
  if (file !== mount.dir && !file.startsWith(mount.dir + path.sep)) return undefined; // no escaping the root
  const info = await stat(file).catch(() => undefined);
  if (info?.isDirectory()) {
    const index = path.join(file, 'index.html');
    const indexInfo = await stat(index).catch(() => undefined);
    return indexInfo?.isFile() ? { file: index, size: indexInfo.size } : undefined;
  }
  return info?.isFile() ? { file, size: info.size } : undefined;
}

const server = http.createServer(async (req, res) => {
  let urlPath;
  try {
    urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  } catch {
    res.writeHead(400).end('bad request\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const found = await resolveFile(urlPath);
  if (!found) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    return;
  }
  res.writeHead(200, { 'content-type': TYPES[path.extname(found.file).toLowerCase()] ?? 'application/octet-stream', 'content-length': found.size });
  if (req.method === 'HEAD') res.end();
  else createReadStream(found.file).pipe(res);
});

const port = Number(process.env.PORT || 8000);
const host = process.env.BIND_ADDRESS || '127.0.0.1';
server.listen(port, host, () => console.log(`static server on http://${host}:${port} serving ${mounts.map((m) => `${m.prefix} -> ${m.dir}`).join(', ')}`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
