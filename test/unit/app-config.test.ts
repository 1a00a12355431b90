import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadAppConfig } from '../../src/config/app-config.js';
import { defaultSettings } from '../../src/config/app-settings.js';

describe('app config lookup', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-config-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('reads hop3/ first, then the app root, as Hop3 does', async () => {
    await mkdir(path.join(dir, 'hop3'));
    await writeFile(path.join(dir, 'Procfile'), 'web: root-procfile\n');
    await writeFile(path.join(dir, 'hop3', 'Procfile'), 'web: hop3-dir-procfile\n');
    await writeFile(path.join(dir, 'hop3.toml'), '[run]\nstart = "root-toml"\n');
    const config = await loadAppConfig(dir);
    expect(config.procfile).toMatchObject({ file: 'hop3/Procfile', parsed: { workers: { web: 'hop3-dir-procfile' } } });
    expect(config.settings).toMatchObject({ file: 'hop3.toml', run: { workers: { web: 'root-toml' } } });
  });

  it('names the file it found invalid, with its path inside the app', async () => {
    await mkdir(path.join(dir, 'hop3'));
    await writeFile(path.join(dir, 'hop3', 'hop3.toml'), '[run]\nstart = 3\n');
    await expect(loadAppConfig(dir)).rejects.toThrow(/^hop3\/hop3\.toml: run\.start/);
  });

  it('has no Procfile and default settings when the app brings neither', async () => {
    expect(await loadAppConfig(dir)).toEqual({ dir, settings: defaultSettings() });
    expect(defaultSettings()).toMatchObject({ file: undefined, run: { workers: {} }, build: { builder: undefined, ignore: [] }, env: {}, notActedOn: [] });
  });
});
