// Bundles the CLI into dist/ (one chunk per lazily loaded command): `hop3` starts in a fraction of the
// time Node needs to resolve hundreds of separate modules. Type checking is `npm run typecheck`'s job.
import { rm } from 'node:fs/promises';
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
await build({
  entryPoints: ['src/cli/main.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  minify: true,
  // tar-fs 3 stays a package of its own: loaded only by the docker builder, as it is.
  external: ['tar-fs'],
  plugins: [dockerStubs],
  // Bundled CommonJS dependencies expect these.
  banner: {
    js: [
      "import { createRequire as __hop3Require } from 'node:module';",
      "import { fileURLToPath as __hop3Path } from 'node:url';",
      'const require = __hop3Require(import.meta.url);',
      'const __filename = __hop3Path(import.meta.url);',
      "const __dirname = __hop3Path(new URL('.', import.meta.url));",
    ].join('\n'),
  },
  logLevel: 'warning',
});
