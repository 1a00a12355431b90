import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { ARTIFACT_FILE_NAME } from '../../src/artifact/artifact-file.js';
import { wrapError } from '../../src/errors.js';
import { isDiskFault } from '../../src/state/home-write-error.js';
import type { BuildContext } from '../builder.js';
import type { DependencyInputs, LocalInstallContext } from '../toolchains/toolchain.js';
import { linkTree } from './link-tree.js';

/** Where a local build records what its dependencies were made from, inside its app root (never served: a dotfile). */
export const DEPENDENCY_RECORD = '.hop3/deps.json';
/** Bump when what a record means changes: older records then match nothing. */
const RECORD_FORMAT = 1;

const DependencyRecord = z.object({
  format: z.literal(RECORD_FORMAT),
  toolchain: z.string(),
  key: z.string(),
  manifest: z.string(),
  /** Label -> digest, to say which input changed. */
  digests: z.record(z.string(), z.string()),
  /** The outputs the install left, relative to the app root. */
  outputs: z.array(z.string()),
  /** The app root as the outputs name it. */
  app_root: z.string(),
});
type DependencyRecord = z.infer<typeof DependencyRecord>;

interface EarlierBuild {
  buildId: string;
  appRoot: string;
  record: DependencyRecord;
  builtAt: number;
}

/** One key for a set of digests: equal inputs, equal key. */
export function dependencyKey(toolchain: string, digests: Readonly<Record<string, string>>): string {
  const sorted = Object.keys(digests).sort().map((label) => [label, digests[label]]);
  return `sha256:${createHash('sha256').update(JSON.stringify([RECORD_FORMAT, toolchain, sorted])).digest('hex')}`;
}

/**
 * The local builder's install step. A toolchain that says what its dependencies are made from gets them
 * hard-linked from the newest complete build with the same inputs (then installs only what is left, such as
 * the app itself), else installs afresh; either way the build records its inputs for the next one.
 * An older build is never written to: its files are only linked, read or copied.
 */
export async function installDependencies(ctx: BuildContext, install: LocalInstallContext, buildDir: string): Promise<DependencyInputs | undefined> {
  const { toolchain, log } = ctx;
  if (!toolchain.dependencyInputs) {
    await toolchain.installLocal(install);
    return undefined;
  }
  // Without the build secrets: they are not resolution choices, and nothing derived from them is saved in a build.
  const inputs = await toolchain.dependencyInputs({ ...install, env: ctx.env });
  const digests = { ...inputs.digests, ...builderDigests(ctx) };
  const key = dependencyKey(toolchain.name, digests);
  const earlier = await earlierBuilds(ctx, buildDir);
  const refusal = (ctx.fromScratch ? 'a build from scratch reuses nothing' : inputs.noReuse) ?? (await presentOutput(install.appRoot, inputs));
  const match = refusal === undefined ? earlier.find((build) => build.record.key === key) : undefined;
  if (match) {
    log.step(`reusing dependencies from build ${match.buildId} (${inputs.manifest} unchanged)`);
    await linkOutputs(match, install.appRoot, inputs);
    await toolchain.installLocal({ ...install, dependencies: { inputs, reused: { buildId: match.buildId, appRoot: match.record.app_root } } });
  } else {
    log.step(`installing dependencies (${refusal ?? changes(earlier[0]?.record, digests)})`);
    await toolchain.installLocal({ ...install, dependencies: { inputs } });
  }
  const outputs: string[] = [];
  for (const output of inputs.outputs) if (await lstat(path.join(install.appRoot, output)).catch(() => undefined)) outputs.push(output);
  const record: DependencyRecord = { format: RECORD_FORMAT, toolchain: toolchain.name, key, manifest: inputs.manifest, digests, outputs, app_root: install.appRoot };
  await mkdir(path.join(install.appRoot, path.dirname(DEPENDENCY_RECORD)), { recursive: true });
  await writeFile(path.join(install.appRoot, DEPENDENCY_RECORD), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  return { ...inputs, digests };
}

/** Inputs the builder adds: files shared between builds run as different users would get one user's group (worker-user.ts). */
function builderDigests(ctx: BuildContext): Record<string, string> {
  const user = ctx.config.settings.run.user;
  return user === undefined ? {} : { '[run] user': createHash('sha256').update(user).digest('hex') };
}

/** Complete builds (their artifact saved) of the same toolchain with a readable record, newest first. */
async function earlierBuilds(ctx: BuildContext, buildDir: string): Promise<EarlierBuild[]> {
  // Build dirs by name (`<build_id>`, `<build_id>.2`...): each forced rebuild of one id is a candidate of its own.
  const ids = await readdir(ctx.paths.builds).catch(() => [] as string[]);
  const builds = await Promise.all(
    ids
      .filter((id) => id !== buildDir)
      .map(async (id): Promise<EarlierBuild | undefined> => {
        const dir = ctx.paths.build(id);
        const artifact = await stat(path.join(dir, ARTIFACT_FILE_NAME)).catch(() => undefined);
        if (!artifact) return undefined;
        const appRoot = path.join(dir, 'app');
        const record = await readRecord(path.join(appRoot, DEPENDENCY_RECORD));
        if (record?.toolchain !== ctx.toolchain.name) return undefined;
        // A build whose outputs are gone (removed by hand) has nothing to give.
        for (const output of record.outputs) if (!(await lstat(path.join(appRoot, output)).catch(() => undefined))) return undefined;
        return { buildId: id, appRoot, record, builtAt: artifact.mtimeMs };
      }),
  );
  return builds.filter((build) => build !== undefined).sort((a, b) => b.builtAt - a.builtAt || b.buildId.localeCompare(a.buildId));
}

/** A build made before records existed, or a damaged record, is simply not a candidate. */
async function readRecord(file: string): Promise<DependencyRecord | undefined> {
  try {
    const parsed = DependencyRecord.safeParse(JSON.parse(await readFile(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** An output the new build already holds (made by a before-build hook, or shipped in the source) cannot be linked over. */
async function presentOutput(appRoot: string, inputs: DependencyInputs): Promise<string | undefined> {
  for (const output of inputs.outputs) {
    if (await lstat(path.join(appRoot, output)).catch(() => undefined)) return `${output} is already in the build`;
  }
  return undefined;
}

/** Which inputs differ from the newest earlier build's, for the log. */
function changes(record: DependencyRecord | undefined, digests: Readonly<Record<string, string>>): string {
  if (!record) return 'no earlier build to reuse';
  const labels = [...new Set([...Object.keys(record.digests), ...Object.keys(digests)])].filter((label) => record.digests[label] !== digests[label]).sort();
  if (labels.length === 0) return "hop3's dependency recipe changed";
  const shown = labels.slice(0, 3).join(', ');
  return `${shown}${labels.length > 3 ? ` and ${labels.length - 3} more` : ''} changed`;
}

async function linkOutputs(build: EarlierBuild, appRoot: string, inputs: DependencyInputs): Promise<void> {
  for (const output of build.record.outputs) {
    const target = path.join(appRoot, output);
    // A nested output (a linked package's node_modules) goes only where its parent is in the new build.
    if (!(await stat(path.dirname(target)).catch(() => undefined))) continue;
    try {
      await linkTree(path.join(build.appRoot, output), target, {
        rel: output,
        oldRoot: build.record.app_root,
        newRoot: appRoot,
        ...(inputs.relocate ? { relocate: inputs.relocate } : {}),
        ...(inputs.copy ? { copy: inputs.copy } : {}),
      });
    } catch (error) {
      if (isDiskFault(error)) throw error; // the pipeline says the disk is full or read-only
      throw wrapError(error, 'BUILD_DEPENDENCY_LINK_FAILED', `Cannot link the dependencies of build ${build.buildId} (${output}) into ${appRoot}`, 'Check that HOP3_HOME is writable; removing the older build dir makes the next build install afresh. The previous build and release are untouched.');
    }
  }
}
