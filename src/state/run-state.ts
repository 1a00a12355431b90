import { mkdir, readFile, rm } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';
import * as z from 'zod';
import { parseArtifact, type Artifact } from '../artifact/artifact-file.js';
import { Hop3Error } from '../errors.js';
import { formatIssues } from '../validation.js';
import type { AppPaths } from './hop3-home.js';

const WorkerRecordSchema = z
  .object({
    name: z.string(),
    /** Process id (process target) or container id (container target). */
    id: z.string(),
    /** Host file the worker logs to, when the target logs to files. */
    log: z.string().optional(),
    /** What only the deployer that started the worker reads (e.g. how to recognise a pid later). */
    handle: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  })
  .strict();

const RunStateSchema = z
  .object({
    app: z.string(),
    /** The deployer target that runs it: process, container... */
    deployer: z.string(),
    artifact: z.unknown(),
    port: z.number().int(),
    url: z.string().nullable(),
    started_at: z.string(),
    workers: z.array(WorkerRecordSchema),
  })
  .strict();

/** One started worker: a process group or a container. Same shape for every deployer (`status --json`). */
export type WorkerRecord = z.infer<typeof WorkerRecordSchema>;

/** What is running for an app, written atomically to `run/state.json`. */
export type RunState = Omit<z.infer<typeof RunStateSchema>, 'artifact'> & { artifact: Artifact };

/** What is running for the app, or undefined when nothing was started (or it was stopped). */
export async function readRunState(paths: AppPaths): Promise<RunState | undefined> {
  let text: string;
  try {
    text = await readFile(paths.runState, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Hop3Error('STATE_UNREADABLE', `Cannot read ${paths.runState}: ${(error as Error).message}`, {
      file: paths.runState,
      cause: error,
      hint: 'Check the permissions of HOP3_HOME.',
    });
  }
  const result = RunStateSchema.safeParse(safeJson(text));
  if (!result.success) {
    throw new Hop3Error('STATE_CORRUPT', `${paths.runState} is damaged: ${formatIssues(result.error.issues)}`, {
      file: paths.runState,
      hint: `Stop leftover processes by hand, then remove ${paths.runState}.`,
    });
  }
  return { ...result.data, artifact: parseArtifact(result.data.artifact, `${paths.runState} (artifact)`) };
}

export async function writeRunState(paths: AppPaths, state: RunState): Promise<void> {
  const checked = RunStateSchema.parse(state);
  try {
    await mkdir(paths.run, { recursive: true });
    await writeFileAtomic(paths.runState, `${JSON.stringify(checked, null, 2)}\n`);
  } catch (error) {
    throw new Hop3Error('STATE_WRITE_FAILED', `Cannot record what runs in ${paths.runState}: ${(error as Error).message}`, {
      file: paths.runState,
      cause: error,
      hint: 'Check that HOP3_HOME is writable and its disk is not full.',
    });
  }
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
