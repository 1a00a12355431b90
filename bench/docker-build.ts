/**
 * `npm run bench:docker [fixture]`: hop3's docker build (buildApp, the library entry the CLI calls)
 * against a raw Engine API build (dockerode + a plain tar-fs context) of the same files, Dockerfile
 * and build args, cold (a nonce file invalidates `COPY .` and what follows) and cached; median of
 * a few runs each. Goal: hop3 ≤ 1.05 × raw. Then peak RSS while hop3 streams a 1 GiB context
 * (goal: flat, < 150 MB). Needs the daemon and hop3's local base images (scripts/setup-engines.sh).
 */
import { cp, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import tar from 'tar-fs';
import { buildApp } from '../builders/build-app.js';
import { createDockerClient } from '../src/engines/docker-client.js';
import { TEMPLATES_DIR } from '../builders/docker/resolve-dockerfile.js';
import { silentLogger } from '../src/log/logger.js';
import { packageRoot } from '../src/package-root.js';

const fixture = process.argv[2] ?? 'python-web';
const template = { 'python-web': 'python', 'node-web': 'node', 'static-site': 'static' }[fixture];
if (!template) throw new Error(`bench:docker knows python-web, node-web and static-site (got ${fixture})`);
const RUNS = Number(process.env.HOP3_BENCH_RUNS || 3);
const LARGE_BYTES = Number(process.env.HOP3_BENCH_CONTEXT_BYTES || 1024 ** 3);

const docker = createDockerClient(process.env);
const root = await mkdtemp(path.join(os.tmpdir(), 'hop3-bench-docker-'));
const images = { BASE_IMAGE: process.env.HOP3_DOCKER_BASE_IMAGE || 'hop3/base-runtime:bookworm', BUILD_IMAGE: process.env.HOP3_DOCKER_BUILD_IMAGE || 'hop3/base-build:bookworm' };
const env = { ...process.env, HOP3_HOME: path.join(root, 'home'), HOP3_LABELS: 'io.hop3.test=1', HOP3_DOCKER_BASE_IMAGE: images.BASE_IMAGE, HOP3_DOCKER_BUILD_IMAGE: images.BUILD_IMAGE };
const tags: string[] = [];

async function copyFixture(label: string): Promise<string> {
  const dir = path.join(root, label, `bench-${fixture}`);
  await mkdir(path.dirname(dir), { recursive: true });
  await cp(path.join(packageRoot, 'fixtures', fixture), dir, { recursive: true });
  return dir;
}

async function hop3Build(dir: string): Promise<number> {
  const start = performance.now();
  const { artifact } = await buildApp({ sourceDir: dir, builder: 'docker', env, log: silentLogger });
  tags.push(artifact.location);
  return performance.now() - start;
}

/** What a hand-written client would do: tar the directory as it is and POST /build, reading the stream to its end. */
async function rawBuild(dir: string, tag: string): Promise<number> {
  const start = performance.now();
  const stream = await docker.buildImage(tar.pack(dir) as unknown as NodeJS.ReadableStream, { t: tag, dockerfile: 'Dockerfile', buildargs: images, labels: { 'io.hop3.test': '1' }, rm: true, forcerm: true });
  let failure = '';
  for await (const chunk of stream) if (chunk.toString().includes('"errorDetail"')) failure = chunk.toString();
  if (failure) throw new Error(`raw build failed: ${failure}`);
  tags.push(tag);
  return performance.now() - start;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function compare(): Promise<void> {
  const hop3Dir = await copyFixture('hop3');
  const rawDir = await copyFixture('raw');
  await writeFile(path.join(rawDir, 'Dockerfile'), await readFile(path.join(TEMPLATES_DIR, `${template}.Dockerfile`)));
  if (template === 'static') {
    await mkdir(path.join(rawDir, '.hop3'), { recursive: true });
    await cp(path.join(packageRoot, 'builders', 'toolchains', 'static-server.mjs'), path.join(rawDir, '.hop3', 'static-server.mjs'));
  }
  const results = { cold: { hop3: [] as number[], raw: [] as number[] }, cached: { hop3: [] as number[], raw: [] as number[] } };
  for (let run = 0; run < RUNS; run++) {
    const nonce = `${process.pid}-${run}-${Date.now()}\n`;
    await writeFile(path.join(hop3Dir, 'bench-nonce.txt'), nonce);
    await writeFile(path.join(rawDir, 'bench-nonce.txt'), `raw-${nonce}`);
    // Alternate who goes first so neither always gets a warmer daemon.
    const pair = async (kind: 'cold' | 'cached') => {
      const order = run % 2 === 0 ? (['hop3', 'raw'] as const) : (['raw', 'hop3'] as const);
      for (const who of order) results[kind][who].push(who === 'hop3' ? await hop3Build(hop3Dir) : await rawBuild(rawDir, `hop3-bench/raw-${fixture}:${run}`));
    };
    await pair('cold');
    await pair('cached');
  }
  console.log(`docker build of ${fixture} (${template} template, base ${images.BASE_IMAGE}), median of ${RUNS}:`);
  for (const kind of ['cold', 'cached'] as const) {
    const hop3 = median(results[kind].hop3);
    const raw = median(results[kind].raw);
    const ratio = hop3 / raw;
    const overhead = `${hop3 >= raw ? '+' : '-'}${Math.abs(hop3 - raw).toFixed(0)} ms`;
    console.log(`  ${kind.padEnd(6)} hop3 ${seconds(hop3)}  raw API ${seconds(raw)}  ${overhead}  ratio ${ratio.toFixed(3)} ${ratio <= 1.05 ? '(goal ≤ 1.05: ok)' : '(goal ≤ 1.05: MISSED)'}`);
  }
}

/** A 1 GiB context of incompressible-looking files, written in 1 MiB blocks (the generator itself stays small). */
async function largeContext(): Promise<string> {
  const dir = path.join(root, 'large', 'bench-large');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'Dockerfile'), 'FROM hop3/base-busybox:latest\nCOPY Procfile /srv/Procfile\n');
  await writeFile(path.join(dir, 'Procfile'), 'web: httpd -f -p "$BIND_ADDRESS:$PORT" -h /srv\n');
  const block = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((Math.imul(i, 2654435761) ^ i) >>> 0, i);
  const fileSize = 64 * 1024 * 1024;
  for (let written = 0, n = 0; written < LARGE_BYTES; n++) {
    const handle = await open(path.join(dir, `blob-${String(n).padStart(3, '0')}.bin`), 'w');
    for (let size = 0; size < fileSize && written < LARGE_BYTES; size += block.length, written += block.length) {
      block.writeUInt32LE(n * 100_000 + size, 0); // no two blocks alike
      await handle.write(block);
    }
    await handle.close();
  }
  return dir;
}

async function peakRss(): Promise<void> {
  const dir = await largeContext();
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const start = performance.now();
  try {
    await hop3Build(dir);
  } finally {
    clearInterval(sampler);
  }
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
  console.log(`streaming a ${(LARGE_BYTES / 1024 ** 3).toFixed(2)} GiB context through hop3: ${seconds(performance.now() - start)}, RSS before ${mb(before)}, peak ${mb(peak)} ${peak < 150 * 1024 * 1024 ? '(goal < 150 MB: ok)' : '(goal < 150 MB: MISSED)'}`);
}

try {
  await compare();
  await peakRss();
} finally {
  for (const tag of tags) await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
}
