/**
 * The one error family. Library code throws Hop3Error; only the CLI formats it.
 * Codes are prefixed by area: CONFIG_, ARTIFACT_, BUILD_, BUILD_DOCKER_, BUILD_NIX_, DEPLOY_, STATE_, CLI_.
 */
export interface Hop3ErrorOptions {
  /** What the user can do about it, one sentence. */
  hint?: string;
  cause?: unknown;
  /** File the error is about, when there is one. */
  file?: string;
  /** Command that failed, exit code, and the tail of its output. */
  command?: string;
  exitCode?: number;
  outputTail?: string;
  durationMs?: number;
  timedOut?: boolean;
}

export class Hop3Error extends Error {
  override readonly name = 'Hop3Error';
  readonly code: string;
  readonly hint: string | undefined;
  readonly file: string | undefined;
  readonly command: string | undefined;
  readonly exitCode: number | undefined;
  readonly outputTail: string | undefined;
  readonly durationMs: number | undefined;
  readonly timedOut: boolean | undefined;

  constructor(code: string, message: string, options: Hop3ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.file = options.file;
    this.command = options.command;
    this.exitCode = options.exitCode;
    this.outputTail = options.outputTail;
    this.durationMs = options.durationMs;
    this.timedOut = options.timedOut;
  }
}

export function isHop3Error(error: unknown, code?: string): error is Hop3Error {
  return error instanceof Hop3Error && (code === undefined || error.code === code);
}

/** Last `lines` non-empty lines of a text, for error messages. */
export function tail(text: string, lines = 20): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** The same error with output attached (a deploy failure is useless without the app's own words); kept if it has some. */
export function withOutputTail(error: unknown, outputTail: string): unknown {
  if (!isHop3Error(error) || error.outputTail || !outputTail) return error;
  return new Hop3Error(error.code, error.message, {
    ...(error.hint ? { hint: error.hint } : {}),
    cause: error.cause,
    outputTail,
    ...(error.timedOut ? { timedOut: true } : {}),
  });
}
