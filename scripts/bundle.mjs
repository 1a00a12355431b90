// Bundles the CLI into dist/ (one chunk per lazily loaded command): `hop3` starts in a fraction of the
// time Node needs to resolve hundreds of separate modules. Type checking is `npm run typecheck`'s job.
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

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
  // Loaded only by the docker builder and container deployer; dockerode has optional native parts.
  external: ['dockerode', 'tar-fs'],
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
