import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { engineGate } from './helpers/engines.js';
import { checkProbes, freePort, Sandbox } from './helpers/sandbox.js';

const describeWithGo = await engineGate('go');

/** A module vendored into the app: the build must use it offline (GOPROXY=off), from cmd/server/. */
const VENDORED: Record<string, string> = {
  'go.mod': 'module example.com/go-web\n\ngo 1.19\n\nrequire example.com/greet v1.0.0\n',
  'vendor/modules.txt': '# example.com/greet v1.0.0\n## explicit; go 1.19\nexample.com/greet\n',
  'vendor/example.com/greet/greet.go': 'package greet\n\n// Hello greets from the vendored module.\nfunc Hello(name string) string { return "hello from " + name + " (vendored greet v1.0.0)" }\n',
  'cmd/server/main.go': [
    'package main',
    '',
    'import (',
    '\t"fmt"',
    '\t"net/http"',
    '\t"os"',
    '',
    '\t"example.com/greet"',
    ')',
    '',
    'func main() {',
    '\thttp.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, greet.Hello("go-web")) })',
    '\tfmt.Println("vendored go-web listening")',
    '\t_ = http.ListenAndServe(os.Getenv("BIND_ADDRESS")+":"+os.Getenv("PORT"), nil)',
    '}',
    '',
  ].join('\n'),
};

describeWithGo('Go apps with the local builder and the process deployer', () => {
  // Go's default cache (the user's) keeps these builds incremental from one run to the next.
  it('builds go-web with the user\'s GOFLAGS into a static bin/app and serves it', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('go-web');
    const port = await freePort();
    const deploy = await sandbox.hop3(['deploy', app, '--port', String(port)], { env: { GOFLAGS: '-tags=hop3tag' } });
    expect(deploy.exitCode, deploy.all).toBe(0);
    expect(deploy.stderr).toContain('toolchain  go (go.mod found)');
    expect(deploy.stderr).toContain('go build -buildvcs=false -o bin/app .  (main package at the module root; CGO_ENABLED=0)');
    expect(deploy.stderr).toContain('go: building . -> bin/app (main package at the module root)');
    expect(deploy.stderr).toMatch(/building bin\/app with go version go1\.\d+.* \(CGO_ENABLED=0\)/);
    await checkProbes(`http://127.0.0.1:${port}/`, 'go-web');
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('hello from go-web (built with -tags=hop3tag)\n');

    const artifact = JSON.parse((await sandbox.hop3(['inspect', 'go-web', '--json'])).stdout);
    const binary = path.join(artifact.runtime.working_dir, 'bin', 'app');
    expect(artifact).toMatchObject({ kind: 'go', runtime: { workers: { web: binary } } });
    const info = await execa('go', ['version', '-m', binary]);
    expect(info.stdout).toMatch(/build\s+CGO_ENABLED=0/);
    expect(info.stdout).toMatch(/build\s+-tags=hop3tag/);

    expect((await sandbox.hop3(['stop', 'go-web'])).exitCode).toBe(0);
    expect(await sandbox.strayPids()).toEqual([]);
  });

  it('builds the only cmd/<name> main package with vendored modules offline (GOPROXY=off) and serves bin/<name>', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('go-web', 'go-vendored');
    for (const file of ['main.go', 'greeting.go', 'greeting_tag.go']) await rm(path.join(app, file));
    for (const [file, text] of Object.entries(VENDORED)) {
      await mkdir(path.dirname(path.join(app, file)), { recursive: true });
      await writeFile(path.join(app, file), text);
    }
    const port = await freePort();
    const deploy = await sandbox.hop3(['deploy', app, '--port', String(port)], { env: { GOPROXY: 'off', GOFLAGS: '' } });
    expect(deploy.exitCode, deploy.all).toBe(0);
    expect(deploy.stderr).toContain('go: building ./cmd/server -> bin/server (main package in cmd/server/), with the vendored modules');
    expect(deploy.stderr).toContain('-mod=vendor');
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('hello from go-web (vendored greet v1.0.0)\n');
    expect((await sandbox.hop3(['stop', 'go-vendored'])).exitCode).toBe(0);

    // Without the vendor folder, the same build needs the network GOPROXY=off forbids: a coded failure with Go's own words.
    await rename(path.join(app, 'vendor'), path.join(app, 'no-vendor'));
    const offline = await sandbox.hop3(['build', app], { env: { GOPROXY: 'off', GOFLAGS: '' } });
    expect(offline.exitCode).toBe(1);
    expect(offline.stderr).toContain('[BUILD_GO_FAILED]');
    expect(offline.stderr).toContain('missing go.sum entry for module providing package example.com/greet');
    expect(offline.stderr).toContain('go mod vendor');

    // The user's GOCACHE reaches Go: one it cannot use is Go's own error, before anything is compiled.
    await rename(path.join(app, 'no-vendor'), path.join(app, 'vendor'));
    const noCache = await sandbox.hop3(['build', app, '--force'], { env: { GOCACHE: 'off' } });
    expect(noCache.exitCode).toBe(1);
    expect(noCache.stderr).toContain('[BUILD_GO_FAILED]');
    expect(noCache.stderr).toContain('GOCACHE=off');
  });
});
