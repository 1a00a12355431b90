import { readFile, rm } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';
import { mkdir } from 'node:fs/promises';
import * as z from 'zod';
import { parseArtifact } from '../artifact/artifact-file.js';
import type { RunState } from '../deployers/deployer.js';
import { Hop3Error } from '../errors.js';
import { formatIssues } from '../validation.js';
import type { AppPaths } from './hop3-home.js';

const RunStateSchema = z.object({
  app: z.string(),
  deployer: z.string(),
  artifact: z.unknown(),
  port: z.number().int(),
  url: z.string().nullable(),
  started_at: z.string(),
  workers: z.array(
    z.object({ name: z.string(), id: z.string(), startTicks: z.number().optional(), marker: z.string().optional(), log: z.string().optional() }),
  ),
});

/** What is running for the app, or undefined when nothing was started (or it was stopped). */
export async function readRunState(paths: AppPaths): Promise<RunState | undefined> {
  let text: string;
  try {
    text = await readFile(paths.runState, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const result = RunStateSchema.safeParse(safeJson(text));
  if (!result.success) {
    throw new Hop3Error('STATE_CORRUPT', `${paths.runState} is damaged: ${formatIssues(result.error.issues)}`, {
      file: paths.runState,
      hint: `Stop leftover processes by hand, then remove ${paths.runState}.`,
    });
  }
  const { artifact, workers, ...rest } = result.data;
  return {
    ...rest,
    artifact: parseArtifact(artifact, `${paths.runState} (artifact)`),
    workers: workers.map(({ startTicks, marker, log, ...worker }) => ({ ...worker, ...(startTicks !== undefined ? { startTicks } : {}), ...(marker !== undefined ? { marker } : {}), ...(log !== undefined ? { log } : {}) })),
  };
}

export async function writeRunState(paths: AppPaths, state: RunState): Promise<void> {
  await mkdir(paths.run, { recursive: true });
  await writeFileAtomic(paths.runState, `${JSON.stringify(state, null, 2)}\n`);
}

export async function clearRunState(paths: AppPaths): Promise<void> {
  await rm(paths.runState, { force: true });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
