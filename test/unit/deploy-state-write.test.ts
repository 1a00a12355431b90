import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseArtifact } from '../../src/artifact/artifact-file.js';
import type { Deployer } from '../../src/deployers/deployer.js';
import { runArtifact } from '../../src/deployers/deploy-app.js';
import { isHop3Error } from '../../src/errors.js';
import { silentLogger } from '../../src/log/logger.js';
import type { RunState } from '../../src/state/releases.js';

const artifact = parseArtifact({
  schema_version: 1, kind: 'generic', location: '/srv/app', builder: 'local', app_name: 'writefail', built_at: '2026-11-27T00:00:00Z', build_id: 'b1', metadata: {},
  runtime: { env_vars: {}, path_prepend: [], working_dir: '', workers: { clock: 'sleep 100' }, before_run: [], static_paths: {}, healthcheck_path: '', healthcheck_timeout: 5 },
});

describe('a release record that cannot be written once workers run', () => {
  let home: string;
  afterEach(() => rm(home, { recursive: true, force: true }));

  it('stops the workers it started and reports STATE_WRITE_FAILED', async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'hop3-writefail-'));
    const stopped: RunState[] = [];
    // A real file-system fault on demand: once the worker "runs", the releases dir becomes a file.
    const deployer: Deployer = {
      name: 'fake',
      async deploy(_artifact, options) {
        const worker = { name: 'clock', id: '4242' };
        await options.record(worker);
        await rm(options.paths.releases, { recursive: true, force: true });
        await writeFile(options.paths.releases, 'not a directory');
        return { url: null, workers: [worker] };
      },
      async stop(state) {
        stopped.push(state);
      },
      async status() {
        return [];
      },
      async logs() {},
    };
    const error = await runArtifact({ artifact, env: { ...process.env, HOP3_HOME: home, HOP3_ROUTER: 'off' }, log: silentLogger, target: 'process', deployers: async () => deployer }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isHop3Error(error, 'STATE_WRITE_FAILED'), String(error)).toBe(true);
    expect(stopped.map((s) => s.workers.map((w) => w.id))).toEqual([['4242']]);
  });
});
