import pLimit from 'p-limit';
import { buildApp, type BuildRequest, type BuildResult } from '../../builders/build-app.js';
import type { Logger } from '../log/logger.js';
import type { AppSource } from './build-targets.js';

/** A logger for one app's build; `end` gets the build's outcome once it has finished, either way. */
export type AppLogger = Logger & { end?(outcome: AppBuildOutcome): void };

export interface BuildAppsRequest {
  apps: readonly AppSource[];
  /** How many builds run at once (each app takes its own lock, so they really overlap). */
  jobs: number;
  /** What every build shares (builder, secrets, env, signal); each app adds its dir and its logger. */
  options: Omit<BuildRequest, 'sourceDir' | 'name' | 'output' | 'log'>;
  /** Asked when an app's build starts, so only running builds show. */
  logFor(source: AppSource): AppLogger;
  now?: () => Date;
}

/** One app's build: its artifact, or why it failed; when it started and how long it took. */
export type AppBuildOutcome = { source: AppSource; startedAt: Date; durationMs: number } & ({ ok: true; result: BuildResult } | { ok: false; error: unknown });

/**
 * Builds several apps, `jobs` at a time. A failure stops nothing else: every app gets its outcome, in the order
 * given. Once `options.signal` aborts, the builds not started yet are not started (their outcome is the abort).
 */
export async function buildApps(request: BuildAppsRequest): Promise<AppBuildOutcome[]> {
  const now = request.now ?? (() => new Date());
  const limit = pLimit(Math.max(1, request.jobs));
  const { signal } = request.options;
  return limit.map(request.apps, async (source): Promise<AppBuildOutcome> => {
    const startedAt = now();
    const outcome = (fields: { ok: true; result: BuildResult } | { ok: false; error: unknown }): AppBuildOutcome => ({
      source,
      startedAt,
      durationMs: now().getTime() - startedAt.getTime(),
      ...fields,
    });
    if (signal?.aborted) return outcome({ ok: false, error: signal.reason });
    const log = request.logFor(source);
    const done = await buildApp({ ...request.options, sourceDir: source.dir, log }).then(
      (result) => outcome({ ok: true, result }),
      (error: unknown) => outcome({ ok: false, error }),
    );
    log.end?.(done);
    return done;
  });
}
