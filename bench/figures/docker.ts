// Docker builds: `hop3 build --builder docker` (the CLI) ÷ a minimal Engine API client process building the
// same context and Dockerfile (bench/raw-docker-build.mjs), cold and cached; then hop3's peak RSS while it sends
// a 1 GiB context.
import { copyFile, mkdir, open, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { withDependencyLayer } from '../../builders/docker/dependency-layer.js';
import { CONTAINER_APP_ROOT, TEMPLATES_DIR } from '../../builders/docker/resolve-dockerfile.js';
import { DockerBuilder } from '../../builders/docker/docker-builder.js';
import { listSourceTree } from '../../builders/source-tree.js';
import { pythonDependencyFiles } from '../../builders/toolchains/dependency-files.js';
import { WSGI_SERVER_SCRIPT } from '../../builders/toolchains/python.js';
import { packageRoot } from '../../src/package-root.js';
import { duration, expectSuccess, hop3, HOP3_BIN, LOCAL_IMAGES, median, removeDockerObjects, repeat, Sandbox, spread, timedNode, verdict, type Bench, type Figure, type Row } from '../harness.js';

const FIXTURE = 'python-web';
const APP = 'bench-docker';
const RSS_APP = 'bench-docker-rss';
const CONTEXT_BYTES = Number(process.env.BENCH_CONTEXT_BYTES || 1024 ** 3);
const RAW_BUILD = path.join(packageRoot, 'bench', 'raw-docker-build.mjs');
/** Cold and cached, both sides: a cold Python image pays ensurepip in the build container. */
const BUDGET_MS = 100_000;

/** Why docker figures cannot run here, or undefined. */
async function dockerMissing(): Promise<string | undefined> {
  const availability = await new DockerBuilder({ env: process.env }).available();
  return availability.usable ? undefined : availability.detail;
}

const unavailable = (figure: string, goal: string, why: string): Row => ({ figure, hop3: `not available (no docker: ${why})`, reference: '—', goal, result: 'not available' });

/** The raw side's copy: the same files, hop3's generated Dockerfile (dependency layer included) and the file hop3 adds. */
async function rawContext(sandbox: Sandbox): Promise<string> {
  const dir = await sandbox.fixture(FIXTURE, `${APP}-raw`);
  const template = await readFile(path.join(TEMPLATES_DIR, 'python.Dockerfile'), 'utf8');
  const { text } = withDependencyLayer(template, await pythonDependencyFiles(dir), await listSourceTree(dir), CONTAINER_APP_ROOT);
  await writeFile(path.join(dir, 'Dockerfile'), `${text}\nLABEL "io.hop3.test"="1" "io.hop3.app"="${APP}-raw"\n`);
  await writeFile(path.join(dir, '.dockerignore'), 'Dockerfile\n.dockerignore\n');
  await mkdir(path.join(dir, '.hop3'));
  await copyFile(WSGI_SERVER_SCRIPT, path.join(dir, '.hop3', 'wsgi-server.py'));
  return dir;
}

/** A dependency change no build has seen: everything from the dependency layer on is built again. */
async function invalidate(dir: string, nonce: string): Promise<void> {
  const file = path.join(dir, 'requirements.txt');
  await writeFile(file, `${(await readFile(file, 'utf8')).replace(/# bench nonce .*\n$/, '')}# bench nonce ${nonce}\n`);
}

async function coldAndCached(bench: Bench): Promise<Row[]> {
  await using sandbox = await Sandbox.create();
  const env = LOCAL_IMAGES;
  const tags: string[] = [];
  try {
    const dir = await sandbox.fixture(FIXTURE, APP);
    const rawDir = await rawContext(sandbox);
    const args = JSON.stringify({ BASE_IMAGE: env.HOP3_DOCKER_BASE_IMAGE, BUILD_IMAGE: env.HOP3_DOCKER_BUILD_IMAGE });
    const times = { cold: { hop3: [] as number[], raw: [] as number[] }, cached: { hop3: [] as number[], raw: [] as number[] } };
    const forced: number[] = [];
    await repeat(bench, BUDGET_MS, async (run) => {
      const nonce = `${process.pid}-${run}-${Date.now()}`;
      await invalidate(dir, `hop3 ${nonce}`);
      await invalidate(rawDir, `raw ${nonce}`);
      const tag = `hop3-bench/raw-${FIXTURE}:${run}`;
      tags.push(tag);
      for (const kind of ['cold', 'cached'] as const) {
        // Alternate who goes first so that neither always meets a warmer daemon.
        for (const who of run % 2 === 0 ? ['hop3', 'raw'] : ['raw', 'hop3']) {
          if (who === 'hop3') times[kind].hop3.push(expectSuccess(await hop3(sandbox, ['build', dir, '--builder', 'docker', '--quiet'], { env }), `hop3 docker build (${kind})`).ms);
          else times[kind].raw.push(expectSuccess(await timedNode([RAW_BUILD, rawDir, tag, args]), `raw Engine API build (${kind})`).ms);
        }
      }
      // hop3 finds the unchanged build without building; --force sends it to the engine, every step from its cache.
      forced.push(expectSuccess(await hop3(sandbox, ['build', dir, '--builder', 'docker', '--quiet', '--force'], { env }), 'hop3 docker build --force (cached)').ms);
    });
    const runs = times.cold.hop3.length;
    const cold = { hop3: median(times.cold.hop3), raw: median(times.cold.raw) };
    const cached = { hop3: median(times.cached.hop3), raw: median(times.cached.raw) };
    const how = `median of ${runs}, alternating; both are Node processes (hop3's CLI; raw: tar-fs piped into POST /build with node:http, no client library), same context and generated Dockerfile`;
    return [
      {
        figure: `docker cold build ÷ raw Engine API build (${FIXTURE})`,
        hop3: duration(cold.hop3),
        reference: duration(cold.raw),
        ratio: cold.hop3 / cold.raw,
        goal: '≤ 1.05',
        result: verdict(cold.hop3 / cold.raw <= 1.05),
        note: `cold = a requirements.txt neither side built before; ${how}; hop3 ${spread(times.cold.hop3)}, raw ${spread(times.cold.raw)}.`,
      },
      {
        figure: `docker cached build ÷ raw Engine API build (${FIXTURE})`,
        hop3: duration(cached.hop3),
        reference: duration(cached.raw),
        ratio: cached.hop3 / cached.raw,
        goal: 'overhead ≤ 50 ms',
        result: verdict(cached.hop3 - cached.raw <= 50),
        note: `the same build again: overhead ${(cached.hop3 - cached.raw).toFixed(0)} ms; hop3 finds its unchanged build (the daemon only asked whether the image and base images are there), raw builds with every step from the cache; hop3 ${spread(times.cached.hop3)}, raw ${spread(times.cached.raw)}; hop3 --force, an engine build with every step from the cache: ${duration(median(forced))} (${spread(forced)}).`,
      },
    ];
  } finally {
    await removeDockerObjects([APP, `${APP}-raw`], tags);
  }
}

/** hop3's own peak RSS (VmHWM of its process) while it digests and streams a 1 GiB context to the daemon. */
async function contextRss(): Promise<Row> {
  await using sandbox = await Sandbox.create();
  try {
    const dir = path.join(sandbox.dir, 'apps', RSS_APP);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'Dockerfile'), 'FROM hop3/base-busybox:latest\nCOPY Procfile /srv/Procfile\n');
    await writeFile(path.join(dir, 'Procfile'), 'web: httpd -f -p "$BIND_ADDRESS:$PORT" -h /srv\n');
    // Sparse: nothing to write here, yet hop3 reads, digests and sends every byte.
    const blob = await open(path.join(dir, 'blob.bin'), 'w');
    await blob.truncate(CONTEXT_BYTES);
    await blob.close();
    const build = expectSuccess(await hop3(sandbox, ['build', dir, '--builder', 'docker', '--quiet']), 'hop3 docker build of a 1 GiB context');
    const idle = expectSuccess(await timedNode([HOP3_BIN, '--help'], { env: sandbox.env }), 'hop3 --help');
    const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
    return {
      figure: `peak RSS of hop3 sending a ${(CONTEXT_BYTES / 1024 ** 3).toFixed(2).replace(/\.00$/, '')} GiB docker context`,
      hop3: mb(build.maxRssKb),
      reference: `\`hop3 --help\` ${mb(idle.maxRssKb)}`,
      goal: '< 150 MB',
      result: verdict(build.maxRssKb < 150 * 1024),
      note: `peak RSS (VmHWM) of the hop3 process, read at its exit; a sparse file, own Dockerfile that copies only the Procfile; the build took ${duration(build.ms)}.`,
    };
  } finally {
    await removeDockerObjects([RSS_APP]);
  }
}

export const docker: Figure = {
  id: 'docker',
  async run(bench) {
    const missing = await dockerMissing();
    if (missing) {
      return [
        unavailable(`docker cold build ÷ raw Engine API build (${FIXTURE})`, '≤ 1.05', missing),
        unavailable(`docker cached build ÷ raw Engine API build (${FIXTURE})`, 'overhead ≤ 50 ms', missing),
        unavailable('peak RSS of hop3 sending a 1 GiB docker context', '< 150 MB', missing),
      ];
    }
    return [...(await coldAndCached(bench)), await contextRss()];
  },
};
