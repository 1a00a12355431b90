import { describe, expect, it } from 'vitest';
import { parseProcfile } from '../../src/config/procfile.js';

describe('Procfile', () => {
  it('follows Hop3 rules: comments, blanks, first colon, last duplicate wins, hooks apart', () => {
    const procfile = parseProcfile(
      ['# comment', '', 'web: python app.py --bind 0.0.0.0:8000 # not a comment', 'worker:  celery -A x', 'worker: rq worker', 'prerun: ./migrate', 'static: public'].join('\n'),
    );
    expect(procfile.workers).toEqual({ web: 'python app.py --bind 0.0.0.0:8000 # not a comment', worker: 'rq worker' });
    expect(procfile.hooks).toEqual({ prerun: './migrate' });
    expect(procfile.staticDir).toBe('public');
    expect(procfile.lines.worker).toBe(5);
  });

  it('names the line of a line without a colon', () => {
    expect(() => parseProcfile('web: ok\n\nthis is not valid\n', 'Procfile')).toThrow(/Procfile:3: expected `name: command`/);
  });

  it('rejects bad names, empty commands, web with wsgi, and malformed cron', () => {
    expect(() => parseProcfile('my web: x')).toThrow(/invalid process name/);
    expect(() => parseProcfile('web:')).toThrow(/empty command/);
    expect(() => parseProcfile('web: a\nwsgi: app:app')).toThrow(/cannot both be defined/);
    expect(() => parseProcfile('cron: every day run')).toThrow(/cron entries/);
    expect(parseProcfile('cron: */5 * * * * echo hi').cron).toBe('*/5 * * * * echo hi');
  });
});
