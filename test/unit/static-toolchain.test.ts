import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { staticSite } from '../../builders/toolchains/static.js';
import { detectToolchain } from '../../builders/toolchains/registry.js';
import { loadAppConfig } from '../../src/config/app-config.js';

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
});
