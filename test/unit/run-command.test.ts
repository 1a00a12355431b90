import { describe, expect, it } from 'vitest';
import { runCommand } from '../../src/process/run-command.js';

const env = { PATH: process.env.PATH };

describe('runCommand', () => {
  it('returns output, interleaved and per stream, with live lines', async () => {
    const lines: string[] = [];
    const result = await runCommand('/bin/sh', ['-c', 'echo one; echo two >&2; printf three'], { env, onLine: (line, stream) => lines.push(`${stream}:${line}`) });
    expect(result).toMatchObject({ failed: false, exitCode: 0, stdout: 'one\nthree', stderr: 'two\n' });
    expect(result.all).toContain('two');
    expect(lines.sort()).toEqual(['stderr:two', 'stdout:one', 'stdout:three']);
  });

  it('reports a non-zero exit without throwing', async () => {
    const result = await runCommand('/bin/sh', ['-c', 'echo bad >&2; exit 3'], { env, cwd: '/tmp' });
    expect(result).toMatchObject({ failed: true, exitCode: 3, reason: 'exit code 3', stderr: 'bad\n', notFound: false });
  });

  it('says when the program does not exist', async () => {
    const result = await runCommand('hop3-no-such-tool', ['--version'], { env });
    expect(result).toMatchObject({ failed: true, notFound: true, reason: 'hop3-no-such-tool is not installed or not on PATH' });
  });

  it('stops a command that runs past its timeout, or when cancelled', async () => {
    const timed = await runCommand('/bin/sleep', ['10'], { env, timeoutMs: 200 });
    expect(timed).toMatchObject({ failed: true, timedOut: true, signal: 'SIGTERM' });
    expect(timed.durationMs).toBeLessThan(5000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const cancelled = await runCommand('/bin/sleep', ['10'], { env, signal: controller.signal });
    expect(cancelled).toMatchObject({ failed: true, canceled: true, reason: 'cancelled' });
  });
});
