import { describe, expect, it } from 'vitest';
import { envFromToml, parseHop3Toml } from '../../src/config/hop3-toml.js';

describe('hop3.toml', () => {
  it('reads Hop3 keys: commands as string or list, env values stringified, computed env', () => {
    const toml = parseHop3Toml(`
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
    expect(toml.run?.start).toEqual(['./setup', './serve']);
    expect(toml.run?.['before-run']).toEqual(['./migrate']);
    expect(toml.build?.['before-build']).toEqual(['make']);
    expect(envFromToml(toml)).toEqual({ PORT_HINT: '8080', DEBUG: 'false', BASE: 'x', URL: 'http://x/' });
  });

  it('reads container limits as bytes and cores', () => {
    const toml = parseHop3Toml('[docker]\nmemory = "96m"\ncpus = 0.5\n');
    expect(toml.docker).toEqual({ memory: 96 * 1024 ** 2, cpus: 0.5 });
    expect(parseHop3Toml('[docker]\nmemory = "1.5g"\n').docker?.memory).toBe(1.5 * 1024 ** 3);
    expect(() => parseHop3Toml('[docker]\nmemory = "lots"\n', 'hop3.toml')).toThrow(/docker.memory: a size such as "512m"/);
  });

  it('names the key and type of a wrong value', () => {
    expect(() => parseHop3Toml('[run]\nhealthcheck-timeout = "soon"\n', 'hop3.toml')).toThrow(/hop3.toml: run.healthcheck-timeout: .*number/);
  });

  it('reports unknown keys and sections instead of ignoring them', () => {
    expect(() => parseHop3Toml('[run]\nbefore_run = "x"\n')).toThrow(/before_run/);
    expect(() => parseHop3Toml('[deploy]\nx = 1\n')).toThrow(/deploy/);
  });

  it('gives the line of a syntax error', () => {
    expect(() => parseHop3Toml('[run]\nstart = \n', 'app/hop3.toml')).toThrow(/app\/hop3.toml:2/);
  });
});
