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

/** Logger writing to a stream (the CLI passes stderr so stdout stays clean for --json). */
export function streamLogger(stream: NodeJS.WritableStream, options: { quiet?: boolean } = {}): Logger {
  const write = (text: string) => stream.write(`${text}\n`);
  return {
    step: (message) => write(`==> ${message}`),
    info: (message) => write(message),
    warn: (message) => write(`warning: ${message}`),
    output: (line) => {
      if (!options.quiet) write(`    ${line}`);
    },
  };
}
