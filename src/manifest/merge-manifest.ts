import path from 'node:path';
import { DEFAULT_HEALTHCHECK_TIMEOUT, type RuntimeConfig } from '../artifact/schema.js';
import type { AppConfig } from '../config/app-config.js';
import { WORKER_VARIABLES, type AppSettings } from '../config/app-settings.js';
import { referencesOf } from '../config/env-references.js';
import { isWebWorker, procfileWarnings } from '../config/procfile.js';
import type { RuntimeDefaults } from './runtime-defaults.js';

/** Where a runtime value came from, lowest precedence first. */
export type ValueSource = 'default' | 'toolchain' | 'Procfile' | 'hop3.toml';

export interface Provenance {
  source: ValueSource;
  /** The file, when the value came from one (e.g. `hop3/hop3.toml`, `Procfile:3`). */
  file?: string;
}

export interface Manifest {
  runtime: RuntimeConfig;
  /** Field path (`workers.web`, `env_vars.DEBUG`, `scheduled.cron`, `healthcheck_path`) -> origin. */
  provenance: Record<string, Provenance>;
  warnings: string[];
}

export interface ManifestInput {
  config: AppConfig;
  defaults: RuntimeDefaults;
  /** Where the app runs; relative static paths are resolved against it. */
  workingDir: string;
  /** The toolchain's translation of worker conventions (Hop3's `wsgi: module:callable`) into commands. */
  adaptWorker?: (name: string, command: string) => string | undefined;
}

/**
 * One layer of values with their origin. Layers are applied in precedence order,
 * hop3.toml > Procfile > toolchain defaults, field by field (and key by key for maps).
 */
interface Layer {
  origin: Provenance;
  workers?: Record<string, string>;
  env_vars?: Record<string, string>;
  before_run?: string[];
  release?: string[];
  scheduled?: Record<string, { schedule: string; command: string }>;
  static_paths?: Record<string, string>;
  healthcheck_path?: string;
  healthcheck_timeout?: number;
}

export function mergeManifest({ config, defaults, workingDir, adaptWorker }: ManifestInput): Manifest {
  const warnings: string[] = [];
  const layers: Layer[] = [toolchainLayer(defaults)];
  if (config.procfile) layers.push(procfileLayer(config, warnings));
  if (config.settings.file) layers.push(tomlLayer(config.settings));

  const provenance: Record<string, Provenance> = {};
  const scheduled: NonNullable<RuntimeConfig['scheduled']> = {};
  const runtime: RuntimeConfig = {
    env_vars: {},
    path_prepend: [...defaults.path_prepend],
    working_dir: workingDir,
    workers: {},
    before_run: [],
    release: [],
    scheduled,
    static_paths: {},
    healthcheck_path: '',
    healthcheck_timeout: DEFAULT_HEALTHCHECK_TIMEOUT,
  };
  provenance.path_prepend = { source: 'toolchain' };
  provenance.working_dir = { source: 'toolchain' };
  provenance.before_run = { source: 'default' };
  provenance.release = { source: 'default' };
  provenance.healthcheck_path = { source: 'default' };
  provenance.healthcheck_timeout = { source: 'default' };

  for (const layer of layers) {
    for (const field of ['workers', 'env_vars', 'static_paths'] as const) {
      for (const [key, value] of Object.entries(layer[field] ?? {})) {
        runtime[field][key] = field === 'static_paths' ? path.posix.resolve(workingDir, value) : value;
        provenance[`${field}.${key}`] = layer.origin;
      }
    }
    // One name is a worker or a scheduled job: the higher layer's kind wins (a [run.workers] cron beats a Procfile cron job).
    for (const [name, job] of Object.entries(layer.scheduled ?? {})) {
      scheduled[name] = { ...job };
      provenance[`scheduled.${name}`] = layer.origin;
      delete runtime.workers[name];
      delete provenance[`workers.${name}`];
    }
    for (const name of Object.keys(layer.workers ?? {})) {
      if (layer.scheduled?.[name] !== undefined || scheduled[name] === undefined) continue;
      delete scheduled[name];
      delete provenance[`scheduled.${name}`];
    }
    if (layer.release !== undefined) {
      runtime.release = layer.release;
      provenance.release = layer.origin;
    }
    if (layer.before_run !== undefined) {
      runtime.before_run = layer.before_run;
      provenance.before_run = layer.origin;
    }
    if (layer.healthcheck_path !== undefined) {
      // `health` and `/health` mean the same path (as they always did); the artifact records the absolute form.
      runtime.healthcheck_path = layer.healthcheck_path && !layer.healthcheck_path.startsWith('/') ? `/${layer.healthcheck_path}` : layer.healthcheck_path;
      provenance.healthcheck_path = layer.origin;
    }
    if (layer.healthcheck_timeout !== undefined) {
      runtime.healthcheck_timeout = layer.healthcheck_timeout;
      provenance.healthcheck_timeout = layer.origin;
    }
  }
  dropDefaultWebWorker(runtime, provenance);
  warnings.push(...unresolvedReferences(runtime.env_vars, config.settings));
  if (Object.keys(runtime.workers).length === 0 && Object.keys(scheduled).length === 0) warnings.push('no worker is defined (no Procfile, no [run] start, no toolchain default): there is nothing to run.');
  for (const [name, command] of Object.entries(runtime.workers)) runtime.workers[name] = adaptWorker?.(name, command) ?? command;
  return { runtime, provenance, warnings };
}

/**
 * References in env values that no worker will have (env-references.ts leaves them as written at run time):
 * said at build, once, rather than at every deploy.
 */
function unresolvedReferences(env: Readonly<Record<string, string>>, settings: AppSettings): string[] {
  const known = new Set([...Object.keys(env), ...Object.keys(settings.generatedEnv), ...WORKER_VARIABLES]);
  return Object.entries(env).flatMap(([name, value]) => {
    const unknown = referencesOf(value).filter((ref) => !known.has(ref));
    return unknown.length === 0 ? [] : [`env var ${name} refers to ${unknown.map((ref) => `$${ref}`).join(', ')}, which no worker has: left as written when it runs (define it in [env], or write it without "$").`];
  });
}

/** The toolchain's guess at `web` yields to a web-facing worker the app names itself (e.g. a Procfile `wsgi:`). */
function dropDefaultWebWorker(runtime: RuntimeConfig, provenance: Record<string, Provenance>): void {
  if (provenance['workers.web']?.source !== 'toolchain') return;
  const named = Object.keys(runtime.workers).some((name) => name !== 'web' && isWebWorker(name) && provenance[`workers.${name}`]?.source !== 'toolchain');
  if (!named) return;
  delete runtime.workers.web;
  delete provenance['workers.web'];
}

function toolchainLayer(defaults: RuntimeDefaults): Layer {
  return {
    origin: { source: 'toolchain' },
    workers: defaults.workers,
    env_vars: defaults.env_vars,
    static_paths: defaults.static_paths,
    ...(defaults.healthcheck_path ? { healthcheck_path: defaults.healthcheck_path } : {}),
  };
}

function procfileLayer(config: AppConfig, warnings: string[]): Layer {
  const { file, parsed } = config.procfile!;
  warnings.push(...procfileWarnings(parsed, file));
  return {
    origin: { source: 'Procfile', file },
    workers: parsed.workers,
    scheduled: parsed.scheduled,
    ...(parsed.release ? { release: [parsed.release] } : {}),
    ...(parsed.hooks.prerun ? { before_run: [parsed.hooks.prerun] } : {}),
    ...(parsed.staticDir ? { static_paths: { '/': parsed.staticDir } } : {}),
  };
}

function tomlLayer(settings: AppSettings): Layer {
  const { run, health } = settings;
  return {
    origin: { source: 'hop3.toml', ...(settings.file ? { file: settings.file } : {}) },
    workers: run.workers,
    env_vars: settings.env,
    ...(run.beforeRun ? { before_run: run.beforeRun } : {}),
    ...(settings.static ? { static_paths: settings.static.mounts } : {}),
    ...(health.path !== undefined ? { healthcheck_path: health.path } : {}),
    ...(health.timeout !== undefined ? { healthcheck_timeout: health.timeout } : {}),
  };
}
