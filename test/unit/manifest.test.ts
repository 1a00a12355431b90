import { describe, expect, it } from 'vitest';
import { emptyDefaults } from '../../src/manifest/runtime-defaults.js';
import type { AppConfig } from '../../src/config/app-config.js';
import { defaultSettings, parseAppSettings } from '../../src/config/app-settings.js';
import { parseProcfile } from '../../src/config/procfile.js';
import { mergeManifest } from '../../src/manifest/merge-manifest.js';

function config(procfile?: string, toml?: string): AppConfig {
  return {
    dir: '/src/app',
    ...(procfile !== undefined ? { procfile: { file: 'Procfile', parsed: parseProcfile(procfile) } } : {}),
    settings: toml !== undefined ? parseAppSettings(toml) : defaultSettings(),
  };
}

const defaults = () => ({
  ...emptyDefaults(),
  workers: { web: 'python app.py', beat: 'python beat.py' },
  env_vars: { PYTHONUNBUFFERED: '1', MODE: 'toolchain' },
  path_prepend: ['/run/app/.venv/bin'],
});

describe('runtime manifest merge', () => {
  it('applies hop3.toml > Procfile > toolchain, key by key, and records where each value came from', () => {
    const manifest = mergeManifest({
      config: config('web: gunicorn app\nworker: rq worker\nprerun: ./migrate-from-procfile', '[run]\nstart = "uvicorn app"\nbefore-run = ["./migrate"]\n[env]\nMODE = "toml"\n'),
      defaults: defaults(),
      workingDir: '/run/app',
    });
    expect(manifest.runtime.workers).toEqual({ web: 'uvicorn app', beat: 'python beat.py', worker: 'rq worker' });
    expect(manifest.provenance['workers.web']).toEqual({ source: 'hop3.toml', file: 'hop3.toml' });
    expect(manifest.provenance['workers.worker']?.source).toBe('Procfile');
    expect(manifest.provenance['workers.beat']?.source).toBe('toolchain');
    expect(manifest.runtime.env_vars).toEqual({ PYTHONUNBUFFERED: '1', MODE: 'toml' });
    expect(manifest.runtime.before_run).toEqual(['./migrate']);
    expect(manifest.provenance.before_run?.source).toBe('hop3.toml');
    expect(manifest.runtime.path_prepend).toEqual(['/run/app/.venv/bin']);
  });

  it('uses the Procfile prerun hook when hop3.toml has no before-run, and [run.workers] beats start', () => {
    const manifest = mergeManifest({
      config: config('web: a\nprerun: ./migrate', '[run]\nstart = "b"\n[run.workers]\nweb = "c"\n'),
      defaults: emptyDefaults(),
      workingDir: '/run/app',
    });
    expect(manifest.runtime.workers.web).toBe('c');
    expect(manifest.runtime.before_run).toEqual(['./migrate']);
    expect(manifest.provenance.before_run?.source).toBe('Procfile');
  });

  it('reads health checks Hop3\'s way and resolves static paths against the working dir', () => {
    const manifest = mergeManifest({
      config: config('static: public', '[run]\nhealthcheck = "/old"\nhealthcheck-timeout = 7\n[healthcheck]\npath = "/new"\n'),
      defaults: emptyDefaults(),
      workingDir: '/run/app',
    });
    expect(manifest.runtime.healthcheck_path).toBe('/new');
    expect(manifest.runtime.healthcheck_timeout).toBe(7);
    expect(manifest.runtime.static_paths).toEqual({ '/': '/run/app/public' });
  });

  it('records a health check path written without "/" in its absolute form', () => {
    const manifest = mergeManifest({ config: config(undefined, '[healthcheck]\npath = "health"\n'), defaults: emptyDefaults(), workingDir: '/run/app' });
    expect(manifest.runtime.healthcheck_path).toBe('/health');
  });

  it('lets a web-facing worker the app names replace the toolchain\'s guessed web worker, then adapts conventions', () => {
    const manifest = mergeManifest({
      config: config('wsgi: app:app\nworker: python work.py'),
      defaults: defaults(),
      workingDir: '/run/app',
      adaptWorker: (name, command) => (name === 'wsgi' ? `serve ${command}` : undefined),
    });
    expect(manifest.runtime.workers).toEqual({ wsgi: 'serve app:app', beat: 'python beat.py', worker: 'python work.py' });
    expect(manifest.provenance['workers.web']).toBeUndefined();
    expect(manifest.provenance['workers.wsgi']?.source).toBe('Procfile');
  });

  it('takes the health check timeout from [healthcheck] timeout, and [run] healthcheck-timeout over it', () => {
    const fromHealthcheck = mergeManifest({ config: config('web: x', '[healthcheck]\ntimeout = 60\n'), defaults: emptyDefaults(), workingDir: '/w' });
    expect(fromHealthcheck.runtime.healthcheck_timeout).toBe(60);
    expect(fromHealthcheck.provenance.healthcheck_timeout).toEqual({ source: 'hop3.toml', file: 'hop3.toml' });
    const both = mergeManifest({ config: config('web: x', '[run]\nhealthcheck-timeout = 9\n[healthcheck]\ntimeout = 60\n'), defaults: emptyDefaults(), workingDir: '/w' });
    expect(both.runtime.healthcheck_timeout).toBe(9);
  });

  it('defaults the health check timeout to 30 s', () => {
    const manifest = mergeManifest({ config: config('web: x'), defaults: emptyDefaults(), workingDir: '/w' });
    expect(manifest.runtime.healthcheck_timeout).toBe(30);
    expect(manifest.provenance.healthcheck_timeout?.source).toBe('default');
    expect(manifest.warnings).toEqual([]);
  });

  it('carries release and scheduled jobs into the runtime, apart from workers, with their origin', () => {
    const manifest = mergeManifest({ config: config('web: x\nrelease: ./migrate\nprerun: ./prep\ncron: */5 * * * * echo hi'), defaults: emptyDefaults(), workingDir: '/w' });
    expect(manifest.runtime.release).toEqual(['./migrate']);
    expect(manifest.runtime.before_run).toEqual(['./prep']);
    expect(manifest.runtime.scheduled).toEqual({ cron: { schedule: '*/5 * * * *', command: 'echo hi' } });
    expect(manifest.runtime.workers).toEqual({ web: 'x' });
    expect(manifest.provenance['scheduled.cron']?.source).toBe('Procfile');
    expect(manifest.provenance.release?.source).toBe('Procfile');
    expect(manifest.warnings).toEqual([]);
    const none = mergeManifest({ config: config('web: x'), defaults: emptyDefaults(), workingDir: '/w' });
    expect(none.runtime.release).toEqual([]);
    expect(none.runtime.scheduled).toEqual({});
  });

  it('makes a cron line without a schedule an ordinary worker, with a warning, and lets [run.workers] replace a scheduled job', () => {
    const plain = mergeManifest({ config: config('web: x\ncron: python3 x.py'), defaults: emptyDefaults(), workingDir: '/w' });
    expect(plain.runtime.workers).toEqual({ web: 'x', cron: 'python3 x.py' });
    expect(plain.runtime.scheduled).toEqual({});
    expect(plain.warnings).toEqual([expect.stringMatching(/^Procfile:2: `cron:` has no schedule/)]);
    const replaced = mergeManifest({ config: config('web: x\ncron: * * * * * a', '[run.workers]\ncron = "b"\n'), defaults: emptyDefaults(), workingDir: '/w' });
    expect(replaced.runtime.workers.cron).toBe('b');
    expect(replaced.runtime.scheduled).toEqual({});
    expect(replaced.provenance['scheduled.cron']).toBeUndefined();
  });

  it('warns at build about env references no worker will have ($PORT, generated and [env] names are known)', () => {
    const toml = '[env]\nNITRO_PORT = "$PORT"\nURL = "http://${HOST}:${NITRO_PORT}/?key=$SECRET"\nPASSWORD = "pa$word"\nSECRET = { generate = "hex" }\n';
    const manifest = mergeManifest({ config: config('web: x', toml), defaults: emptyDefaults(), workingDir: '/w' });
    expect(manifest.runtime.env_vars).toEqual({ NITRO_PORT: '$PORT', URL: 'http://${HOST}:${NITRO_PORT}/?key=$SECRET', PASSWORD: 'pa$word' });
    expect(manifest.warnings).toEqual([
      'env var URL refers to $HOST, which no worker has: left as written when it runs (define it in [env], or write it without "$").',
      'env var PASSWORD refers to $word, which no worker has: left as written when it runs (define it in [env], or write it without "$").',
    ]);
  });
});
