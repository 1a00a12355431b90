import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { underLoad } from '../helpers/load.js';
import { freePort, Sandbox } from '../helpers/sandbox.js';
import { engineGate } from '../helpers/engines.js';
import { LOCAL_IMAGES, sweepTestResources } from './docker-engine.js';

const APP = 'dks-swap';
const describeDockerRouted = await engineGate('docker', 'nginx');

describeDockerRouted('container releases behind the nginx router', () => {
  afterAll(() => sweepTestResources([APP]));

  it('swaps 10 redeploys of a container app under load with no failed request and no socket error', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('static-site', APP);
    const page = (n: number) => writeFile(path.join(app, 'index.html'), `<h1>hello from static-site v${n}</h1>\n`);
    const port = await freePort();
    const deploy = (extra: string[] = []) => sandbox.hop3(['deploy', app, '--builder', 'docker', '--quiet', ...extra], { env: LOCAL_IMAGES });
    await page(1);
    const first = await deploy(['--port', String(port)]);
    expect(first.exitCode, first.all).toBe(0);
    const { load } = await underLoad(`http://127.0.0.1:${port}/`, async () => {
      for (let n = 2; n <= 11; n++) {
        await page(n);
        const next = await deploy();
        expect(next.exitCode, next.all).toBe(0);
      }
    });
    console.log(`container app, 10 redeploys: ${load.requests} requests, ${load.failures} failed, ${load.socketErrors} socket errors; probe ${load.probes - load.probeFailures}/${load.probes} ok, longest outage ${load.longestOutageMs} ms`);
    if (load.failures + load.probeFailures > 0) console.log((await readFile(path.join(sandbox.home, 'router', 'error.log'), 'utf8')).split('\n').filter((l) => !/connect\(\) failed \(111|temporarily disabled/.test(l)).slice(-30).join('\n'));
    expect(load.requests).toBeGreaterThan(100);
    expect({ failures: load.failures, socketErrors: load.socketErrors, probeFailures: load.probeFailures }).toEqual({ failures: 0, socketErrors: 0, probeFailures: 0 });
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toContain('v11');
    const status = JSON.parse((await sandbox.hop3(['status', APP, '--json'])).stdout) as { release: number; deployer: string; running: boolean };
    expect(status).toMatchObject({ release: 11, deployer: 'container', running: true });
    expect((await sandbox.hop3(['stop', APP])).exitCode).toBe(0);
  }, 900_000);
});
