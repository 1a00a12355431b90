import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { checkProbes, freePort, Sandbox } from '../helpers/sandbox.js';
import { containersOf, describeDocker, LOCAL_IMAGES, sweepTestResources } from './docker-engine.js';
import { sshEngine } from './ssh-engine.js';

const APP = 'dssh-app';

describeDocker('DOCKER_HOST=ssh:// (a real SSH session running docker system dial-stdio)', () => {
  afterAll(() => sweepTestResources([APP]));

  it('builds with the docker builder and runs the image with the container target through the engine ssh:// names', async () => {
    await using sandbox = await Sandbox.create();
    await using engine = await sshEngine();
    const env = { DOCKER_HOST: engine.host, SSH_AUTH_SOCK: engine.agentSocket };
    const dir = await sandbox.fixture('swap-app', APP);
    const artifact = path.join(sandbox.dir, 'a.json');
    const build = await sandbox.hop3(['build', dir, '--builder', 'docker', '--output', artifact, '--quiet'], { env: { ...LOCAL_IMAGES, ...env } });
    expect(build.exitCode, build.all).toBe(0);
    const afterBuild = engine.sessions();
    expect(afterBuild).toBeGreaterThan(0);

    const port = await freePort();
    const run = await sandbox.hop3(['run', APP, '--artifact', artifact, '--target', 'container', '--port', String(port)], { env: { ...env, HOP3_ROUTER: 'off' } });
    expect(run.exitCode, run.all).toBe(0);
    expect(engine.sessions()).toBeGreaterThan(afterBuild);
    await checkProbes(`http://127.0.0.1:${port}/`, 'swap-app');
    expect(JSON.parse((await sandbox.hop3(['status', APP, '--json'], { env })).stdout)).toMatchObject({ running: true, deployer: 'container' });
    expect((await sandbox.hop3(['stop', APP], { env })).exitCode).toBe(0);
    expect(await containersOf(APP)).toEqual([]);
  });
});
