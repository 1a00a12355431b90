import { describe, expect, it } from 'vitest';
import { cronMatches, cronScheduleProblem, nextCronRun, parseCronEntry } from '../../src/config/cron-schedule.js';

/** A local time (schedules are read in host local time). */
const at = (year: number, month: number, day: number, hour = 0, minute = 0, second = 0) => new Date(year, month - 1, day, hour, minute, second);

describe('cron schedules', () => {
  it('match 5 fields: *, values, lists, ranges and steps, at minute resolution', () => {
    expect(cronMatches('* * * * *', at(2026, 3, 4, 5, 6, 59))).toBe(true);
    expect(cronMatches('*/5 * * * *', at(2026, 3, 4, 5, 10, 30))).toBe(true);
    expect(cronMatches('*/5 * * * *', at(2026, 3, 4, 5, 11))).toBe(false);
    expect(cronMatches('1,2,30-32 * * * *', at(2026, 3, 4, 5, 31))).toBe(true);
    expect(cronMatches('1,2,30-32 * * * *', at(2026, 3, 4, 5, 33))).toBe(false);
    expect(cronMatches('10-40/15 * * * *', at(2026, 3, 4, 5, 25))).toBe(true);
    expect(cronMatches('10-40/15 * * * *', at(2026, 3, 4, 5, 45))).toBe(false);
    expect(cronMatches('0 9-17/4 * * *', at(2026, 3, 4, 13, 0))).toBe(true);
    expect(cronMatches('0 9-17/4 * * *', at(2026, 3, 4, 15, 0))).toBe(false);
    expect(cronMatches('0 0 1 JAN,jul *', at(2026, 7, 1))).toBe(true);
    expect(cronMatches('0 0 1 JAN,jul *', at(2026, 6, 1))).toBe(false);
  });

  it('read day names and 0/7 as Sunday, and day-of-month OR day-of-week when both are set (Vixie cron)', () => {
    expect(cronMatches('0 9 * * MON-FRI', at(2026, 1, 5, 9))).toBe(true); // a Monday
    expect(cronMatches('0 9 * * MON-FRI', at(2026, 1, 4, 9))).toBe(false); // a Sunday
    expect(cronMatches('0 0 * * 0', at(2026, 1, 4))).toBe(true);
    expect(cronMatches('0 0 * * 7', at(2026, 1, 4))).toBe(true);
    expect(cronMatches('0 0 13 * 5', at(2026, 2, 13))).toBe(true); // the 13th
    expect(cronMatches('0 0 13 * 5', at(2026, 1, 2))).toBe(true); // a Friday
    expect(cronMatches('0 0 13 * 5', at(2026, 1, 3))).toBe(false);
  });

  it('give the next run, across hours, days and month ends, and read nicknames', () => {
    expect(nextCronRun('*/5 * * * *', at(2026, 1, 1, 10, 2, 30))).toEqual(at(2026, 1, 1, 10, 5));
    expect(nextCronRun('*/5 * * * *', at(2026, 1, 1, 10, 5, 0))).toEqual(at(2026, 1, 1, 10, 10)); // strictly after
    expect(nextCronRun('30 23 * * *', at(2026, 1, 31, 23, 45))).toEqual(at(2026, 2, 1, 23, 30));
    expect(nextCronRun('0 0 31 * *', at(2026, 2, 1))).toEqual(at(2026, 3, 31)); // February has no 31st
    expect(nextCronRun('@hourly', at(2026, 1, 1, 10, 2))).toEqual(at(2026, 1, 1, 11, 0));
    expect(nextCronRun('@daily', at(2026, 1, 1, 10, 2))).toEqual(at(2026, 1, 2));
    expect(nextCronRun('@weekly', at(2026, 1, 1))).toEqual(at(2026, 1, 4)); // Sunday
  });

  it('say what is wrong with a schedule', () => {
    expect(cronScheduleProblem('*/5 * * * *')).toBeUndefined();
    expect(cronScheduleProblem('60 * * * *')).toMatch(/minute: 60/);
    expect(cronScheduleProblem('* 24 * * *')).toMatch(/hour: 24/);
    expect(cronScheduleProblem('* * 0 * *')).toMatch(/invalid schedule/);
    expect(cronScheduleProblem('* * * 13 *')).toMatch(/invalid schedule/);
    expect(cronScheduleProblem('5-1 * * * *')).toMatch(/larger than/);
    expect(cronScheduleProblem('*/0 * * * *')).toMatch(/stepping/);
    expect(cronScheduleProblem('* * * *')).toMatch(/5 fields/);
    expect(cronScheduleProblem('0 * * * * *')).toMatch(/5 fields/);
    expect(cronScheduleProblem('@sometimes')).toMatch(/invalid schedule/);
    expect(cronScheduleProblem('@reboot')).toMatch(/ordinary worker/);
  });

  it('split a Procfile entry into schedule and command, and leave a plain command alone', () => {
    expect(parseCronEntry('*/5 * * * * python3 job.py --flag "a  b"')).toEqual({ schedule: '*/5 * * * *', command: 'python3 job.py --flag "a  b"' });
    expect(parseCronEntry('@daily ./backup')).toEqual({ schedule: '@daily', command: './backup' });
    expect(parseCronEntry('python3 x.py')).toBeUndefined();
    expect(parseCronEntry('./every-5-minutes.sh')).toBeUndefined();
    expect(() => parseCronEntry('* * * * *')).toThrow(/then the command/);
    expect(() => parseCronEntry('0 * * * * * cmd')).toThrow(/no seconds/);
  });
});
