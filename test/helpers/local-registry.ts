import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import bcrypt from 'bcryptjs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './sandbox.js';

/** Debian's docker-registry (scripts/setup-engines.sh installs it). */
export const REGISTRY_BIN = process.env.HOP3_TEST_REGISTRY_BIN ?? '/usr/bin/docker-registry';

/**
 * A real Docker registry (distribution 2.x) on 127.0.0.1 with its own config and storage dir, for push/pull tests.
 * Docker treats 127.0.0.0/8 registries as insecure-allowed, so it speaks plain http. Stopped (and its dir removed) on dispose.
 */
export class LocalRegistry implements AsyncDisposable {
  private constructor(
    /** `127.0.0.1:<port>`: what `--registry` and image references name. */
    readonly host: string,
    /** Where its config, storage and log live. */
    readonly dir: string,
    private readonly child: ChildProcess,
    private readonly output: () => string,
    private readonly auth?: { username: string; password: string },
  ) {}

  /** The Authorization header its API wants, when it has a user. */
  private get headers(): Record<string, string> {
    return this.auth ? { Authorization: `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password}`).toString('base64')}` } : {};
  }

  /** `auth`: the registry asks for basic auth (htpasswd, bcrypt) with this one user. */
  static async start(options: { auth?: { username: string; password: string } } = {}): Promise<LocalRegistry> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-registry-'));
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const config = path.join(dir, 'config.yml');
    const htpasswd = path.join(dir, 'htpasswd');
    if (options.auth) await writeFile(htpasswd, `${options.auth.username}:${bcrypt.hashSync(options.auth.password, 5)}\n`);
    await writeFile(
      config,
      [
        'version: 0.1',
        'log:',
        '  level: warn',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${path.join(dir, 'storage')}`,
        '  delete:',
        '    enabled: true',
        'http:',
        `  addr: ${host}`,
        ...(options.auth ? ['auth:', '  htpasswd:', '    realm: hop3-test', `    path: ${htpasswd}`] : []),
        '',
      ].join('\n'),
    );
    let output = '';
    const child = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', resolve);
    });
    const registry = new LocalRegistry(host, dir, child, () => output, options.auth);
    try {
      await spawned;
      await registry.waitReady();
      return registry;
    } catch (error) {
      await registry[Symbol.asyncDispose]();
      throw error;
    }
  }

  /** `GET /v2/` answers 200 (401 with auth) once it serves. */
  private async waitReady(): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`docker-registry exited (${this.child.exitCode}): ${this.output()}`);
      const ok = await fetch(`http://${this.host}/v2/`).then((r) => r.ok || (r.status === 401 && this.auth !== undefined), () => false);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`docker-registry did not answer on ${this.host} within 15 s: ${this.output()}`);
  }

  /** The tags of a repository, as the registry's API lists them. */
  async tags(repository: string): Promise<string[]> {
    const response = await fetch(`http://${this.host}/v2/${repository}/tags/list`, { headers: this.headers });
    if (!response.ok) return [];
    return ((await response.json()) as { tags?: string[] | null }).tags ?? [];
  }

  /** The manifest digest the registry serves for `repository:reference`. */
  async manifestDigest(repository: string, reference: string): Promise<string | undefined> {
    const response = await fetch(`http://${this.host}/v2/${repository}/manifests/${reference}`, {
      method: 'HEAD',
      headers: { ...this.headers, Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
    });
    return response.ok ? (response.headers.get('docker-content-digest') ?? undefined) : undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
