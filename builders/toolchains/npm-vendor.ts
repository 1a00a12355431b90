import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import { Hop3Error } from '../../src/errors.js';
import { untrustedCertificate, untrustedCertificateError } from '../../src/config/network-profile.js';
import type { Logger } from '../../src/log/logger.js';
import { runTool } from '../run-tool.js';
import type { NixVendorContext } from './toolchain.js';

/** Where the vendored tarballs go in the nix build's `vendor` argument: an npm cache the template copies to $TMPDIR. */
export const NPM_CACHE_IN_VENDOR = 'npm-cache';

const Lockfile = z.looseObject({
  packages: z.record(z.string(), z.looseObject({ resolved: z.string().optional(), integrity: z.string().optional() })).optional(),
});

/**
 * The registry tarballs of an npm lockfile, fetched on this host before the offline Nix build: `npm ci
 * --ignore-scripts` with the user's npm settings and the build's network profile (CA, proxy, registry tokens)
 * into a throwaway cache, npm checking each tarball against the lockfile's integrity; then only the tarballs'
 * content files (named by their hash, so the vendor dir, hence the store path, is the same for the same lockfile)
 * go into `vendor/npm-cache`, where `npm ci --offline` in the build finds them by integrity.
 */
export async function vendorNpmTarballs(ctx: NixVendorContext): Promise<number> {
  const lockfile = await readLockfile(ctx.sourceDir);
  const integrities = [...new Set(Object.values(lockfile?.packages ?? {}).flatMap((entry) => (entry.integrity && /^https?:\/\//.test(entry.resolved ?? '') ? entry.integrity.split(/\s+/) : [])))];
  if (integrities.length === 0) return 0;
  const cache = await mkdtemp(path.join(ctx.env.TMPDIR || os.tmpdir(), 'hop3-npm-vendor-'));
  try {
    ctx.log.step(`fetching ${integrities.length} registry packages for the offline Nix build (npm ci --ignore-scripts, with your npm and network settings; integrity checked against the lockfile)`);
    await fetchIntoCache(ctx, cache);
    let copied = 0;
    for (const sri of integrities) {
      const from = contentPath(cache, sri);
      if (!from) continue;
      const to = path.join(ctx.vendorDir, NPM_CACHE_IN_VENDOR, path.relative(cache, from));
      await mkdir(path.dirname(to), { recursive: true });
      // Missing: an optional dependency for another platform, which npm skips here and in the build alike.
      if (await copyFile(from, to).then(() => true, () => false)) copied++;
    }
    return copied;
  } finally {
    await rm(cache, { recursive: true, force: true });
    // npm ci also installed into the staged copy; the expression leaves node_modules out, and so does the stage.
    await rm(path.join(ctx.sourceDir, 'node_modules'), { recursive: true, force: true });
  }
}

async function readLockfile(dir: string): Promise<z.infer<typeof Lockfile> | undefined> {
  for (const name of ['npm-shrinkwrap.json', 'package-lock.json']) {
    const text = await readFile(path.join(dir, name), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    try {
      return Lockfile.parse(JSON.parse(text));
    } catch (error) {
      throw new Hop3Error('CONFIG_PACKAGE_JSON_INVALID', `${name} is not a lockfile npm can read: ${(error as Error).message}`, { file: name, hint: `Regenerate it with \`npm install --package-lock-only\`.` });
    }
  }
  return undefined;
}

async function fetchIntoCache(ctx: NixVendorContext, cache: string): Promise<void> {
  const lines: string[] = [];
  const log: Logger = { ...ctx.log, output: (text) => (lines.push(text), ctx.log.output(text)) };
  try {
    await runTool('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--cache', cache], {
      cwd: ctx.sourceDir,
      env: ctx.env,
      log,
      errorCode: 'BUILD_NPM_FAILED',
      hint: 'hop3 fetches the lockfile\'s packages on this host before the offline Nix build, with your npm settings (registry, token, proxy, CA): check them with `hop3 doctor`.',
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
  } catch (error) {
    const tls = error instanceof Hop3Error ? untrustedCertificate(lines.join('\n')) : undefined;
    throw tls ? untrustedCertificateError(tls, 'Fetching npm packages for the nix build', undefined, error as Hop3Error) : error;
  }
}

/** cacache's content file for an SRI hash: `_cacache/content-v2/<algo>/<2 hex>/<2 hex>/<rest>`. */
function contentPath(cache: string, sri: string): string | undefined {
  const match = /^(sha\d+)-([A-Za-z0-9+/=]+)$/.exec(sri);
  if (!match) return undefined;
  const hex = Buffer.from(match[2]!, 'base64').toString('hex');
  return path.join(cache, '_cacache', 'content-v2', match[1]!, hex.slice(0, 2), hex.slice(2, 4), hex.slice(4));
}
