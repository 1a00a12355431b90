import { setTimeout as sleep } from 'node:timers/promises';
import type { Artifact } from '../artifact/artifact-file.js';
import { Hop3Error } from '../errors.js';
import type { DeployOptions } from './deployer.js';
import { healthProbe, startTimeout } from './release-policy.js';
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
async function responseOf(url: string, withBody: boolean): Promise<{ status: number; body: string } | undefined> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 2000);
  try {
    const response = await fetch(url, { signal: controller.signal, redirect: 'manual' });
    const body = withBody ? await response.text() : (await response.body?.cancel(), '');
    return { status: response.status, body };
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

const statusOf = async (url: string) => (await responseOf(url, false))?.status;

/** Ready when GET answers 2xx (and its body contains `contains`, when given). */
export function forHttp(url: string, contains?: string): ReadinessProbe {
  return {
    description: `GET ${url} answers 2xx${contains ? ` containing ${JSON.stringify(contains)}` : ''}`,
    async check() {
      const response = await responseOf(url, contains !== undefined);
      return response !== undefined && response.status >= 200 && response.status < 300 && (contains === undefined || response.body.includes(contains));
    },
  };
}

/**
 * Ready when GET answers below 500: the app is serving, whatever it says at that path. A port that
 * merely accepts connections proves nothing (an app still compiling, docker-proxy before the app listens).
 */
export function forHttpBelow500(url: string): ReadinessProbe {
  return {
    description: `GET ${url} answers below 500`,
    async check() {
      const status = await statusOf(url);
      return status !== undefined && status < 500;
    },
  };
}

/** Ready as soon as anything answers HTTP at all, whatever the status: the app has started serving. */
export function forAnyAnswer(url: string): ReadinessProbe {
  return {
    description: `GET ${url} answers`,
    async check() {
      return (await statusOf(url)) !== undefined;
    },
  };
}

export interface WaitOptions {
  timeoutMs: number;
  /** The hop3.toml key that sets the timeout, named when it runs out (default: the health check's). */
  timeoutKey?: '[run] start-timeout';
  intervalMs?: number;
  /** Returns a reason when what we wait for has died, so we fail fast instead of waiting out the timeout. */
  failed?: () => Promise<string | undefined>;
  /** Failed checks after which the wait gives up before the timeout (`[healthcheck] retries`). */
  retries?: number;
  signal?: AbortSignal;
}

/** Poll until the probe passes; throws DEPLOY_NOT_HEALTHY (timedOut) or DEPLOY_WORKER_EXITED. */
export async function waitUntilReady(probe: ReadinessProbe, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (let failedChecks = 1; ; failedChecks++) {
    options.signal?.throwIfAborted();
    if (await probe.check()) return;
    if (options.retries !== undefined && failedChecks > options.retries) {
      throw new Hop3Error('DEPLOY_NOT_HEALTHY', `Not healthy after ${failedChecks} checks ([healthcheck] retries = ${options.retries}): waiting for ${probe.description}.`, {
        hint: 'Make sure the app answers the health check; raise [healthcheck] retries or interval if it starts slowly.',
      });
    }
    const failure = await options.failed?.();
    if (failure) {
      throw new Hop3Error('DEPLOY_WORKER_EXITED', `${failure} before it was ready (waiting for ${probe.description}).`, {
        hint: 'Check the worker command and the log tail below.',
      });
    }
    if (Date.now() >= deadline) {
      const seconds = Math.round(options.timeoutMs / 1000);
      throw options.timeoutKey
        ? new Hop3Error('DEPLOY_NOT_HEALTHY', `Not started after ${seconds} s (${options.timeoutKey}): waiting for ${probe.description}.`, {
            timedOut: true,
            hint: `Make sure the app listens on $PORT (127.0.0.1 or $BIND_ADDRESS); raise ${options.timeoutKey} if it needs longer to start.`,
          })
        : new Hop3Error('DEPLOY_NOT_HEALTHY', `Not healthy after ${seconds} s: waiting for ${probe.description}.`, {
            timedOut: true,
            hint: 'Make sure the app listens on $PORT (127.0.0.1 or $BIND_ADDRESS) and answers the health check path; raise [run] healthcheck-timeout if it starts slowly (or set [run] start-timeout for the start alone).',
          });
    }
    // Without a set interval, the first checks come quickly (most apps answer within a few hundred ms), then every 250 ms.
    await sleep(options.intervalMs ?? Math.min(25 * 2 ** (failedChecks - 1), 250));
  }
}

/** How long workers must stay up to count as started when there is no web worker to probe. */
const SETTLE_MS = 1000;

export interface WorkerChecks {
  /** A reason when a started worker has died, so the wait fails fast. */
  failed: () => Promise<string | undefined>;
}

/**
 * Every deployer's readiness rule: the web worker passes its health check (healthcheck_path answers
 * 2xx, containing `[healthcheck] contains`; without a path, `/` answers below 500), polled every
 * `[healthcheck] interval`; without a web worker, every worker is still up after a moment.
 * How long: healthcheck_timeout seconds from the start. With `[run] start-timeout`, the wait has two
 * parts: the app has start-timeout seconds to answer HTTP at all (any status), then healthcheck_timeout
 * seconds from that first answer to pass the health check (`[healthcheck] retries` counts only those checks).
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
  const { contains, interval, retries } = healthProbe(artifact);
  const probeUrl = healthPath ? `${url}${healthPath.startsWith('/') ? '' : '/'}${healthPath}` : `${url}/`;
  const probe = healthPath ? forHttp(probeUrl, contains) : forHttpBelow500(probeUrl);
  const common = {
    failed: checks.failed,
    ...(interval !== undefined ? { intervalMs: interval * 1000 } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const start = startTimeout(artifact);
  if (start !== undefined) {
    const answer = forAnyAnswer(probeUrl);
    options.log.step(`waiting up to ${start} s ([run] start-timeout) until ${answer.description}`);
    await waitUntilReady(answer, { ...common, timeoutMs: start * 1000, timeoutKey: '[run] start-timeout' });
  }
  options.log.step(`waiting up to ${timeout} s until ${probe.description}`);
  await waitUntilReady(probe, { ...common, timeoutMs: timeout * 1000, ...(retries !== undefined ? { retries } : {}) });
  return `${url}/`;
}
