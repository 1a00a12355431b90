import { describe, expect, it } from 'vitest';
import { parseAppSettings } from '../../src/config/app-settings.js';

describe('hop3.toml', () => {
  it('reads Hop3 keys: commands as string or list, env values stringified, computed env', () => {
    const settings = parseAppSettings(`
[metadata]
id = "demo"
[build]
builder = "local"
before-build = "make"
[run]
start = ["./setup", "./serve"]
before-run = "./migrate"
healthcheck-timeout = 5
[run.workers]
worker = "./work"
[env]
PORT_HINT = 8080
DEBUG = false
BASE = "x"
[env.computed]
URL = "http://\${BASE}/"
[healthcheck]
path = "/up"
[docker]
base-image = "hop3/base-runtime:bookworm"
`);
    expect(settings.run.workers).toEqual({ web: './setup && ./serve', worker: './work' });
    expect(settings.run.beforeRun).toEqual(['./migrate']);
    expect(settings.build.beforeBuild).toEqual(['make']);
    expect(settings.build.builder).toEqual({ name: 'local', key: '[build] builder' });
    expect(settings.env).toEqual({ PORT_HINT: '8080', DEBUG: 'false', BASE: 'x', URL: 'http://x/' });
    expect(settings.health).toEqual({ path: '/up', timeout: 5, probe: {} });
    expect(settings.docker.baseImage).toBe('hop3/base-runtime:bookworm');
    expect(settings.about.metadata).toEqual({ id: 'demo' });
    expect(settings.notActedOn).toEqual([]);
  });

  it('reads container limits as bytes and cores', () => {
    const { docker } = parseAppSettings('[docker]\nmemory = "96m"\ncpus = 0.5\n');
    expect([docker.memoryBytes, docker.cpus]).toEqual([96 * 1024 ** 2, 0.5]);
    expect(parseAppSettings('[docker]\nmemory = "1.5g"\n').docker.memoryBytes).toBe(1.5 * 1024 ** 3);
    expect(() => parseAppSettings('[docker]\nmemory = "lots"\n', 'hop3.toml')).toThrow(/docker.memory: a size such as "512m"/);
  });

  it('names the key and type of a wrong value', () => {
    expect(() => parseAppSettings('[run]\nhealthcheck-timeout = "soon"\n', 'hop3.toml')).toThrow(/hop3.toml: run.healthcheck-timeout: .*number/);
  });

  it('reports unknown keys and sections instead of ignoring them', () => {
    expect(() => parseAppSettings('[run]\nbefore_run = "x"\n')).toThrow(/before_run/);
    expect(() => parseAppSettings('[deploy]\nx = 1\n')).toThrow(/deploy/);
  });

  it('gives the line of a syntax error', () => {
    expect(() => parseAppSettings('[run]\nstart = \n', 'app/hop3.toml')).toThrow(/app\/hop3.toml:2/);
  });
});
