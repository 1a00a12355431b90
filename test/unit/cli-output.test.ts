import { describe, expect, it } from 'vitest';
import { formatError } from '../../src/cli/output.js';
import { Hop3Error } from '../../src/errors.js';
import { formatPath } from '../../src/validation.js';
import { runCliInProcess } from '../helpers/in-process-cli.js';

/** What reaches the terminal from a file or an argument cannot drive it (found by the cli-args fuzzer). */
describe('error output', () => {
  it('escapes control characters in messages and hints, keeping newlines', () => {
    const text = formatError(new Hop3Error('ARTIFACT_INVALID', 'bad \u001b[2J key\u009b\rline\nnext', { hint: 'fix \u0007 it' }), {});
    expect(text).toBe('hop3: bad \\u001b[2J key\\u009b\\u000dline\nnext [ARTIFACT_INVALID]\nhint: fix \\u0007 it\n');
  });

  it('escapes the argument commander refuses', async () => {
    const result = await runCliInProcess(['\u001b[2J\r\n']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("unknown command '\\u001b[2J\\u000d\n'");
    expect(result.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
  });

  it('quotes field path keys that are not plain names, so a path reads one way', () => {
    expect(formatPath(['runtime', 'env_vars', 'A=B'])).toBe('runtime.env_vars.A=B');
    expect(formatPath(['static', '/assets'])).toBe('static./assets');
    expect(formatPath(['runtime', 'workers', '\n'])).toBe('runtime.workers."\\n"');
    expect(formatPath(['env', 'a.b'])).toBe('env."a.b"');
    expect(formatPath(['run', 'workers', ''])).toBe('run.workers.""');
    expect(formatPath(['env', '"A=B"'])).toBe('env."A=B"'); // already quoted by its schema: not twice
    expect(formatPath(['before_run', 1])).toBe('before_run[1]');
  });
});
