import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BuildContext } from '../../builders/builder.js';
import { contextEntries } from '../../builders/docker/build-context.js';
import { resolveDockerfile } from '../../builders/docker/resolve-dockerfile.js';
import { generateNixExpression } from '../../builders/nix/nix-expression.js';
import { listSourceTree } from '../../builders/source-tree.js';
import { go, goEnv, goPlan } from '../../builders/toolchains/go.js';
import { detectToolchain } from '../../builders/toolchains/registry.js';
import { loadAppConfig } from '../../src/config/app-config.js';
import type { Hop3Error } from '../../src/errors.js';
import { silentLogger } from '../../src/log/logger.js';
import { appPaths } from '../../src/state/hop3-home.js';

const root = await mkdtemp(path.join(os.tmpdir(), 'hop3-go-tc-'));
afterAll(() => rm(root, { recursive: true, force: true }));
let apps = 0;

const GO_MOD = 'module example.com/demo\n\ngo 1.19\n';
const MAIN = 'package main\n\nfunc main() {}\n';

async function app(files: Record<string, string>) {
  const dir = path.join(root, `app-${++apps}`);
  for (const [name, content] of Object.entries({ 'go.mod': GO_MOD, ...files })) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return loadAppConfig(dir);
}

const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as Hop3Error);

describe('go toolchain', () => {
  it('is detected by go.mod, before a package.json of front-end assets', async () => {
    expect(await detectToolchain(await app({ 'main.go': MAIN, 'package.json': '{}', 'requirements.txt': '' }))).toMatchObject({ toolchain: { name: 'go' }, reason: 'go.mod found' });
  });

  it('builds a main package at the module root into bin/app, the web worker (bin/ on PATH)', async () => {
    const config = await app({ 'main.go': `// Package main, says the license header.\n${MAIN}`, 'util_test.go': 'package main_test\n' });
    expect(await goPlan(config)).toEqual({ packages: ['.'], binaries: ['bin/app'], web: 'bin/app', reason: 'main package at the module root' });
    const defaults = await go.defaults(config, { appRoot: '/srv/my app' });
    expect(defaults.workers).toEqual({ web: "'/srv/my app/bin/app'" });
    expect(defaults.path_prepend).toEqual(['/srv/my app/bin']);
    expect(await go.describe!(config)).toBe('go: building . -> bin/app (main package at the module root)');
  });

  it('builds the only cmd/<name> main package into bin/<name>, ignoring libraries and comments that mention package main', async () => {
    const config = await app({
      'lib.go': '/* package main */\n// package main\npackage demo\n',
      'cmd/server/main.go': MAIN,
      'cmd/internal/x.go': 'package internal\n',
      'vendor/modules.txt': '# nothing\n',
    });
    expect(await goPlan(config)).toMatchObject({ packages: ['./cmd/server'], binaries: ['bin/server'], web: 'bin/server' });
    expect((await go.defaults(config, { appRoot: '/app' })).workers).toEqual({ web: '/app/bin/server' });
    expect(await go.describe!(config)).toContain('with the vendored modules');
    expect(await go.planSteps!(config, { HOME: root })).toEqual([
      { run: 'go build -buildvcs=false -mod=vendor -o bin/server ./cmd/server', because: 'main package in cmd/server/; CGO_ENABLED=0; vendored modules', needs: ['go'] },
    ]);
    // The user's GOFLAGS choose their own -mod (and VCS stamping); CGO_ENABLED is theirs too.
    expect((await go.planSteps!(config, { HOME: root, GOFLAGS: '-mod=mod -buildvcs=true', CGO_ENABLED: '1' }))[0]).toMatchObject({ run: 'go build -o bin/server ./cmd/server', because: expect.stringContaining('CGO_ENABLED=1') });
  });

  it('with several cmd/ main packages, builds them all and needs the app to name its web worker', async () => {
    const files = { 'cmd/api/main.go': MAIN, 'cmd/worker/main.go': MAIN };
    const error = await failure(go.defaults(await app(files), { appRoot: '/app' }));
    expect(error).toMatchObject({ code: 'BUILD_GO_NO_MAIN', message: expect.stringContaining('several main packages (./cmd/api, ./cmd/worker)'), hint: expect.stringContaining('web: bin/api') });
    const named = await app({ ...files, Procfile: 'web: api --listen\nworker: worker\n' });
    expect(await goPlan(named)).toMatchObject({ packages: ['./cmd/api', './cmd/worker'], binaries: ['bin/api', 'bin/worker'] });
    expect((await go.defaults(named, { appRoot: '/app' })).workers).toEqual({});
    expect((await go.planSteps!(named, {}))[0]!.run).toBe('go build -buildvcs=false -o bin/ ./cmd/api ./cmd/worker');
  });

  it('refuses a module without a main package (BUILD_GO_NO_MAIN)', async () => {
    const error = await failure(goPlan(await app({ 'lib.go': 'package demo\n', 'cmd/README.md': 'none' })));
    expect(error).toMatchObject({ code: 'BUILD_GO_NO_MAIN', message: expect.stringContaining('no main package at its root or in cmd/<name>/') });
  });

  it('passes the user\'s Go settings through, builds portable binaries by default, and keeps caches in HOP3_HOME without a HOME', () => {
    const user = { HOME: '/home/u', GOFLAGS: '-tags=x', GOPROXY: 'off', GOCACHE: '/c' };
    expect(goEnv(user)).toEqual({ ...user, CGO_ENABLED: '0' });
    expect(goEnv({ HOME: '/home/u', CGO_ENABLED: '1' })).toEqual({ HOME: '/home/u', CGO_ENABLED: '1' });
    expect(goEnv({ HOP3_HOME: '/h3' })).toEqual({ HOP3_HOME: '/h3', CGO_ENABLED: '0', GOCACHE: '/h3/cache/go-build', GOPATH: '/h3/cache/go' });
  });

  it('says Go is missing when go is not on PATH (BUILD_GO_MISSING), before building anything', async () => {
    const config = await app({ 'main.go': MAIN });
    const error = await failure(go.installLocal({ appRoot: config.dir, config, env: { PATH: path.join(root, 'no-such-dir'), HOME: root }, log: silentLogger }));
    expect(error).toMatchObject({ code: 'BUILD_GO_MISSING', message: expect.stringContaining('go is not installed or not on PATH'), hint: expect.stringContaining('apt-get install golang-go') });
  });

  it('has no Nix template: the nix builder says so and what to do instead', async () => {
    const error = await failure(generateNixExpression(go, await app({ 'main.go': MAIN }), 'demo'));
    expect(error).toMatchObject({ code: 'BUILD_NIX_NO_TEMPLATE', message: 'hop3 has no Nix template for the go toolchain.', hint: expect.stringContaining('--builder local or --builder docker') });
  });

  it('generates docker/go.Dockerfile: a Go build image of its own, what to build, and the user\'s module settings as build args', async () => {
    const config = await app({ 'cmd/api/main.go': MAIN, 'cmd/worker/main.go': MAIN, Procfile: 'web: api\n' });
    const resolve = async (env: NodeJS.ProcessEnv, toml?: string) => {
      if (toml !== undefined) await writeFile(path.join(config.dir, 'hop3.toml'), toml);
      const fresh = await loadAppConfig(config.dir);
      const sourceEntries = await listSourceTree(config.dir);
      const ctx: BuildContext = {
        appName: 'demo', sourceDir: config.dir, config: fresh, toolchain: go, paths: appPaths('demo', { HOP3_HOME: path.join(root, 'home') }),
        sourceEntries, sourceDigest: 'digest', buildKey: 'sha256:key', secrets: [], now: new Date(), builtAtSource: 'clock', env, log: silentLogger,
      };
      return resolveDockerfile(ctx, await contextEntries(config.dir, sourceEntries));
    };
    const plain = await resolve({ HOP3_DOCKER_BUILD_IMAGE: 'hop3/base-build:bookworm', GOPROXY: 'https://proxy.example', GOFLAGS: '-mod=mod', GOCACHE: '/host/cache' });
    expect(plain.origin).toBe('docker/go.Dockerfile');
    // The general build image (npm, no Go) is not Go's: its own default stays.
    expect(plain.buildArgs).toEqual({ GO_BUILD: '-o bin/ ./cmd/api ./cmd/worker', GOPROXY: 'https://proxy.example', GOFLAGS: '-mod=mod', BASE_IMAGE: 'debian:bookworm-slim', BUILD_IMAGE: 'golang:1-bookworm' });
    expect(plain.baseImages).toEqual(['golang:1-bookworm', 'debian:bookworm-slim']);
    expect((await resolve({ HOP3_DOCKER_GO_BUILD_IMAGE: 'hop3/base-go:bookworm', HOP3_DOCKER_BASE_IMAGE: 'hop3/base-runtime:bookworm' })).buildArgs).toMatchObject({ BUILD_IMAGE: 'hop3/base-go:bookworm', BASE_IMAGE: 'hop3/base-runtime:bookworm' });
    const own = await resolve({ HOP3_DOCKER_GO_BUILD_IMAGE: 'hop3/base-go:bookworm', GOPROXY: 'off' }, '[docker]\nbuild-image = "golang:1.22"\nbuild-args = { GOPROXY = "https://mine", CGO_ENABLED = "1" }\n');
    expect(own.buildArgs).toMatchObject({ BUILD_IMAGE: 'golang:1.22', GOPROXY: 'https://mine', CGO_ENABLED: '1' });
  });
});
