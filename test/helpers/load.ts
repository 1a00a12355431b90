import { execa } from 'execa';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LoadReport {
  requests: number;
  /** wrk's socket errors (connect, read, write, timeout) plus non-2xx/3xx answers. */
  failures: number;
  socketErrors: number;
  /** The probe: one GET every ~20 ms, as a user would see it. */
  probes: number;
  probeFailures: number;
  /** Longest run of failed probes, in ms. */
  longestOutageMs: number;
  bodies: Set<string>;
}

/**
 * Bounded load on a 127.0.0.1 URL while `during` runs: back-to-back 2 s wrk bursts (-t1 -c4) and a
 * probe loop, stopped when `during` settles (and at `maxMs` at the latest).
 */
export async function underLoad<T>(url: string, during: () => Promise<T>, maxMs = 300_000): Promise<{ result: T; load: LoadReport }> {
  const report: LoadReport = { requests: 0, failures: 0, socketErrors: 0, probes: 0, probeFailures: 0, longestOutageMs: 0, bodies: new Set() };
  let done = false;
  const deadline = Date.now() + maxMs;
  const wrk = (async () => {
    while (!done && Date.now() < deadline) {
      const run = await execa('wrk', ['-t1', '-c4', '-d2s', '--timeout', '5s', url], { reject: false });
      report.requests += Number(/(\d+) requests in/.exec(run.stdout)?.[1] ?? 0);
      const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(run.stdout);
      const errors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
      const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(run.stdout)?.[1] ?? 0);
      report.socketErrors += errors;
      report.failures += errors + non2xx;
      if (run.exitCode !== 0) {
        // wrk gives up when it cannot even connect (nothing listens): a failure, as the user would see it.
        if (!/unable to connect/.test(run.stderr)) throw new Error(`wrk failed: ${run.stderr}`);
        report.socketErrors += 1;
        report.failures += 1;
        await sleep(20);
      }
    }
  })();
  const probe = (async () => {
    let outageStart: number | undefined;
    while (!done && Date.now() < deadline) {
      const ok = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
        async (response) => {
          report.bodies.add((await response.text()).trim());
          return response.ok;
        },
        () => false,
      );
      report.probes += 1;
      if (ok) {
        if (outageStart !== undefined) report.longestOutageMs = Math.max(report.longestOutageMs, Date.now() - outageStart);
        outageStart = undefined;
      } else {
        report.probeFailures += 1;
        outageStart ??= Date.now();
      }
      await sleep(20);
    }
  })();
  try {
    const result = await during();
    return { result, load: report };
  } finally {
    done = true;
    await Promise.all([wrk, probe]);
  }
}
