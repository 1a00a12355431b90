import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import * as z from 'zod';
import { parseArtifact, type Artifact } from '../artifact/artifact-file.js';
import { Hop3Error, isHop3Error } from '../errors.js';
import { formatIssues } from '../validation.js';
import { ensureAppDirs, PRIVATE_FILE_MODE } from './app-dirs.js';
import type { AppPaths } from './hop3-home.js';
import { homeOf, homeWriteError } from './home-write-error.js';

const WorkerRecordSchema = z
  .object({
    name: z.string(),
    /** Process id (process target), container id (container target) or service id (swarm); "" while it is being started. */
    id: z.string(),
    /** Host file the worker logs to, when the target logs to files. */
    log: z.string().optional(),
    /** What only the deployer that started the worker reads (e.g. how to recognise a pid later). */
    handle: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  })
  .strict();

export const RELEASE_STATUSES = ['starting', 'live', 'retired', 'failed'] as const;
export type ReleaseStatus = (typeof RELEASE_STATUSES)[number];

const ReleaseSchema = z
  .object({
    app: z.string(),
    /** 1, 2, 3... per app, never reused. */
    release: z.number().int().positive(),
    /** starting: workers are being started (a crash leaves it so: still to be stopped); live: serving. */
    status: z.enum(RELEASE_STATUSES),
    /** Why it failed or was retired. */
    reason: z.string().optional(),
    /** The deployer target that runs it: process, container... */
    deployer: z.string(),
    artifact: z.unknown(),
    /** Where its web worker listens (the app's public port in direct mode, a slot behind the router otherwise). */
    port: z.number().int(),
    /** The app's public port when the router serves it. */
    public_port: z.number().int().optional(),
    /** Tasks per worker, on an orchestrated target (swarm). */
    replicas: z.number().int().positive().optional(),
    /** The release it brought back, for a rollback. */
    rollback_of: z.number().int().optional(),
    url: z.string().nullable(),
    created_at: z.string(),
    started_at: z.string(),
    ended_at: z.string().optional(),
    workers: z.array(WorkerRecordSchema),
  })
  .strict();

/** One started worker: a process group or a container. Same shape for every deployer (`status --json`). */
export type WorkerRecord = z.infer<typeof WorkerRecordSchema>;

/** One deploy of an app: what it runs and how it went, written atomically to `releases/<n>.json`. */
export type Release = Omit<z.infer<typeof ReleaseSchema>, 'artifact'> & { artifact: Artifact };

/** What runs: a release that is starting or live (the deployers' view of "the app's state"). */
export type RunState = Release;

const releaseFile = (paths: AppPaths, release: number) => path.join(paths.releases, `${String(release).padStart(6, '0')}.json`);

/** Every release of the app, oldest first; a damaged record is a coded error naming its file. */
export async function listReleases(paths: AppPaths): Promise<Release[]> {
  let names: string[];
  try {
    names = (await readdir(paths.releases)).filter((name) => /^\d{6}\.json$/.test(name)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw unreadable(paths.releases, error);
  }
  return Promise.all(names.map((name) => readRelease(path.join(paths.releases, name))));
}

async function readRelease(file: string): Promise<Release> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw unreadable(file, error);
  }
  const result = ReleaseSchema.safeParse(safeJson(text));
  if (!result.success) {
    throw new Hop3Error('STATE_CORRUPT', `${file} is damaged: ${formatIssues(result.error.issues)}`, {
      file,
      hint: `Stop leftover processes by hand, then remove ${file}.`,
    });
  }
  try {
    return { ...result.data, artifact: parseArtifact(result.data.artifact, `${file} (artifact)`) };
  } catch (error) {
    // The artifact is part of the record: a damaged one is a damaged record, with the same way out.
    throw isHop3Error(error) ? new Hop3Error('STATE_CORRUPT', error.message, { file, cause: error, hint: `Stop leftover processes by hand, then remove ${file}.` }) : error;
  }
}

/** Releases whose workers may be running: the live one and any left starting (a crash mid-deploy). */
export async function activeReleases(paths: AppPaths): Promise<Release[]> {
  return (await listReleases(paths)).filter((r) => r.status === 'starting' || r.status === 'live');
}

export async function liveRelease(paths: AppPaths): Promise<Release | undefined> {
  return (await listReleases(paths)).findLast((r) => r.status === 'live');
}

/** The next release number; call under the app lock. */
export async function nextReleaseNumber(paths: AppPaths): Promise<number> {
  const releases = await listReleases(paths);
  return (releases.at(-1)?.release ?? 0) + 1;
}

/** Write a release record atomically (validated first): readers see the old record or the new one. */
export async function writeRelease(paths: AppPaths, release: Release): Promise<void> {
  const checked = ReleaseSchema.parse(release);
  const file = releaseFile(paths, release.release);
  await ensureAppDirs(paths, paths.releases);
  try {
    // It embeds the artifact, env values included.
    await writeFileAtomic(file, `${JSON.stringify(checked, null, 2)}\n`, { mode: PRIVATE_FILE_MODE });
  } catch (error) {
    throw homeWriteError(error, file, homeOf(paths.root), `record release ${release.release} of ${release.app} in ${file}`);
  }
}

/** Drop a pruned release's record. */
export async function removeRelease(paths: AppPaths, release: number): Promise<void> {
  await rm(releaseFile(paths, release), { force: true });
}

function unreadable(file: string, error: unknown): Hop3Error {
  return new Hop3Error('STATE_UNREADABLE', `Cannot read ${file}: ${(error as Error).message}`, { file, cause: error, hint: 'Check the permissions of HOP3_HOME.' });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
