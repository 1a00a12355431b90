import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCount, parsePort } from '../../src/cli/output.js';
import { isHop3Error } from '../../src/errors.js';
import { runCliInProcess } from '../helpers/in-process-cli.js';

function refused(parse: (value: string) => number, value: string): string {
  try {
    parse(value);
  } catch (error) {
    expect(isHop3Error(error, 'CLI_INVALID_OPTION'), String(error)).toBe(true);
    expect((error as { usage: boolean }).usage).toBe(true);
    return (error as Error).message;
  }
  throw new Error(`${JSON.stringify(value)} was accepted`);
}

/** Numbers on the command line are plain decimal digits: what the user typed is the number used. */
describe('numeric options', () => {
  it('--port takes 1-65535 in plain digits', () => {
    expect(['1', '80', '8080', '65535'].map(parsePort)).toEqual([1, 80, 8080, 65535]);
  });

  it.each(['0', '65536', '99999', '-1', '1e4', '0x10', '0o17', '0b1', ' 80', '80 ', '080', '8080.0', '80.5', '+80', '', 'eighty', 'Infinity', 'NaN', '８０', '1_000'])(
    '--port refuses %j',
    (value) => {
      expect(refused(parsePort, value)).toContain(`--port must be a whole number from 1 to 65535, in plain digits (got ${JSON.stringify(value)})`);
    },
  );

  it('--lines takes 0 and up in plain digits', () => {
    expect(['0', '1', '50', '100000'].map(parseCount('--lines'))).toEqual([0, 1, 50, 100000]);
  });

  it.each(['-1', '5e1', '0x32', '050', ' 5', '5.0', '', '1234567890123456', 'all'])('--lines refuses %j', (value) => {
    expect(refused(parseCount('--lines'), value)).toContain(`--lines must be a whole number`);
  });

  it('--jobs takes 1 and up, and says so', () => {
    expect(['1', '8'].map(parseCount('--jobs', { min: 1 }))).toEqual([1, 8]);
    expect(refused(parseCount('--jobs', { min: 1, example: 4 }), '0')).toContain('--jobs must be a whole number, at least 1, of at most 15 digits, in plain digits (got "0")');
  });

  describe('through the real CLI', () => {
    let home: string;
    beforeAll(async () => {
      home = await mkdtemp(path.join(os.tmpdir(), 'hop3-cli-options-'));
    });
    afterAll(() => rm(home, { recursive: true, force: true }));

    it.each([
      [['run', 'ghost', '--port', '1e4'], '--port'],
      [['deploy', '.', '--port', '0x10'], '--port'],
      [['logs', 'ghost', '--lines', '-5'], '--lines'],
    ])('%j exits 2 with CLI_INVALID_OPTION before doing anything', async (args, option) => {
      const result = await runCliInProcess(args, { HOP3_HOME: home });
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain('[CLI_INVALID_OPTION]');
      expect(result.stderr).toContain(`${option} must be a whole number`);
      expect(result.stderr).toContain('hint: Example:');
    });
  });
});
