import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox.js';
import { describeDocker, LOCAL_IMAGES, runInImage, sweepTestResources } from './docker-engine.js';

const APPS = ['dkc-python', 'dkc-node'];

/** Output lines of the build step whose instruction matches, up to the next step (none when it came from the cache). */
function stepOutput(stderr: string, instruction: RegExp): string[] {
  const lines = stderr.split('\n').map((line) => line.replace(/^\d\d:\d\d:\d\d\.\d{3} /, '')); // plain lines are dated when not on a terminal
  const start = lines.findIndex((line) => /^ {4}Step \d+\/\d+ : /.test(line) && instruction.test(line));
  expect(start, `no step matching ${instruction} in:\n${stderr}`).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((line, i) => i > start && (/^ {4}Step \d+\/\d+ : /.test(line) || line.startsWith('==> ')));
  return lines.slice(start + 1, end).filter((line) => line.trim() !== '');
}

describeDocker('docker builder: dependency layers and the engine cache (real daemon)', () => {
  afterAll(() => sweepTestResources(APPS));

  it.each([
    { fixture: 'python-web', app: 'dkc-python', install: /RUN (if \[ -f \/tmp\/hop3-network\/env\.sh \]; then \. \/tmp\/hop3-network\/env\.sh; fi;\s+)?python3 -m venv/, code: 'app.py', deps: 'requirements.txt', ran: /Successfully installed hop3-greeting/ },
    { fixture: 'node-web', app: 'dkc-node', install: /RUN set -e;\s+(if \[ -f \/tmp\/hop3-network\/env\.sh \]; then \. \/tmp\/hop3-network\/env\.sh; fi;\s+)?if \[ -n "\$HOP3_PACKAGE_MANAGER" \]/, code: 'server.js', deps: 'package.json', ran: /added 1 package/ },
  ])('$fixture: a code-only change reuses the install from the cache and says so; a dependency change reinstalls', async ({ fixture, app, install, code, deps, ran }) => {
    await using sandbox = await Sandbox.create();
    const dir = await sandbox.fixture(fixture, app);
    const build = async () => {
      const output = path.join(sandbox.dir, `artifact-${Date.now()}.json`);
      const result = await sandbox.hop3(['build', dir, '--builder', 'docker', '--output', output], { env: LOCAL_IMAGES });
      expect(result.exitCode, result.all).toBe(0);
      return { stderr: result.stderr, artifact: JSON.parse(await readFile(output, 'utf8')) };
    };
    // Dependency files no other build has used: the first install really runs.
    const changeDeps = async (nonce: string) => {
      const file = path.join(dir, deps);
      const text = await readFile(file, 'utf8');
      await writeFile(file, deps === 'package.json' ? JSON.stringify({ ...JSON.parse(text), description: nonce }, null, 2) : `${text}# ${nonce}\n`);
    };
    await changeDeps(`first ${process.pid} ${Date.now()}`);
    const first = await build();
    expect(first.stderr).toMatch(/dependencies installed from .*first/);
    expect(stepOutput(first.stderr, install).join('\n')).toMatch(ran);

    await writeFile(path.join(dir, code), `${await readFile(path.join(dir, code), 'utf8')}\n${code.endsWith('.py') ? '#' : '//'} code-only change\n`);
    const second = await build();
    expect(second.artifact.build_id).not.toBe(first.artifact.build_id);
    expect(stepOutput(second.stderr, install)).toEqual([]); // nothing ran: the layer came from the cache
    const summary = /==> docker build: (\d+) of (\d+) steps from cache/.exec(second.stderr);
    expect(summary, second.stderr).not.toBeNull();
    const [cached, steps] = [Number(summary![1]), Number(summary![2])];
    expect(second.artifact.metadata.build_cache).toEqual({ steps, cached_steps: cached });
    // Without SOURCE_DATE_EPOCH or --check, nothing asks for a reproducible image: no export and load of it.
    expect(second.stderr).not.toMatch(/normalised image/);
    // What must rerun after a code change: COPY of the code (and node's build-script step; python's removal of the
    // network files' copy, when a CA bundle is configured, as on this host), the final COPY, the LABEL.
    expect(steps - cached).toBeLessThanOrEqual(fixture === 'node-web' ? 4 : second.stderr.includes('.hop3-network') ? 4 : 3);
    expect((await runInImage(second.artifact.location, `tail -n 1 /app/${code}`)).output).toContain('code-only change');

    await changeDeps(`second ${process.pid} ${Date.now()}`);
    const third = await build();
    expect(stepOutput(third.stderr, install).join('\n')).toMatch(ran);
    expect(third.artifact.metadata.build_cache.cached_steps).toBeLessThan(cached);
  });
});
