import { describe, expect, it } from 'vitest';
import { parseArtifact } from '../../src/artifact/artifact-file.js';
import { workerEnv } from '../../src/deployers/worker-env.js';
import { isHop3Error } from '../../src/errors.js';
import { appPaths } from '../../src/state/hop3-home.js';

const artifact = (env_vars: Record<string, string>) =>
  parseArtifact({
    schema_version: 1, kind: 'generic', location: '/srv/demo', builder: 'local', app_name: 'demo', built_at: '2026-01-01T00:00:00Z', build_id: 'b1', metadata: {},
    runtime: { env_vars, path_prepend: ['/srv/demo/bin'], working_dir: '', workers: { web: 'serve' }, before_run: [], static_paths: {}, healthcheck_path: '', healthcheck_timeout: 5 },
  });
const paths = appPaths('demo', { HOP3_HOME: '/home/h3' });

describe('a process worker\'s environment', () => {
  it('expands $PORT, hop3\'s variables, the app\'s own and generated values at run time; the host\'s are not looked at', () => {
    const env = workerEnv(artifact({ NITRO_PORT: '$PORT', URL: 'http://$BIND_ADDRESS:${NITRO_PORT}/$APP', KEY: 'k=$SECRET', WHO: '$USER', HOME: '/ignored' }), {
      base: { PATH: '/usr/bin', USER: 'alice' },
      paths,
      worker: 'web',
      port: 4321,
      generated: { SECRET: 's3cr3t' },
    });
    expect(env).toMatchObject({
      NITRO_PORT: '4321',
      URL: 'http://127.0.0.1:4321/demo',
      KEY: 'k=s3cr3t',
      SECRET: 's3cr3t',
      WHO: '$USER', // left as written: the same app runs in a container, without the host's environment
      USER: 'alice',
      HOME: '/home/h3/apps/demo/data', // hop3's, whatever [env] said
      PATH: '/srv/demo/bin:/usr/bin',
      PORT: '4321',
    });
  });

  it('refuses, with a coded error, a value that expansion makes too large for any process', () => {
    const big = 'x'.repeat(100 * 1024);
    const error = (() => {
      try {
        return workerEnv(artifact({ BIG: big, TWICE: '$BIG$BIG' }), { base: {}, paths, worker: 'web', port: 1 });
      } catch (e) {
        return e;
      }
    })();
    expect(isHop3Error(error, 'DEPLOY_ENV_INVALID'), String(error)).toBe(true);
    expect((error as Error).message).toMatch(/^demo: with its \$references expanded, TWICE: /);
  });
});
