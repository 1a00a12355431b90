import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { freePort, Sandbox } from '../helpers/sandbox.js';
import { containersOf, describeDocker, docker, LOCAL_IMAGES, runInImage, sweepTestResources } from './docker-engine.js';

const APPS = ['dkt-packages', 'dkt-port'];

describeDocker('hop3.toml keys the docker builder and the container target act on (real daemon)', () => {
  afterAll(() => sweepTestResources(APPS));

  // Needs Debian's apt mirror from inside a build (as `apt-get update` on this host does).
  it('[build] packages are installed in the build stage, [run] packages in the final image, with apt', async () => {
    await using sandbox = await Sandbox.create();
    const dir = await sandbox.fixture('node-web', 'dkt-packages');
    const pkg = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'));
    pkg.scripts.build = 'jq -n "6*7" > built-with-jq.txt'; // runs in the build stage: jq must be there
    await writeFile(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
    await writeFile(path.join(dir, 'hop3.toml'), '[build]\npackages = ["jq"]\n\n[run]\npackages = ["bc"]\n');

    const output = path.join(sandbox.dir, 'packages.json');
    const build = await sandbox.hop3(['build', dir, '--builder', 'docker', '--output', output], { env: LOCAL_IMAGES });
    expect(build.exitCode, build.all).toBe(0);
    expect(build.stderr).toMatch(/apt-get install -y --no-install-recommends jq/);
    const artifact = JSON.parse(await readFile(output, 'utf8'));
    expect(artifact.metadata.system_packages).toEqual({ build: ['jq'], run: ['bc'] });

    const image = artifact.location;
    expect((await runInImage(image, 'cat /app/built-with-jq.txt')).output.trim()).toBe('42');
    expect((await runInImage(image, 'echo "6*7" | bc')).output.trim()).toBe('42'); // as the app's user
    const jq = await runInImage(image, 'command -v jq');
    expect(jq.code, 'a build package stays in the build stage').not.toBe(0);
    expect((await runInImage(image, 'ls -A /var/lib/apt/lists | grep -v -x partial | wc -l')).output.trim()).toBe('0'); // apt's lists are not kept
    expect((await runInImage(image, 'id -u')).output.trim()).toBe('10001');
  });

  it('[port] web is the container port: PORT inside, the host\'s port mapped to it; $PORT references and generated values reach the container', async () => {
    await using sandbox = await Sandbox.create();
    const dir = path.join(sandbox.dir, 'apps', 'dkt-port');
    await mkdir(dir, { recursive: true });
    // Listens on 8000 whatever PORT says, as a Docker-first app does; prints its environment into its log.
    await writeFile(path.join(dir, 'Procfile'), 'web: env | sort; exec python3 -m http.server 8000 --bind 0.0.0.0\n');
    await writeFile(path.join(dir, 'index.html'), '<p>fixed port</p>\n');
    await writeFile(path.join(dir, 'hop3.toml'), '[port]\nweb = 8000\n\n[env]\nNITRO_PORT = "$PORT"\nSECRET_KEY = { generate = "hex", length = 16 }\n');

    const port = await freePort();
    const deploy = await sandbox.hop3(['deploy', dir, '--builder', 'docker', '--port', String(port)], { env: LOCAL_IMAGES });
    expect(deploy.exitCode, deploy.all).toBe(0);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('<p>fixed port</p>\n');

    const [container] = await containersOf('dkt-port');
    const info = await docker.getContainer(container!).inspect();
    const status = JSON.parse((await sandbox.hop3(['status', 'dkt-port', '--json'])).stdout);
    const hostPort = String(status.slot_port ?? port);
    expect(info.HostConfig.PortBindings).toEqual({ '8000/tcp': [{ HostIp: '127.0.0.1', HostPort: hostPort }] });
    const env = Object.fromEntries((info.Config.Env ?? []).map((entry) => entry.split(/=(.*)/s).slice(0, 2)));
    expect(env).toMatchObject({ PORT: '8000', NITRO_PORT: '8000', SECRET_KEY: expect.stringMatching(/^[0-9a-f]{32}$/) });
    const stored = JSON.parse(await readFile(path.join(sandbox.home, 'apps', 'dkt-port', 'generated-env.json'), 'utf8'));
    expect(stored.SECRET_KEY).toBe(env.SECRET_KEY);
    expect(await readFile(path.join(sandbox.home, 'apps', 'dkt-port', 'BUILD_ARTIFACT.json'), 'utf8')).not.toContain(env.SECRET_KEY);

    expect((await sandbox.hop3(['stop', 'dkt-port'])).exitCode).toBe(0);
    expect(await containersOf('dkt-port')).toEqual([]);
  });
});
