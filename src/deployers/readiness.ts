import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Artifact } from '../artifact/artifact-file.js';
import { Hop3Error } from '../errors.js';
import type { DeployOptions } from './deployer.js';
import { webWorkerName } from './worker-env.js';

/** A readiness strategy, shared by every deployer: `check` resolves true once ready. */
export interface ReadinessProbe {
  readonly description: string;
  check(): Promise<boolean>;
}

/**
 * The status of a GET, or undefined when nothing answers within 2 s. The timer is a plain (ref'd)
 * one, unlike AbortSignal.timeout: a request left pending by a silent peer (docker-proxy before
 * the app listens) holds no handle, and the process would exit mid-wait with code 13.
 */
async function statusOf(url: string): Promise<number | undefined> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 2000);
  try {
    const response = await fetch(url, { signal: controller.signal, redirect: 'manual' });
    await response.body?.cancel();
    return response.status;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/** Ready when GET answers 2xx. */
export function forHttp(url: string): ReadinessProbe {
  return {
    description: `GET ${url} answers 2xx`,
    async check() {
      const status = await statusOf(url);
      return status !== undefined && status >= 200 && status < 300;
    },
  };
}

/**
 * Ready when anything answers HTTP, whatever the status. For a published container port, where
 * docker-proxy accepts the TCP connection before the app listens, so `forPort` proves nothing.
 */
export function forHttpAnswer(url: string): ReadinessProbe {
  return {
    description: `${url} answers HTTP`,
    async check() {
      return (await statusOf(url)) !== undefined;
    },
  };
}

/** Ready when the port accepts a TCP connection (web workers without a healthcheck_path). */
export function forPort(host: string, port: number): ReadinessProbe {
  return {
    description: `${host}:${port} accepts connections`,
    check: () =>
      new Promise((resolve) => {
        const socket = net.connect({ host, port });
        const done = (ok: boolean) => {
          socket.destroy();
          resolve(ok);
        };
        socket.once('connect', () => done(true));
        socket.once('error', () => done(false));
        socket.setTimeout(2000, () => done(false));
      }),
  };
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Returns a reason when what we wait for has died, so we fail fast instead of waiting out the timeout. */
  failed?: () => Promise<string | undefined>;
  signal?: AbortSignal;
}

/** Poll until the probe passes; throws DEPLOY_NOT_HEALTHY (timedOut) or DEPLOY_WORKER_EXITED. */
export async function waitUntilReady(probe: ReadinessProbe, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    options.signal?.throwIfAborted();
    if (await probe.check()) return;
    const failure = await options.failed?.();
    if (failure) {
      throw new Hop3Error('DEPLOY_WORKER_EXITED', `${failure} before it was ready (waiting for ${probe.description}).`, {
        hint: 'Check the worker command and the log tail below.',
      });
    }
    if (Date.now() >= deadline) {
      throw new Hop3Error('DEPLOY_NOT_HEALTHY', `Not healthy after ${Math.round(options.timeoutMs / 1000)} s: waiting for ${probe.description}.`, {
        timedOut: true,
        hint: 'Make sure the app listens on $PORT (127.0.0.1 or $BIND_ADDRESS) and answers the health check path; raise [run] healthcheck-timeout if it starts slowly.',
      });
    }
    await sleep(options.intervalMs ?? 250);
  }
}

/** How long workers must stay up to count as started when there is no web worker to probe. */
const SETTLE_MS = 1000;

export interface WorkerChecks {
  /** A reason when a started worker has died, so the wait fails fast. */
  failed: () => Promise<string | undefined>;
  /** The probe for a web worker without healthcheck_path (what "listening" means for this deployer). */
  listening: (url: string) => ReadinessProbe;
}

/**
 * Every deployer's readiness rule: the web worker passes its health check (or `listening`) within
 * healthcheck_timeout; without a web worker, every worker is still up after a moment.
 * Returns the app's URL, or null when it has no web worker.
 */
export async function waitForWorkers(artifact: Artifact, options: DeployOptions, checks: WorkerChecks): Promise<string | null> {
  if (!webWorkerName(artifact)) {
    await sleep(SETTLE_MS, undefined, options.signal ? { signal: options.signal } : {});
    const failure = await checks.failed();
    if (failure) throw new Hop3Error('DEPLOY_WORKER_EXITED', `${failure} right after starting.`, { hint: 'Check the worker command and the log tail below.' });
    return null;
  }
  const url = `http://127.0.0.1:${options.port}`;
  const { healthcheck_path: healthPath, healthcheck_timeout: timeout } = artifact.runtime;
  const probe = healthPath ? forHttp(`${url}${healthPath.startsWith('/') ? '' : '/'}${healthPath}`) : checks.listening(`${url}/`);
  options.log.step(`waiting up to ${timeout} s until ${probe.description}`);
  await waitUntilReady(probe, { timeoutMs: timeout * 1000, failed: checks.failed, ...(options.signal ? { signal: options.signal } : {}) });
  return `${url}/`;
}
