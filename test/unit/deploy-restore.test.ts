import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseArtifact, type Artifact } from '../../src/artifact/artifact-file.js';
import { runArtifact } from '../../src/deployers/deploy-app.js';
import type { Deployer, DeployOptions, Started } from '../../src/deployers/deployer.js';
import type { DeployerLoader } from '../../src/deployers/registry.js';
import { Hop3Error, isHop3Error } from '../../src/errors.js';
import type { Logger } from '../../src/log/logger.js';
import { appPaths } from '../../src/state/hop3-home.js';
import { rememberedPort } from '../../src/deployers/port.js';
import { activeReleases, listReleases, type RunState } from '../../src/state/releases.js';
import { freePort } from '../helpers/sandbox.js';

const artifact = (buildId: string): Artifact =>
  parseArtifact({
    schema_version: 1, kind: 'generic', location: `/srv/demo/builds/${buildId}`, builder: 'local', app_name: 'demo', built_at: '2026-01-01T00:00:00Z', build_id: buildId, metadata: {},
    runtime: { env_vars: {}, path_prepend: [], working_dir: '', workers: { web: 'serve' }, before_run: [], static_paths: {}, healthcheck_path: '', healthcheck_timeout: 5 },
  });

/** A deployer that starts nothing: it records each call and fails the deploys of the builds it is told to. */
class ScriptedDeployer implements Deployer {
  readonly name = 'process';
  readonly calls: string[] = [];
  readonly failing = new Set<string>();

  async deploy(target: Artifact, options: DeployOptions): Promise<Started> {
    this.calls.push(`deploy ${target.build_id} (release ${options.release}) on ${options.port === ports.a ? 'port A' : options.port === ports.b ? 'port B' : options.port}`);
    const worker = { name: 'web', id: `worker-of-${target.build_id}` };
    await options.record(worker); // as real deployers do, before the worker would start
    if (this.failing.has(target.build_id)) {
      throw new Hop3Error('DEPLOY_WORKER_EXITED', `Worker web of build ${target.build_id} exited (code 1) before it was ready.`, { hint: 'Check the worker command.', exitCode: 1 });
    }
    return { url: `http://127.0.0.1:${options.port}/`, workers: [worker] };
  }
  async stop(state: RunState): Promise<void> {
    this.calls.push(`stop ${state.artifact.build_id} (release ${state.release})`);
  }
  async status() {
    return [];
  }
  async logs() {}
}

let home: string;
let ports: { a: number; b: number };
let deployer: ScriptedDeployer;
let warnings: string[];
let env: NodeJS.ProcessEnv;
const targets: string[] = [];
const deployers: DeployerLoader = async (target) => (targets.push(target), deployer);
const NO_ROUTER = 'nginx is not installed (or HOP3_ROUTER=off)';
// Every run without the router warns that it is not zero-downtime; the restore's own warnings are the others.
const log: Logger = { step() {}, info() {}, warn: (message) => void (message.startsWith(NO_ROUTER) ? noRouterWarnings++ : warnings.push(message)), output() {} };
let noRouterWarnings = 0;

beforeEach(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'hop3-restore-'));
  env = { HOP3_HOME: home, HOP3_ROUTER: 'off' }; // the restore path is the one without the router (stop, then start)
  ports = { a: await freePort(), b: await freePort() };
  deployer = new ScriptedDeployer();
  warnings = [];
  noRouterWarnings = 0;
  targets.length = 0;
});
afterEach(() => rm(home, { recursive: true, force: true }));

const run = (buildId: string, port: number) => runArtifact({ artifact: artifact(buildId), port, env, log, deployers });
const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => e);

/** Each release as (number, status, build, port, reason). */
const releases = async () => (await listReleases(appPaths('demo', env))).map((r) => ({ release: r.release, status: r.status, build: r.artifact.build_id, port: r.port === ports.a ? 'A' : r.port === ports.b ? 'B' : r.port, ...(r.reason ? { reason: r.reason } : {}) }));

describe('a failed deploy brings the previous release back', () => {
  it('restarts A on its port when B fails, throws B\'s error naming A, and records A as what runs', async () => {
    await run('A', ports.a);
    deployer.failing.add('B');
    const error = await failure(run('B', ports.b));
    expect(isHop3Error(error, 'DEPLOY_WORKER_EXITED'), String(error)).toBe(true);
    expect(error).toMatchObject({ message: 'Worker web of build B exited (code 1) before it was ready.', restoredBuild: 'A', exitCode: 1, hint: 'Check the worker command.' });
    expect(deployer.calls).toEqual(['deploy A (release 1) on port A', 'stop A (release 1)', 'deploy B (release 2) on port B', 'deploy A (release 1) on port A']);
    expect(targets.every((target) => target === 'process')).toBe(true);
    expect(await releases()).toEqual([
      { release: 1, status: 'live', build: 'A', port: 'A' },
      { release: 2, status: 'failed', build: 'B', port: 'B', reason: 'Worker web of build B exited (code 1) before it was ready.' },
    ]);
    const [running] = await activeReleases(appPaths('demo', env));
    expect(running).toMatchObject({ release: 1, url: `http://127.0.0.1:${ports.a}/`, workers: [{ name: 'web', id: 'worker-of-A' }] });
    expect(await rememberedPort(appPaths('demo', env))).toBe(ports.a); // B's port claim was given back
    expect(warnings).toEqual(['new release failed; restarting release 1 (build A)']);
    expect(noRouterWarnings).toBe(2);
  });

  it('throws the original error, without restoredBuild, and warns when A cannot be restarted either', async () => {
    await run('A', ports.a);
    deployer.failing.add('B').add('A');
    const error = await failure(run('B', ports.b));
    expect(isHop3Error(error, 'DEPLOY_WORKER_EXITED'), String(error)).toBe(true);
    expect((error as Hop3Error).message).toBe('Worker web of build B exited (code 1) before it was ready.');
    expect((error as Hop3Error).restoredBuild).toBeUndefined();
    expect(deployer.calls).toEqual(['deploy A (release 1) on port A', 'stop A (release 1)', 'deploy B (release 2) on port B', 'deploy A (release 1) on port A']);
    expect(warnings).toEqual([
      'new release failed; restarting release 1 (build A)',
      'could not restart the previous release: Worker web of build A exited (code 1) before it was ready.',
    ]);
    // Nothing runs, and the records say so.
    expect(await releases()).toEqual([
      { release: 1, status: 'failed', build: 'A', port: 'A', reason: 'Worker web of build A exited (code 1) before it was ready.' },
      { release: 2, status: 'failed', build: 'B', port: 'B', reason: 'Worker web of build B exited (code 1) before it was ready.' },
    ]);
  });

  it('restores nothing when nothing ran before', async () => {
    deployer.failing.add('B');
    const error = await failure(run('B', ports.b));
    expect(isHop3Error(error, 'DEPLOY_WORKER_EXITED'), String(error)).toBe(true);
    expect((error as Hop3Error).restoredBuild).toBeUndefined();
    expect(deployer.calls).toEqual(['deploy B (release 1) on port B']);
    expect(warnings).toEqual([]);
    expect(await releases()).toEqual([{ release: 1, status: 'failed', build: 'B', port: 'B', reason: 'Worker web of build B exited (code 1) before it was ready.' }]);
  });

  it('retires A when B starts', async () => {
    await run('A', ports.a);
    await run('B', ports.b);
    expect(deployer.calls).toEqual(['deploy A (release 1) on port A', 'stop A (release 1)', 'deploy B (release 2) on port B']);
    expect(await releases()).toEqual([
      { release: 1, status: 'retired', build: 'A', port: 'A', reason: 'replaced by release 2' },
      { release: 2, status: 'live', build: 'B', port: 'B' },
    ]);
  });
});
