import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { staticSite } from '../../builders/toolchains/static.js';
import { detectToolchain } from '../../builders/toolchains/registry.js';
import { loadAppConfig } from '../../src/config/app-config.js';
import { parseStaticfile } from '../../src/config/staticfile.js';
import type { Hop3Error } from '../../src/errors.js';

describe('static toolchain: which folder it serves', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-static-tc-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function site(files: Record<string, string>) {
    for (const [file, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), text);
    }
    return loadAppConfig(dir);
  }
  const served = async (files: Record<string, string>) => (await staticSite.defaults(await site(files), { appRoot: '/app' })).static_paths;

  it('serves the first of public, dist, build, _site, out that has an index.html', async () => {
    const config = await site({ 'index.html': 'root', 'public/robots.txt': '', 'dist/index.html': 'd', 'build/index.html': 'b' });
    const defaults = await staticSite.defaults(config, { appRoot: '/app' });
    expect(defaults.static_paths).toEqual({ '/': '/app/dist' });
    expect(defaults.workers.web).toBe('node /app/.hop3/static-server.mjs /=/app/dist');
    expect(await staticSite.describe!(config)).toMatch(/^static: serving dist\/ at \/ \(dist\/index\.html found\); never served: dotfiles, hop3\.toml/);
  });

  it('serves the app root when there is no such folder, and says what it hides', async () => {
    const config = await site({ 'index.html': 'root', 'public/robots.txt': '' });
    expect((await staticSite.defaults(config, { appRoot: '/app' })).static_paths).toEqual({ '/': '/app' });
    const line = await staticSite.describe!(config);
    expect(line).toContain('serving the app root at / (no public, dist, build, _site, out folder with an index.html)');
    for (const hidden of ['dotfiles', 'hop3.toml', 'Procfile', 'BUILD_ARTIFACT.json', 'hop3/']) expect(line).toContain(hidden);
  });

  it('lets [build] static-dir, a Procfile static: line and [static] choose over the default', async () => {
    const built = { 'index.html': 'root', 'dist/index.html': 'd', 'docs/index.html': 'x' };
    expect(await served({ ...built, 'hop3.toml': '[build]\nstatic-dir = "docs"\n' })).toEqual({ '/': '/app/docs' });
    expect(await served({ ...built, 'hop3.toml': '[build]\nstatic-dir = "."\n' })).toEqual({ '/': '/app' });
    expect(await served({ ...built, Procfile: 'static: docs\n' })).toEqual({ '/': '/app/docs' });
    expect(await served({ ...built, 'hop3.toml': '[static]\n"/" = "docs"\n"/assets" = "dist"\n' })).toEqual({ '/': '/app/docs', '/assets': '/app/dist' });
  });

  it('detects a bare built site, but leaves one with a Procfile to the generic toolchain', async () => {
    expect(await detectToolchain(await site({ '_site/index.html': 'x' }))).toMatchObject({ toolchain: { name: 'static' }, reason: '_site/index.html found' });
    expect((await detectToolchain(await site({ Procfile: 'web: python3 -m http.server' }))).toolchain.name).toBe('generic');
  });

  it('lets a Staticfile make the app static, even beside a package.json, and serve its root: (else the app root)', async () => {
    const detection = await detectToolchain(await site({ Staticfile: 'root: public\n', 'package.json': '{}', 'public/index.html': 'x' }));
    expect(detection).toMatchObject({ toolchain: { name: 'static' }, reason: 'Staticfile found' });
    expect(await served({ Staticfile: 'root: public/\n', 'public/index.html': 'x' })).toEqual({ '/': '/app/public' });
    // Without root:, Cloud Foundry serves the app root, not a guessed dist/.
    expect(await served({ Staticfile: '', 'dist/index.html': 'x' })).toEqual({ '/': '/app' });
    // hop3's own keys stay above it.
    expect(await served({ Staticfile: 'root: public\n', 'hop3.toml': '[build]\nstatic-dir = "docs"\n' })).toEqual({ '/': '/app/docs' });
  });

  it('passes Staticfile.auth and index_fallback to the server, records them for the router, and checks health below 500 behind auth', async () => {
    const config = await site({ Staticfile: 'root: public\nindex_fallback: true\n', 'Staticfile.auth': '# team\nalice:{SHA}MU9iT6p7K3XOiuZY4WELppBoqyw=\n', 'public/index.html': 'x' });
    const defaults = await staticSite.defaults(config, { appRoot: '/app' });
    expect(defaults.workers.web).toBe('node /app/.hop3/static-server.mjs --auth-file=/app/Staticfile.auth --index-fallback /=/app/public');
    expect(defaults.healthcheck_path).toBeUndefined();
    expect(await staticSite.artifactMetadata!(config)).toEqual({ static_rules: ['basic-auth (Staticfile.auth)', 'index-fallback'] });
    expect(await staticSite.describe!(config)).toContain('with basic-auth (Staticfile.auth), index-fallback, the router leaves every path to the server');

    // A Staticfile.auth protects a site detected otherwise too; without rules, nothing is recorded.
    const bare = await site({ 'index.html': 'x', 'Staticfile.auth': 'bob:$apr1$r31uDfRh$NqQgIRXy/NoMIk2gGiOy/0\ncarl:$2y$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a\n' });
    expect((await staticSite.defaults(bare, { appRoot: '/app' })).workers.web).toContain('--auth-file=/app/Staticfile.auth');
    for (const file of ['Staticfile', 'Staticfile.auth']) await rm(path.join(dir, file));
    const open = await loadAppConfig(dir);
    expect(await staticSite.artifactMetadata!(open)).toEqual({});
    expect((await staticSite.defaults(open, { appRoot: '/app' })).healthcheck_path).toBe('/');
  });

  it.each([
    ['a truncated bcrypt hash', 'alice:$2y$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0\n', /Staticfile\.auth:1: the hash of user "alice" is not a hash format hop3 knows/],
    ['a DES crypt hash', '# x\nalice:abJnggxhB/yWI\n', /Staticfile\.auth:2: the hash of user "alice" is a DES crypt hash/],
    ['a plain password', 'alice:wonderland\n', /not a hash format hop3 knows \(or a plain password\)/],
    ['a line without user', ':{SHA}MU9iT6p7K3XOiuZY4WELppBoqyw=\n', /Staticfile\.auth:1: expected `user:hash`/],
    ['no user at all', '# nobody yet\n\n', /has no `user:hash` line: nobody could sign in/],
  ])('refuses a Staticfile.auth with %s at build, naming the line but never the password', async (_what, text, message) => {
    const config = await site({ 'index.html': 'x', 'Staticfile.auth': text });
    const error = (await staticSite.defaults(config, { appRoot: '/app' }).catch((e: unknown) => e)) as Hop3Error;
    expect(error).toMatchObject({ code: 'CONFIG_STATICFILE_AUTH_INVALID', file: 'Staticfile.auth' });
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('wonderland');
    expect(error.hint).toMatch(/htpasswd/);
  });
});

describe('Staticfile', () => {
  it('reads root, index_fallback (and Cloud Foundry\'s pushstate), comments, quotes, and lists the keys hop3 does not act on', () => {
    expect(parseStaticfile('# site\nroot: "dist"  # built by vite\nindex_fallback: true\ngzip: on\nstatus_codes:\n  404: /404.html\nssi: enabled\n')).toEqual({
      root: 'dist',
      indexFallback: true,
      notActedOn: ['gzip', 'status_codes', 'ssi'],
    });
    expect(parseStaticfile('pushstate: enabled\n').indexFallback).toBe(true);
    expect(parseStaticfile('---\nindex_fallback: false\nroot: ./site/\n')).toEqual({ root: 'site', indexFallback: false, notActedOn: [] });
    expect(parseStaticfile('')).toEqual({ indexFallback: false, notActedOn: [] });
  });

  it.each([
    ['root: ../outside', /Staticfile:1: root is a folder inside the app/],
    ['root: /srv/www', /Staticfile:1: root is a folder inside the app/],
    ['root:', /Staticfile:1: root is empty/],
    ['index_fallback: maybe', /Staticfile:1: index_fallback is true or false/],
    ['# ok\njust some words', /Staticfile:2: expected `key: value`/],
  ])('refuses %j with CONFIG_STATICFILE_INVALID naming the line', (text, message) => {
    expect(() => parseStaticfile(text)).toThrow(message);
    expect(() => parseStaticfile(text)).toThrow(expect.objectContaining({ code: 'CONFIG_STATICFILE_INVALID', file: 'Staticfile' }));
  });
});
