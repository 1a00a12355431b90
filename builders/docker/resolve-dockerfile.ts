import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { Hop3Error } from '../../src/errors.js';
import { packageRoot } from '../../src/package-root.js';
import type { PlanContext } from '../builder.js';
import type { SourceEntry } from '../source-tree.js';
import type { ExtraFile } from './build-context.js';
import { withDependencyLayer } from './dependency-layer.js';
import { installPackages } from './dockerfile-packages.js';

/** Where hop3 puts a generated Dockerfile in the context; the daemon drops it after reading (see below). */
const GENERATED_DOCKERFILE = '.hop3/Dockerfile';
export const TEMPLATES_DIR = path.join(packageRoot, 'docker');
/** Where generated images keep the app (the templates' WORKDIR); own Dockerfiles use their image's WORKDIR. */
export const CONTAINER_APP_ROOT = '/app';

export interface ResolvedDockerfile {
  /** Path inside the context, for the API's `dockerfile` parameter. */
  path: string;
  text: string;
  /** `docker/<template>` when hop3 generated it, else the app's own file. */
  origin: string;
  generated: boolean;
  /** hop3 puts the Dockerfile into the context itself: it is generated, or .dockerignore leaves it out. */
  sendText: boolean;
  /** Other files hop3 adds to the context. */
  extras: ExtraFile[];
  /** Build args: `[docker] build-args` plus BASE_IMAGE/BUILD_IMAGE when hop3 chose them. */
  buildArgs: Record<string, string>;
  /** Images the build starts FROM that are not stages of the same Dockerfile. */
  baseImages: string[];
  /** Where BASE_IMAGE comes from when hop3 passes one (`--base-image`, `[docker] base-image in hop3.toml`...). */
  baseImageFrom?: string;
  /** A generated Dockerfile's dependency install gets only these before the code (undefined: the whole source). */
  dependencyFiles?: string[] | undefined;
}

/**
 * The Dockerfile to build with: the app's own (`[docker] dockerfile`, else `Dockerfile` at the root),
 * or the toolchain's template from `docker/`. Base image: --base-image > `[docker] base-image` >
 * HOP3_DOCKER_BASE_IMAGE > the toolchain's default; the build stage's image: `[docker] build-image` >
 * HOP3_DOCKER_BUILD_IMAGE > the base image, or for a toolchain with a build image of its own (Go),
 * `[docker] build-image` > its variable > its default.
 */
export async function resolveDockerfile(ctx: PlanContext, entries: readonly SourceEntry[]): Promise<ResolvedDockerfile> {
  const docker = ctx.config.settings.docker;
  const userArgs = docker.buildArgs;
  const chosenBase = ctx.baseImage || docker.baseImage || ctx.env.HOP3_DOCKER_BASE_IMAGE || undefined;
  const baseFrom = ctx.baseImage ? '--base-image' : docker.baseImage ? `[docker] base-image in ${ctx.config.settings.file}` : chosenBase ? 'HOP3_DOCKER_BASE_IMAGE' : undefined;
  const chosenBuild = docker.buildImage || ctx.env.HOP3_DOCKER_BUILD_IMAGE || undefined;

  // Looked up before .dockerignore: a Dockerfile may well list itself there.
  const own = docker.dockerfile ?? (ctx.sourceEntries.some((e) => e.path === 'Dockerfile' && e.type === 'file') ? 'Dockerfile' : undefined);
  if (own !== undefined) {
    const file = contextPath(ctx.sourceDir, own);
    await refuseLinkOutside(ctx.sourceDir, file, own);
    const text = await readFile(path.join(ctx.sourceDir, file), 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new Hop3Error('BUILD_DOCKER_DOCKERFILE_MISSING', `Cannot read the Dockerfile ${path.join(ctx.sourceDir, file)}: ${error.message}`, {
        file,
        cause: error,
        hint: docker.dockerfile ? 'Fix [docker] dockerfile in hop3.toml (a path inside the app directory).' : 'Check the file permissions.',
      });
    });
    // Only images the user asked for: an own Dockerfile opts in with `ARG BASE_IMAGE` / `ARG BUILD_IMAGE`.
    const buildArgs = { ...userArgs, ...(chosenBase ? { BASE_IMAGE: chosenBase } : {}), ...(chosenBuild ? { BUILD_IMAGE: chosenBuild } : {}) };
    // Like the docker CLI, send the Dockerfile and .dockerignore even when .dockerignore lists them:
    // the daemon reads both, then drops those listed, so `COPY .` sees neither.
    const dropped = (name: string) => !entries.some((e) => e.path === name) && ctx.sourceEntries.some((e) => e.path === name && e.type === 'file');
    const extras = dropped('.dockerignore') ? [{ path: '.dockerignore', content: await readFile(path.join(ctx.sourceDir, '.dockerignore')) }] : [];
    return { path: file, text, origin: file, generated: false, sendText: dropped(file), extras, buildArgs, baseImages: externalImages(text, buildArgs), ...(baseFrom ? { baseImageFrom: baseFrom } : {}) };
  }

  if (!ctx.toolchain.dockerfile) {
    throw new Hop3Error('BUILD_DOCKER_NO_TEMPLATE', `hop3 has no Dockerfile template for ${ctx.toolchain.name} apps.`, {
      hint: 'Add a Dockerfile to the app, or use another builder.',
    });
  }
  const plan = await ctx.toolchain.dockerfile(ctx.config);
  const template = `${plan.template}.Dockerfile`;
  const packages = { build: ctx.config.settings.build.packages, run: ctx.config.settings.run.packages };
  const withPackages = installPackages(await readFile(path.join(TEMPLATES_DIR, template), 'utf8'), packages);
  const { text, copied } = withDependencyLayer(withPackages, plan.dependencyFiles, entries, CONTAINER_APP_ROOT);
  const base = chosenBase ?? plan.defaultBaseImage;
  const build = plan.buildImage ? docker.buildImage || ctx.env[plan.buildImage.env] || plan.buildImage.default : chosenBuild ?? base;
  const passed = Object.fromEntries((plan.passEnv ?? []).flatMap((name) => (ctx.env[name] ? [[name, ctx.env[name]]] : [])));
  const buildArgs = { ...plan.buildArgs, ...passed, ...userArgs, BASE_IMAGE: base, BUILD_IMAGE: build };
  const extras: ExtraFile[] = [
    // The daemon reads the Dockerfile, then removes the files .dockerignore lists among the Dockerfile and
    // .dockerignore itself: `COPY . /app` then sees neither. The app's own .dockerignore was applied already.
    { path: '.dockerignore', content: Buffer.from(`${GENERATED_DOCKERFILE}\n.dockerignore\n`) },
    ...(await Promise.all(Object.entries(plan.extraFiles ?? {}).map(async ([to, from]) => ({ path: to, content: await readFile(from) })))),
  ];
  const baseImageFrom = baseFrom ?? `the ${ctx.toolchain.name} toolchain's default`;
  return { path: GENERATED_DOCKERFILE, text, origin: `docker/${template}`, generated: true, sendText: true, extras, buildArgs, baseImages: externalImages(text, buildArgs), baseImageFrom, dependencyFiles: copied };
}

/** A Dockerfile path relative to the context, refusing one outside it. */
function contextPath(sourceDir: string, file: string): string {
  const rel = path.posix.normalize(file.split(path.sep).join('/'));
  if (path.posix.isAbsolute(rel) || rel === '..' || rel.startsWith('../')) {
    throw new Hop3Error('BUILD_DOCKER_DOCKERFILE_OUTSIDE', `[docker] dockerfile = "${file}" is outside the app directory ${sourceDir}.`, {
      hint: 'Name a Dockerfile inside the app directory, relative to it.',
    });
  }
  return rel;
}

/** A Dockerfile path inside the context may still be a symlink out of it (one .dockerignore hides from the context check). */
async function refuseLinkOutside(sourceDir: string, file: string, written: string): Promise<void> {
  const target = await realpath(path.join(sourceDir, file)).catch(() => undefined);
  if (target === undefined) return; // missing: reading it says so
  const rel = path.relative(await realpath(sourceDir), target);
  if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
    throw new Hop3Error('BUILD_DOCKER_DOCKERFILE_OUTSIDE', `The Dockerfile "${written}" is a symlink to ${target}, outside the app directory ${sourceDir}.`, {
      file,
      hint: 'Put the Dockerfile itself inside the app directory.',
    });
  }
}

/**
 * Images named by FROM lines, minus earlier stages and `scratch`; `${ARG}` is expanded from the
 * build args and the global ARG defaults, as the daemon does. Lines that still hold a `$` are skipped.
 */
export function externalImages(dockerfile: string, buildArgs: Record<string, string>): string[] {
  const globals: Record<string, string> = {};
  const stages = new Set<string>();
  const images: string[] = [];
  let seenFrom = false;
  const expand = (value: string) => value.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (match, name: string) => buildArgs[name] ?? globals[name] ?? match);
  for (const raw of dockerfile.replace(/\\\r?\n/g, ' ').split(/\r?\n/)) {
    const line = raw.trim();
    const arg = /^ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?/i.exec(line);
    if (arg && !seenFrom && arg[2] !== undefined) globals[arg[1]!] = expand(arg[2].replace(/^"(.*)"$/, '$1'));
    const from = /^FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (!from) continue;
    seenFrom = true;
    const image = expand(from[1]!);
    if (!image.includes('$') && image !== 'scratch' && !stages.has(image.toLowerCase()) && !images.includes(image)) images.push(image);
    if (from[2]) stages.add(from[2].toLowerCase());
  }
  return images;
}
