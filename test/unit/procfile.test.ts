import { describe, expect, it } from 'vitest';
import { procfileEntries } from '../../src/config/procfile-entries.js';
import { hookLikeName, isCronName, parseProcfile, PROCFILE_NAMES, procfileWarnings } from '../../src/config/procfile.js';

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

  it('rejects bad names, empty commands, web with wsgi, and malformed schedules', () => {
    expect(() => parseProcfile('my web: x')).toThrow(/invalid process name/);
    expect(() => parseProcfile('web:')).toThrow(/empty command/);
    expect(() => parseProcfile('web: a\nwsgi: app:app')).toThrow(/cannot both be defined/);
    expect(() => parseProcfile('web: a\ncron: 61 * * * * x')).toThrow(/Procfile:2: invalid schedule "61 \* \* \* \*": .*minute: 61/);
    expect(() => parseProcfile('cron: */5 * * * echo')).toThrow(/5 schedule fields then the command/);
    expect(() => parseProcfile('cron: 0 */5 * * * * echo')).toThrow(/5 fields .*no seconds/);
    expect(() => parseProcfile('cron: @reboot ./x')).toThrow(/@reboot is not a schedule hop3 runs/);
    expect(() => parseProcfile('cron1: 0 0 * * *')).toThrow(/then the command/);
  });

  it('reads release and scheduled cron entries apart from workers; cron with a plain command is a worker', () => {
    const procfile = parseProcfile(['web: serve', 'release: ./migrate', 'cron: */5 * * * *   python3  job.py', 'cron-nightly: @daily ./backup', 'cron2: python3 x.py', 'crontab: ./x'].join('\n'));
    expect(procfile.release).toBe('./migrate');
    expect(procfile.scheduled).toEqual({ cron: { schedule: '*/5 * * * *', command: 'python3  job.py' }, 'cron-nightly': { schedule: '@daily', command: './backup' } });
    expect(procfile.workers).toEqual({ web: 'serve', cron2: 'python3 x.py', crontab: './x' });
    // The last line of a name wins, whatever kind either was.
    expect(parseProcfile('cron: * * * * * a\ncron: b').workers).toEqual({ cron: 'b' });
    expect(parseProcfile('cron: b\ncron: * * * * * a').scheduled).toEqual({ cron: { schedule: '* * * * *', command: 'a' } });
    expect(parseProcfile('cron: b\ncron: * * * * * a').workers).toEqual({});
  });

  it('warns about cron entries without a schedule and hook-like names it runs as workers', () => {
    const procfile = parseProcfile('web: serve\ncron: python3 x.py\npredeploy: ./migrate\npostdeploy: ./notify\nworker: ./w\nrelease: ./r');
    const warnings = procfileWarnings(procfile, 'hop3/Procfile');
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/^hop3\/Procfile:2: `cron:` has no schedule, so it runs as an ordinary long-running worker named cron/);
    expect(warnings[1]).toMatch(/^hop3\/Procfile:3: `predeploy:` is not a hook hop3 knows/);
  });

  it('has one list of the names it gives meaning to', () => {
    expect(Object.keys(PROCFILE_NAMES).sort()).toEqual(['cron', 'jwsgi', 'postbuild', 'prebuild', 'prerun', 'release', 'rwsgi', 'static', 'web', 'wsgi']);
    expect(['cron', 'cron1', 'cron-nightly', 'cron_x'].every(isCronName)).toBe(true);
    expect(['crontab', 'cronos', 'xcron'].some(isCronName)).toBe(false);
    expect(['predeploy', 'postdeploy', 'preflight', 'before-start'].every(hookLikeName)).toBe(true);
    expect(['prerun', 'prebuild', 'release', 'worker', 'presto'].some(hookLikeName)).toBe(true); // presto reads like a hook: a warning, never an error
    expect(['prerun', 'prebuild', 'release', 'worker'].some(hookLikeName)).toBe(false);
  });

  it('gives hop3 plan each line\'s role: release and scheduled jobs apart, cron without a schedule and hook-like names as workers', () => {
    const procfile = parseProcfile(['web: serve', 'release: ./migrate', 'cron: */5 * * * * ./job', 'cron2: ./plain', 'predeploy: ./x', 'preflight: ./y'].join('\n'));
    expect(procfileEntries(procfile).map(({ line, name, role }) => [line, name, role])).toEqual([
      [1, 'web', 'web'],
      [2, 'release', 'release'],
      [3, 'cron', 'cron'],
      [4, 'cron2', 'worker'],
      [5, 'predeploy', 'worker'],
      [6, 'preflight', 'worker'],
    ]);
    const notes = procfileEntries(procfile).map((entry) => entry.note);
    expect(notes[2]).toContain('scheduled job at "*/5 * * * *"');
    expect(notes[3]).toContain('no schedule');
    expect(notes[5]).toContain('means nothing to hop3');
  });
});
