import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
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

  it('hands out whole lines however the output is cut, and keeps the output byte for byte', async () => {
    const lines: string[] = [];
    const script = "printf 'par'; sleep 0.1; printf 'tial\\nnext\\r\\n'; sleep 0.1; printf '\\n'; printf 'err' >&2; sleep 0.1; printf 'or\\n' >&2; sleep 0.1; printf 'last'";
    const result = await runCommand('/bin/sh', ['-c', script], { env, onLine: (line, stream) => lines.push(`${stream}:${line}`) });
    expect(lines).toEqual(['stdout:partial', 'stdout:next\r', 'stdout:', 'stderr:error', 'stdout:last']);
    expect(result).toMatchObject({ stdout: 'partial\nnext\r\n\nlast', stderr: 'error\n', all: 'partial\nnext\r\n\nerror\nlast' });
  });

  it('reports a non-zero exit without throwing', async () => {
    const result = await runCommand('/bin/sh', ['-c', 'echo bad >&2; exit 3'], { env, cwd: '/tmp' });
    expect(result).toMatchObject({ failed: true, exitCode: 3, reason: 'exit code 3', stderr: 'bad\n', notFound: false });
  });

  it('reports a death by signal', async () => {
    const result = await runCommand('/bin/sh', ['-c', 'kill -s KILL $$'], { env });
    expect(result).toMatchObject({ failed: true, signal: 'SIGKILL', reason: 'killed by SIGKILL', canceled: false, timedOut: false });
    expect(result.exitCode).toBeUndefined();
  });

  it('says when the program does not exist, on PATH or as a path', async () => {
    const result = await runCommand('hop3-no-such-tool', ['--version'], { env });
    expect(result).toMatchObject({ failed: true, notFound: true, reason: 'hop3-no-such-tool is not installed or not on PATH' });
    expect(result.exitCode).toBeUndefined();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-run-'));
    try {
      expect(await runCommand('.venv/bin/pip', ['install'], { env, cwd: dir })).toMatchObject({ failed: true, notFound: true, reason: '.venv/bin/pip is not installed or not on PATH' });
      // Found on the PATH the child gets, not on hop3's.
      expect(await runCommand('sh', ['-c', 'true'], { env: { PATH: dir } })).toMatchObject({ notFound: true });
      expect(await runCommand('sh', ['-c', 'true'], { env: { PATH: `${dir}:/bin` } })).toMatchObject({ failed: false, notFound: false });
      expect(await runCommand('sh', ['-c', 'true'], { env: { PATH: '/etc/passwd' } })).toMatchObject({ notFound: true });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stops a command that runs past its timeout, saying so in seconds', async () => {
    const timed = await runCommand('/bin/sleep', ['10'], { env, timeoutMs: 1000 });
    expect(timed).toMatchObject({ failed: true, timedOut: true, canceled: false, signal: 'SIGTERM', reason: 'timed out after 1 s' });
    expect(timed.durationMs).toBeGreaterThanOrEqual(900);
    expect(timed.durationMs).toBeLessThan(5000);
  });

  it('stops a command when cancelled, and does not start one already cancelled', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const cancelled = await runCommand('/bin/sleep', ['10'], { env, signal: controller.signal, timeoutMs: 60_000 });
    expect(cancelled).toMatchObject({ failed: true, canceled: true, timedOut: false, signal: 'SIGTERM', reason: 'cancelled' });
    expect(cancelled.durationMs).toBeLessThan(5000);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-run-'));
    try {
      const early = await runCommand('/bin/sh', ['-c', 'echo ran > ran'], { env, cwd: dir, signal: AbortSignal.abort() });
      expect(early).toMatchObject({ failed: true, canceled: true, reason: 'cancelled' });
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("gives the child exactly the environment passed, nothing of hop3's own", async () => {
    process.env.HOP3_TEST_PARENT_ONLY = 'leak';
    try {
      const result = await runCommand('/usr/bin/env', [], { env: { PATH: '/usr/bin:/bin', GIVEN: 'yes', IFS: 'x', PWD: '/elsewhere' }, cwd: '/tmp' });
      expect(result.stdout.split('\n').filter(Boolean).sort()).toEqual(['GIVEN=yes', 'IFS=x', 'PATH=/usr/bin:/bin', 'PWD=/elsewhere']);
      const bare = await runCommand('/usr/bin/env', [], { env: { PATH: '/usr/bin:/bin' }, cwd: '/tmp' });
      expect(bare.stdout).toBe('PATH=/usr/bin:/bin\n');
    } finally {
      delete process.env.HOP3_TEST_PARENT_ONLY;
    }
  });

});
