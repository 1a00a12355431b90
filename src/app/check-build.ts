import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildApp, type BuildRequest, type BuildResult } from '../../builders/build-app.js';
import type { BuildDifference } from '../../builders/builder.js';
import { loadBuilder } from '../../builders/registry.js';
import { Hop3Error } from '../errors.js';

/** Files named in a summary at most: a build that differs everywhere still gives a readable report. */
const MAX_FILES = 200;

/** What `hop3 build --check` found, as printed with --json for a pipeline to archive next to the artifact. */
export interface CheckSummary {
  app: string;
  builder: string;
  build_id: string;
  /** The second build's id: a build_id is derived from inputs, so it differs only when the inputs were read differently. */
  check_build_id: string;
  reproducible: boolean;
  compared: string;
  first: string;
  second: string;
  /** Differing files, sorted (at most MAX_FILES; `files_total` says how many there were). */
  files: string[];
  files_total: number;
  /** Other differing fields (an image's config). */
  fields: string[];
}

export interface CheckOutcome {
  /** The checked build: an existing one with the same inputs, or one made now. */
  result: BuildResult;
  summary: CheckSummary;
}

/**
 * `hop3 build --check`: the build (as `hop3 build` makes or finds it), then a second one from scratch (no engine
 * cache, no reused dependencies) in a temporary HOP3_HOME removed afterwards, and the two compared by the builder.
 * The checked build, its artifact and the releases are never touched; what the check made elsewhere (an image
 * tag, a store path) is discarded by its builder.
 */
export async function checkBuild(request: BuildRequest): Promise<CheckOutcome> {
  const result = await buildApp({ ...request, reproducible: true });
  const { artifact } = result;
  const builder = await loadBuilder(artifact.builder, { env: request.env });
  const home = await mkdtemp(path.join(os.tmpdir(), 'hop3-check-'));
  try {
    request.log.step(`checking ${artifact.app_name} ${artifact.build_id}: building it again from scratch in ${home}`);
    const { output: _output, ...rest } = request;
    const second = await buildApp({ ...rest, name: artifact.app_name, builder: artifact.builder, env: { ...request.env, HOP3_HOME: home }, fromScratch: true, reproducible: true });
    try {
      const difference: BuildDifference = builder.compareBuilds
        ? await builder.compareBuilds(artifact, second.artifact)
        : { compared: 'location', values: [artifact.location, second.artifact.location], files: [], fields: [] };
      const fields = [...(artifact.build_id === second.artifact.build_id ? [] : ['build_id']), ...difference.fields];
      const reproducible = fields.length === 0 && difference.files.length === 0 && difference.values[0] === difference.values[1];
      const summary: CheckSummary = {
        app: artifact.app_name,
        builder: artifact.builder,
        build_id: artifact.build_id,
        check_build_id: second.artifact.build_id,
        reproducible,
        compared: difference.compared,
        first: difference.values[0],
        second: difference.values[1],
        files: difference.files.slice(0, MAX_FILES),
        files_total: difference.files.length,
        fields,
      };
      return { result, summary };
    } finally {
      await builder.discardCheckBuild?.(second.artifact);
    }
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** The coded error for a check that found differences, naming them. */
export function notReproducible(summary: CheckSummary): Hop3Error {
  const shown = summary.files.slice(0, 10);
  const files = shown.length > 0 ? ` Differing files: ${shown.join(', ')}${summary.files_total > shown.length ? ` and ${summary.files_total - shown.length} more` : ''}.` : '';
  const fields = summary.fields.length > 0 ? ` Differing fields: ${summary.fields.join(', ')}.` : '';
  return new Hop3Error('BUILD_NOT_REPRODUCIBLE', `${summary.app} build ${summary.build_id} is not reproducible: a second build from scratch has ${summary.compared} ${summary.second}, not ${summary.first}.${files}${fields}`, {
    hint: 'Something in the build depends on the time, the machine or the network (a timestamp written by a build step, an unpinned dependency). The files above say where; `hop3 build --check --json` gives the full list.',
  });
}
