import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';

/** Never part of a tree's digest: VCS data, hop3's own files, and what an install or a run writes there. */
const SKIPPED = new Set(['.git', '.hop3', 'node_modules', '.venv', '__pycache__']);
/** Env names that hold credentials, not resolution choices: left out, so no trace of them is saved in a build. */
const CREDENTIAL_NAME = /auth|token|password|passwd|secret|_key$/i;

/**
 * A toolchain's dependency inputs as label -> digest (see DependencyInputs in toolchain.ts): what the build
 * log names when one changed, and nothing the digest came from (env values, file contents) in clear.
 */
export class InputDigests {
  readonly digests: Record<string, string> = {};

  constructor(private readonly appRoot: string) {}

  /** A file or folder by content: relative to the app root (labelled so), or absolute; a missing one is recorded as missing. */
  async content(file: string, label: string = labelOf(file, this.appRoot)): Promise<void> {
    const hash = createHash('sha256');
    await hashTree(hash, path.resolve(this.appRoot, file), '', 'content');
    this.digests[label] = hash.digest('hex');
  }

  /** A folder outside the app (a wheelhouse, a shared cache) by its names, sizes and mtimes: reading every byte of it would cost more than the install. */
  async listing(dir: string, label: string = dir): Promise<void> {
    const hash = createHash('sha256');
    await hashTree(hash, dir, '', 'listing');
    this.digests[label] = hash.digest('hex');
  }

  value(label: string, value: string): void {
    this.digests[label] = createHash('sha256').update(value).digest('hex');
  }

  /** Variables whose names start with one of `prefixes` (any case), e.g. PIP_ or npm_config_; URLs without their user:password. */
  env(env: NodeJS.ProcessEnv, prefixes: readonly string[]): void {
    const wanted = prefixes.map((prefix) => prefix.toLowerCase());
    for (const name of Object.keys(env).sort()) {
      if (!wanted.some((prefix) => name.toLowerCase().startsWith(prefix)) || CREDENTIAL_NAME.test(name)) continue;
      this.value(`env ${name}`, withoutCredentials(env[name] ?? ''));
    }
  }
}

/** `https://user:secret@host/simple` -> `https://host/simple`: who logs in does not change what resolves. */
export function withoutCredentials(value: string): string {
  return value.replace(/(\w+:\/\/)[^/@\s]*@/g, '$1');
}

function labelOf(file: string, appRoot: string): string {
  const rel = path.relative(appRoot, path.resolve(appRoot, file));
  return rel === '' ? './' : rel.startsWith('..') || path.isAbsolute(rel) ? path.resolve(appRoot, file) : rel.split(path.sep).join('/');
}

/** Paths, types, exec bits, link targets, and each file's bytes (content) or size and mtime (listing), in a stable order. */
async function hashTree(hash: Hash, file: string, rel: string, how: 'content' | 'listing'): Promise<void> {
  const info = await lstat(file).catch(() => undefined);
  if (!info) {
    hash.update(`missing\0${rel}\0`);
  } else if (info.isSymbolicLink()) {
    hash.update(`symlink\0${rel}\0${await readlink(file)}\0`);
  } else if (info.isDirectory()) {
    hash.update(`dir\0${rel}\0`);
    for (const name of (await readdir(file)).sort()) {
      if (!SKIPPED.has(name)) await hashTree(hash, path.join(file, name), rel === '' ? name : `${rel}/${name}`, how);
    }
  } else if (info.isFile()) {
    hash.update(`file\0${rel}\0${info.mode & 0o111 ? 'x' : '-'}\0`);
    if (how === 'listing') hash.update(`${info.size}\0${info.mtimeMs}\0`);
    else {
      for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
      hash.update('\0');
    }
  }
}
