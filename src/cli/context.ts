import { Hop3Error } from '../errors.js';
import { streamLogger, type Logger } from '../log/logger.js';
import type { LiveProgress } from './live-progress.js';

/** What every command gets: the environment and where to report progress (stderr, so stdout stays parseable). */
export interface CliContext {
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
  /** A logger like `log` whose lines start with `prefix`: one per app when several build at once. */
  logger(prefix?: string): Logger;
  /**
   * Live progress when stderr is a terminal (see `progressMode`), else undefined: plain lines, through `log`.
   * Loaded on demand, by the commands with long steps (build, deploy, run); whoever gets one closes it.
   */
  liveProgress(): Promise<LiveProgress | undefined>;
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
  const quiet = Boolean(options.quiet || options.json);
  const stderr = process.stderr;
  // Not a terminal (CI, a file): lines are dated, since nothing else dates them there.
  const logger = (prefix?: string) => streamLogger(stderr, { quiet, ...(prefix ? { prefix } : {}), ...(stderr.isTTY ? {} : { clock: () => new Date() }) });
  return {
    env: process.env,
    log: logger(),
    signal: controller.signal,
    logger,
    async liveProgress() {
      if (progressMode(process.env, stderr) === 'plain') return undefined;
      const { LiveProgress } = await import('./live-progress.js');
      return new LiveProgress(stderr, { quiet });
    },
  };
}

/** HOP3_PROGRESS=live|plain forces a mode; otherwise live on a terminal, plain in CI, on a dumb terminal or when stderr is not a TTY. */
export function progressMode(env: NodeJS.ProcessEnv, stream: { isTTY?: boolean }): 'live' | 'plain' {
  const forced = env.HOP3_PROGRESS;
  if (forced === 'live' || forced === 'plain') return forced;
  if (forced !== undefined && forced !== '' && forced !== 'auto') {
    throw new Hop3Error('CLI_INVALID_OPTION', `HOP3_PROGRESS must be auto, live or plain (got ${JSON.stringify(forced)}).`, {
      usage: true,
      hint: 'Unset it for the default: live progress on a terminal, plain timestamped lines elsewhere.',
    });
  }
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
  return stream.isTTY && env.TERM !== 'dumb' && !ci ? 'live' : 'plain';
}
