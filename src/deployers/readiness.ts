import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Hop3Error } from '../errors.js';

/** A readiness strategy, shared by every deployer: `check` resolves true once ready. */
export interface ReadinessProbe {
  readonly description: string;
  check(): Promise<boolean>;
}

/** Ready when GET answers 2xx. */
export function forHttp(url: string): ReadinessProbe {
  return {
    description: `GET ${url} answers 2xx`,
    async check() {
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(2000), redirect: 'manual' });
        await response.body?.cancel();
        return response.status >= 200 && response.status < 300;
      } catch {
        return false;
      }
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
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(2000), redirect: 'manual' });
        await response.body?.cancel();
        return true;
      } catch {
        return false;
      }
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
