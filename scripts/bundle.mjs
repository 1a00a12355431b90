// Bundles the CLI into dist/ (one chunk per lazily loaded command): `hop3` starts in a fraction of the
// time Node needs to resolve hundreds of separate modules. Type checking is `npm run typecheck`'s job.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

/**
 * dockerode loads gRPC and protobuf for BuildKit sessions, and docker-modem loads ssh2 for ssh:// hosts, as
 * they start: ≈ 250 ms of CPU before the first API call. hop3 uses neither (no BuildKit session, no ssh://
 * DOCKER_HOST: see src/engines/docker-client.ts), so the bundle carries dockerode with those modules stubbed.
 */
const DOCKER_STUBS = {
  'dockerode/lib/docker.js ./session': "module.exports = (docker, auth, handler) => handler(new Error('hop3 opens no BuildKit session'));",
  'dockerode/lib/docker.js ./buildkit': "module.exports = { followProgress() { throw new Error('hop3 decodes no BuildKit progress'); } };",
  'docker-modem/lib/modem.js ./ssh': "module.exports = () => { throw new Error('hop3 reaches Docker over unix, tcp or https, not ssh'); };",
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
