import { describe, expect, it } from 'vitest';
import { parseSecretOption } from '../../builders/secrets/secret-option.js';
import { secretRequests } from '../../builders/secrets/build-secrets.js';
import type { AppConfig } from '../../src/config/app-config.js';
import { parseAppSettings } from '../../src/config/app-settings.js';
import { Hop3Error, isHop3Error } from '../../src/errors.js';
import type { Logger } from '../../src/log/logger.js';
import { redactor } from '../../src/log/redactor.js';

describe('redactor', () => {
  it('masks every value, longest first, with regex characters taken literally', () => {
    const redact = redactor(['a.b*c', 'a.b*c-longer', 'x']);
    expect(redact.text('got a.b*c-longer and a.b*c and axb')).toBe('got *** and *** and a***b');
    expect(redact.text('aXbbc')).toBe('aXbbc');
  });

  it('masks a multi-line value as a whole and line by line (lines of 4+ characters), and the trimmed value', () => {
    const redact = redactor(['-----BEGIN-----\nabcdef\nxyz\n', ' padded ']);
    expect(redact.text('-----BEGIN-----\nabcdef\nxyz\n')).toBe('***');
    expect(['-----BEGIN-----', 'abcdef', 'xyz'].map(redact.text)).toEqual(['***', '***', 'xyz']);
    expect(redact.text('echo padded')).toBe('echo ***');
  });

  it('with no secret (or only empty ones) changes nothing', () => {
    const log: Logger = { step() {}, info() {}, warn() {}, output() {} };
    for (const redact of [redactor([]), redactor([''])]) {
      expect(redact.logger(log)).toBe(log);
      const error = new Hop3Error('BUILD_HOOK_FAILED', 'x');
      expect(redact.error(error)).toBe(error);
    }
  });

  it('wraps every logger method', () => {
    const lines: string[] = [];
    const log = redactor(['tok']).logger({ step: (m) => lines.push(`step ${m}`), info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`), output: (m) => lines.push(`out ${m}`) });
    log.step('tok');
    log.info('tok');
    log.warn('tok');
    log.output('tok');
    expect(lines).toEqual(['step ***', 'info ***', 'warn ***', 'out ***']);
  });

  it('masks a Hop3Error\'s message, tail, command, hint and stack, keeps its code and fields, drops its cause', () => {
    const error = new Hop3Error('BUILD_HOOK_FAILED', 'failed: tok', { outputTail: 'tok\nok', command: 'sh -c tok', hint: 'tok?', exitCode: 3, usage: true, cause: new Error('tok') });
    const redacted = redactor(['tok']).error(error) as Hop3Error;
    expect(isHop3Error(redacted, 'BUILD_HOOK_FAILED')).toBe(true);
    expect(redacted).toMatchObject({ outputTail: '***\nok', command: 'sh -c ***', hint: '***?', exitCode: 3, usage: true });
    expect(redacted.message).toBe('failed: ***');
    expect(redacted.cause).toBeUndefined();
    expect(redacted.stack).toMatch(/^Hop3Error: failed: \*\*\*\n\s+at /);
  });

  it('masks another Error in a copy that keeps its name; leaves one without secrets as it is', () => {
    const abort = new DOMException('stopped tok', 'AbortError');
    const redacted = redactor(['tok']).error(abort) as Error;
    expect(redacted).not.toBe(abort);
    expect(redacted.name).toBe('AbortError');
    expect(redacted.message).toBe('stopped ***');
    const clean = new Error('nothing here');
    expect(redactor(['tok']).error(clean)).toBe(clean);
  });
});

describe('--secret', () => {
  it.each([
    ['id=NPM_TOKEN', { id: 'NPM_TOKEN', source: { env: 'NPM_TOKEN' } }],
    ['id=NPM_TOKEN,env=CI_NPM', { id: 'NPM_TOKEN', source: { env: 'CI_NPM' } }],
    ['id=KEY,src=/run/key.pem', { id: 'KEY', source: { file: '/run/key.pem' } }],
    ['src=/run/a=b,id=KEY', { id: 'KEY', source: { file: '/run/a=b' } }],
    ['id=KEY,source=/k', { id: 'KEY', source: { file: '/k' } }],
  ])('%s', (spec, expected) => {
    expect(parseSecretOption(spec)).toEqual({ ...expected, origin: `--secret ${spec}` });
  });

  it('resolves a relative src against the current directory', () => {
    expect(parseSecretOption('id=K,src=key.txt').source).toEqual({ file: `${process.cwd()}/key.txt` });
  });

  it.each([
    ['NPM_TOKEN', 'unknown field "NPM_TOKEN"'],
    ['env=X', 'it names no id'],
    ['id=', 'id needs a value'],
    ['id=A,id=B', 'id is given twice'],
    ['id=A,src=f,source=g', 'src is given twice'],
    ['id=9lives', 'not a valid secret id'],
    ['id=HOP3_X', 'HOP3_ namespace'],
    ['id=A,type=file', 'unknown field "type"'],
  ])('refuses %s (usage error)', (spec, why) => {
    try {
      parseSecretOption(spec);
      expect.unreachable();
    } catch (error) {
      expect(isHop3Error(error, 'CLI_INVALID_OPTION') && error.usage).toBe(true);
      expect((error as Error).message).toContain(why);
    }
  });

  it('adds [build] secrets (from the variable of the same name); --secret wins for the same id', () => {
    const config: AppConfig = { dir: '/app', settings: parseAppSettings('[build]\nsecrets = ["A", "B"]\n', 'hop3.toml') };
    expect(secretRequests([parseSecretOption('id=B,src=/b'), parseSecretOption('id=C')], config)).toEqual([
      { id: 'A', source: { env: 'A' }, origin: 'hop3.toml: [build] secrets' },
      { id: 'B', source: { file: '/b' }, origin: '--secret id=B,src=/b' },
      { id: 'C', source: { env: 'C' }, origin: '--secret id=C' },
    ]);
  });
});
