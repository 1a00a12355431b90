import * as z from 'zod';
import { Hop3Error, tail } from '../../src/errors.js';
import type { Logger } from '../../src/log/logger.js';

/** One JSON message of the Engine's build stream (classic builder, API 1.41); unknown fields are kept out of the way. */
const BuildMessage = z.looseObject({
  stream: z.string().optional(),
  status: z.string().optional(),
  error: z.string().optional(),
  errorDetail: z.looseObject({ message: z.string().optional() }).optional(),
  aux: z.looseObject({ ID: z.string().optional() }).optional(),
});
type BuildMessage = z.infer<typeof BuildMessage>;

export interface BuildStreamResult {
  imageId: string;
  /** Every output line but the builder's bookkeeping, for callers that keep a log. */
  lines: string[];
  /** Steps that make a layer (all but FROM and the ARGs before it), and how many of them the engine took from its cache. */
  cache: { steps: number; cached: number };
}

/** Bookkeeping lines of the classic builder that say nothing to a user. */
const NOISE = /^( ---> |Removing intermediate container |Successfully built |Successfully tagged )/;
/** The classic builder's line for a step it took from its cache (BuildKit's progress says CACHED). */
const CACHE_HIT = /^ ---> Using cache$|^#\d+ CACHED$/;

/**
 * Follow a build's JSON stream: each output line goes to `log.output` as it arrives, and an
 * `error`/`errorDetail` message fails the build (the HTTP status is 200 even then) with the
 * step that failed and the last lines of output.
 */
export async function followBuildStream(stream: NodeJS.ReadableStream, log: Logger, what: string): Promise<BuildStreamResult> {
  const lines: string[] = [];
  let step = '';
  let imageId: string | undefined;
  let failure: string | undefined;
  let pending = '';
  let text = '';
  const cache = { steps: 0, cached: 0 };
  let seenFrom = false;

  const emit = (line: string) => {
    const clean = line.replace(/\r$/, '');
    if (clean.trim() === '') return;
    if (CACHE_HIT.test(clean)) cache.cached++;
    if (NOISE.test(clean)) return;
    lines.push(clean);
    const header = /^Step (\d+\/\d+) : (.*)$/.exec(clean);
    if (header) {
      step = `${header[1]} \`${header[2]}\``;
      const instruction = header[2]!.split(/\s/, 1)[0]!.toUpperCase();
      if (instruction === 'FROM') seenFrom = true;
      else if (instruction !== 'ARG' || seenFrom) cache.steps++;
    }
    log.output(clean);
  };
  const handle = (message: BuildMessage) => {
    if (message.error !== undefined || message.errorDetail !== undefined) {
      failure ??= (message.errorDetail?.message ?? message.error ?? 'unknown error').trim();
      return;
    }
    if (message.aux?.ID) imageId = message.aux.ID;
    const chunk = message.stream ?? (message.status ? `${message.status}\n` : '');
    const parts = (text + chunk).split('\n');
    text = parts.pop() ?? '';
    for (const part of parts) emit(part);
  };

  for await (const chunk of stream) {
    const parts = (pending + chunk.toString()).split('\n');
    pending = parts.pop() ?? '';
    for (const part of parts) if (part.trim()) handle(parseMessage(part));
  }
  if (pending.trim()) handle(parseMessage(pending));
  if (text) emit(text);

  if (failure !== undefined) {
    throw new Hop3Error('BUILD_DOCKER_BUILD_FAILED', `Docker build of ${what} failed${step ? ` at step ${step}` : ''}: ${failure}`, {
      outputTail: tail(lines.join('\n')),
      hint: 'Fix the failing step (the output above shows why); rerun with HOP3_DEBUG=1 for details.',
    });
  }
  if (!imageId) {
    throw new Hop3Error('BUILD_DOCKER_BUILD_FAILED', `Docker build of ${what} ended without reporting an image ID.`, {
      outputTail: tail(lines.join('\n')),
      hint: 'The daemon closed the build stream early; check the daemon log.',
    });
  }
  return { imageId, lines, cache };
}

function parseMessage(line: string): BuildMessage {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    json = undefined;
  }
  const parsed = BuildMessage.safeParse(json);
  // Not a message we understand: keep it as output rather than lose it.
  return parsed.success ? parsed.data : { stream: `${line}\n` };
}
