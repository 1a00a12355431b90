import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ROOT, Sandbox } from './helpers/sandbox.js';

/** The numbers of the `line N ...` lines of a text, in order. */
const numbers = (text: string) => [...text.matchAll(/^(?:\w+ \| )?line (\d+)\b/gm)].map((match) => Number(match[1]));

/** True when the numbers go up by one each time. */
const contiguous = (list: number[]) => list.every((n, i) => i === 0 || n === list[i - 1]! + 1);

async function procfileApp(sandbox: Sandbox, name: string, procfile: string, toml = ''): Promise<string> {
  const app = await sandbox.fixture('procfile-app', name);
  await writeFile(path.join(app, 'Procfile'), procfile);
  if (toml) await writeFile(path.join(app, 'hop3.toml'), toml);
  return app;
}

describe('worker logs: rotated by size by the worker\'s supervisor, after hop3 exits', () => {
  it('rotates a fast worker\'s log, keeps 3 copies with no line lost between them, and tails across them', async () => {
    await using sandbox = await Sandbox.create();
    const maxBytes = 65_536;
    const env = { HOP3_LOG_MAX_BYTES: String(maxBytes) };
    const app = await procfileApp(sandbox, 'spam', 'spam: seq -f "line %.0f" 1 200000; exec sleep 1000\n');
    const deploy = await sandbox.hop3(['deploy', app], { env });
    expect(deploy.exitCode, deploy.all).toBe(0);

    const log = path.join(sandbox.home, 'apps/spam/logs/spam.log');
    // hop3 has exited: the supervisor alone rotates from here on.
    await expect.poll(async () => (await readFile(log, 'utf8').catch(() => '')).includes('line 200000\n'), { timeout: 30_000 }).toBe(true);
    const files = (await readdir(path.dirname(log))).sort();
    expect(files).toEqual(['spam.log', 'spam.log.1', 'spam.log.2', 'spam.log.3']);
    for (const file of files) expect((await stat(path.join(path.dirname(log), file))).size).toBeLessThanOrEqual(maxBytes);

    // Oldest to newest, the kept lines are one unbroken run ending at the last line printed.
    const kept = (await Promise.all(['spam.log.3', 'spam.log.2', 'spam.log.1', 'spam.log'].map((file) => readFile(path.join(path.dirname(log), file), 'utf8')))).join('');
    const keptNumbers = numbers(kept);
    expect(contiguous(keptNumbers)).toBe(true);
    expect(keptNumbers.at(-1)).toBe(200_000);
    expect(keptNumbers.length).toBeGreaterThan((3 * maxBytes) / 'line 200000\n'.length);
    for (const file of files) expect(await readFile(path.join(path.dirname(log), file), 'utf8'), file).toMatch(/^line \d+\n/m); // cut at line ends

    const last = await sandbox.hop3(['logs', 'spam', '--lines', '3']);
    expect(last.stdout).toBe('line 199998\nline 199999\nline 200000');
    // More lines than the current file holds: the tail continues into spam.log.1 and beyond.
    const many = await sandbox.hop3(['logs', 'spam', '--lines', '12000']);
    expect(numbers(many.stdout)).toEqual(Array.from({ length: 12_000 }, (_, i) => 188_001 + i));

    expect((await sandbox.hop3(['stop', 'spam'])).exitCode).toBe(0);
    expect(await sandbox.strayPids()).toEqual([]); // workers and their supervisors carry HOP3_DATA_DIR
  });

  it('follows a log across rotations without losing or repeating a line', async () => {
    await using sandbox = await Sandbox.create();
    const env = { HOP3_LOG_MAX_BYTES: '8192' };
    const pad = 'x'.repeat(250);
    const app = await procfileApp(sandbox, 'ticker', `ticker: i=0; while [ $i -lt 100000 ]; do i=$((i+1)); echo "line $i ${pad}"; sleep 0.01; done\n`);
    expect((await sandbox.hop3(['deploy', app], { env })).exitCode).toBe(0);
    const logs = path.join(sandbox.home, 'apps/ticker/logs');

    const follower = execa(process.execPath, [path.join(ROOT, 'bin/hop3.js'), 'logs', 'ticker', '-f', '--lines', '1'], { env: sandbox.env, reject: false });
    let output = '';
    follower.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // Long enough for several rotations (a line is ~260 bytes, a file 8 KiB).
    await expect.poll(() => output.length, { timeout: 60_000, interval: 200 }).toBeGreaterThan(4 * 8192);
    follower.kill('SIGINT');
    await follower;

    const seen = numbers(output);
    expect(seen.length).toBeGreaterThan(100);
    expect(contiguous(seen), `gap or repeat in ${seen.join(',')}`).toBe(true);
    expect((await readdir(logs)).sort()).toEqual(['ticker.log', 'ticker.log.1', 'ticker.log.2', 'ticker.log.3']);
    expect((await sandbox.hop3(['stop', 'ticker'])).exitCode).toBe(0);
    expect(await sandbox.strayPids()).toEqual([]); // workers and their supervisors carry HOP3_DATA_DIR
  });

  it('keeps the app\'s NODE_OPTIONS for the worker, not for hop3\'s own supervisor', async () => {
    await using sandbox = await Sandbox.create();
    // A preload that only exists for the app would stop any other node process from starting.
    const app = await procfileApp(sandbox, 'nodeopts', 'job: echo "options: $NODE_OPTIONS"; exec sleep 1000\n', '[env]\nNODE_OPTIONS = "--require ./only-in-the-app.cjs"\n');
    const deploy = await sandbox.hop3(['deploy', app]);
    expect(deploy.exitCode, deploy.all).toBe(0);
    await expect.poll(async () => (await sandbox.hop3(['logs', 'nodeopts'])).stdout, { timeout: 10_000 }).toContain('options: --require ./only-in-the-app.cjs');
    const status = JSON.parse((await sandbox.hop3(['status', 'nodeopts', '--json'])).stdout);
    expect(status.running).toBe(true);
    expect((await sandbox.hop3(['stop', 'nodeopts'])).exitCode).toBe(0);
    expect(await sandbox.strayPids()).toEqual([]); // workers and their supervisors carry HOP3_DATA_DIR
  });
});
