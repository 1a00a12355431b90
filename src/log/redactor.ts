import { Hop3Error } from '../errors.js';
import type { Logger } from './logger.js';

export const REDACTED = '***';

/** Lines of a multi-line secret (a key file) are masked one by one, since output arrives line by line; shorter lines would mask noise. */
const MIN_LINE = 4;

/** Masks known secret values in what hop3 prints or keeps: log lines, and errors (message, output tail, command, stack). */
export interface Redactor {
  text(text: string): string;
  logger(log: Logger): Logger;
  /** The same error with every secret masked; a Hop3Error keeps its code and fields, minus its cause (a library error may quote a value). */
  error(error: unknown): unknown;
}

const identity: Redactor = { text: (text) => text, logger: (log) => log, error: (error) => error };

export function redactor(secrets: readonly string[]): Redactor {
  const needles = [...new Set(secrets.flatMap(maskedParts))].sort((a, b) => b.length - a.length);
  if (needles.length === 0) return identity;
  const pattern = new RegExp(needles.map((needle) => needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  const text = (value: string) => value.replace(pattern, REDACTED);
  const optional = (value: string | undefined) => (value === undefined ? undefined : text(value));
  return {
    text,
    logger: (log) => ({
      step: (message) => log.step(text(message)),
      info: (message) => log.info(text(message)),
      warn: (message) => log.warn(text(message)),
      output: (line) => log.output(text(line)),
    }),
    error(error) {
      if (error instanceof Hop3Error) {
        const { message, hint, outputTail, command, file } = error;
        const copy = error.with({ message: text(message), hint: optional(hint), outputTail: optional(outputTail), command: optional(command), file: optional(file), cause: undefined });
        copy.stack = optional(error.stack);
        return copy;
      }
      if (!(error instanceof Error)) return typeof error === 'string' ? text(error) : error;
      if (text(error.message) === error.message && text(error.stack ?? '') === (error.stack ?? '')) return error;
      // A fresh Error (some, like DOMException, have a read-only message); the name is what callers look at.
      const copy = new Error(text(error.message));
      copy.name = error.name;
      copy.stack = optional(error.stack);
      return copy;
    },
  };
}

/** The value, trimmed as `echo` would print it, and each line of a multi-line value. */
function maskedParts(value: string): string[] {
  const lines = value.split(/\r?\n/).map((line) => line.trim());
  const parts = [value, value.trim(), ...(lines.length > 1 ? lines.filter((line) => line.length >= MIN_LINE) : [])];
  return parts.filter((part) => part.length > 0);
}
