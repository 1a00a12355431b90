/** Progress reporting, injected so tests can capture it and `--quiet`/`--json` can silence it. */
export interface Logger {
  /** A named step of a long operation ("installing dependencies"). */
  step(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  /** One line of a tool's live output (pip, npm, docker build, nix build). */
  output(line: string): void;
}

export const silentLogger: Logger = { step() {}, info() {}, warn() {}, output() {} };

export interface StreamLoggerOptions {
  /** Hide tool output lines; keep steps, info and warnings. */
  quiet?: boolean;
  /** Put before every line, after the timestamp: `[node-web] ` when several builds share the stream. */
  prefix?: string;
  /** When given, every line starts with its local time (`12:03:04.512 `): logs kept by CI, where nothing else dates them. */
  clock?: () => Date;
}

/**
 * Logger writing to a stream (the CLI passes stderr so stdout stays clean for --json).
 * Each line is one write, so loggers of concurrent builds sharing the stream never cut each other's lines.
 */
export function streamLogger(stream: NodeJS.WritableStream, options: StreamLoggerOptions = {}): Logger {
  const { clock, prefix = '' } = options;
  const write = (text: string) => stream.write(`${clock ? `${timeOfDay(clock())} ` : ''}${prefix}${text}\n`);
  return {
    step: (message) => write(`==> ${message}`),
    info: (message) => write(message),
    warn: (message) => write(`warning: ${message}`),
    output: (line) => {
      if (!options.quiet) write(`    ${line}`);
    },
  };
}

/** `12:03:04.512`: local time to the millisecond. */
export function timeOfDay(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

/** Matches the timestamp `streamLogger` puts before a line, for readers of logs that may carry one. */
export const TIME_OF_DAY_PREFIX = /^\d{2}:\d{2}:\d{2}\.\d{3} /;
