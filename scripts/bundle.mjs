// Bundles the CLI into dist/main.cjs: `hop3` starts in a fraction of the time Node needs to resolve hundreds
// of separate modules, and bin/hop3.js gives V8 a code cache for it. Type checking is `npm run typecheck`'s job.
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

/**
 * dockerode loads gRPC and protobuf for BuildKit sessions, and docker-modem loads ssh2 for ssh:// hosts, as
 * they start: ≈ 250 ms of CPU before the first API call. hop3 opens no BuildKit session, so the bundle carries
 * dockerode with those modules stubbed, and ssh2 behind a lazy require (loaded for an ssh:// DOCKER_HOST only).
 */
const DOCKER_STUBS = {
  'dockerode/lib/docker.js ./session': "module.exports = (docker, auth, handler) => handler(new Error('hop3 opens no BuildKit session'));",
  'dockerode/lib/docker.js ./buildkit': "module.exports = { followProgress() { throw new Error('hop3 decodes no BuildKit progress'); } };",
  // ssh:// DOCKER_HOST still works: the real module (and ssh2) loads on the first ssh connection only.
  'docker-modem/lib/modem.js ./ssh': "const real = ['docker-modem', 'lib', 'ssh.js'].join('/'); module.exports = (...args) => require(real)(...args);",
};
const dockerStubs = {
  name: 'hop3-docker-stubs',
  setup(build) {
    build.onResolve({ filter: /^\.\/(session|buildkit|ssh)$/ }, (args) => {
      const key = Object.keys(DOCKER_STUBS).find((k) => args.importer.split(path.sep).join('/').endsWith(`node_modules/${k.split(' ')[0]}`) && k.endsWith(` ${args.path}`));
      return key ? { path: key, namespace: 'hop3-docker-stub' } : undefined;
    });
    build.onLoad({ filter: /.*/, namespace: 'hop3-docker-stub' }, (args) => ({ contents: DOCKER_STUBS[args.path], loader: 'js' }));
  },
};

await rm(new URL('../dist', import.meta.url), { recursive: true, force: true });
const { outputFiles } = await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/main.cjs',
  write: false,
  bundle: true,
  // One CommonJS file, so that bin/hop3.js can hand V8 a code cache for it (Node 20 has none for ES modules);
  // each command's modules still evaluate only when it runs (esbuild keeps dynamic imports lazy).
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  minify: true,
  // tar-fs 3 stays a package of its own: loaded only by the docker builder, as it is.
  external: ['tar-fs'],
  plugins: [dockerStubs],
  define: { 'import.meta.url': '__hop3ModuleUrl' },
  banner: { js: "const __hop3ModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
await mkdir(new URL('../dist', import.meta.url));
for (const file of outputFiles) await writeFile(file.path, file.contents);
// V8 checks a code cache against the source's length only: the cache is named after the bundle's content instead.
const bundle = outputFiles.find((file) => file.path.endsWith('.cjs'));
await writeFile(new URL('../dist/bundle-id', import.meta.url), createHash('sha256').update(bundle.contents).digest('hex').slice(0, 16));
