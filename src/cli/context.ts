import { streamLogger, type Logger } from '../log/logger.js';

/** What every command gets: the environment and where to report progress (stderr, so stdout stays parseable). */
export interface CliContext {
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
}

export function cliContext(options: { quiet?: boolean; json?: boolean } = {}): CliContext {
  const controller = new AbortController();
  // First Ctrl-C cancels cleanly (builds kill their tool, foreground runs stop their workers); a second one exits.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (controller.signal.aborted) process.exit(130);
      controller.abort();
    });
  }
  return {
    env: process.env,
    log: streamLogger(process.stderr, { quiet: Boolean(options.quiet || options.json) }),
    signal: controller.signal,
  };
}
