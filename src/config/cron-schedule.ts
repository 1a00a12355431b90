import { Cron } from 'croner';

/**
 * Cron schedules, as hop3 reads them everywhere (Procfile, artifact, the supervisor that runs them):
 * croner's 5-field patterns (minute hour day-of-month month day-of-week; `*`, lists, ranges, steps,
 * JAN-DEC/SUN-SAT names, day-of-month OR day-of-week as in Vixie cron) and the nicknames @hourly,
 * @daily/@midnight, @weekly, @monthly, @yearly/@annually. Host local time, minute resolution.
 * worker-supervisor.mjs builds its Cron with the same CRON_OPTIONS.
 */
export const CRON_OPTIONS = { mode: '5-part', domAndDow: false } as const;

/** How a schedule starts (a number, `*`, or a nickname): a Procfile `cron:` line starting so is meant as one. */
const SCHEDULE_START = /^(?:[\d*][^\s]*|@[A-Za-z]+)$/;
const NICKNAME = /^@[A-Za-z]+$/;
/** A 6th field (seconds or years, as some schedulers take) would otherwise run as a command named "*" or "0". */
const EXTRA_FIELD = /^[\d*][\d*,/-]*$/;

export interface CronEntry {
  /** The schedule, fields separated by one space (`*\/5 * * * *`, `@daily`). */
  schedule: string;
  command: string;
}

/** Why a schedule is not one hop3 can run, or undefined when it is. */
export function cronScheduleProblem(schedule: string): string | undefined {
  const fields = schedule.trim().split(/\s+/);
  if (!(fields.length === 5 || (fields.length === 1 && NICKNAME.test(fields[0]!)))) {
    return `a schedule is 5 fields (minute hour day-of-month month day-of-week) or a nickname such as @daily, not ${JSON.stringify(schedule)}`;
  }
  if (fields[0]!.toLowerCase() === '@reboot') return '@reboot is not a schedule hop3 runs: a command to run at start is an ordinary worker (a non-web worker that exits 0 is finished)';
  try {
    new Cron(fields.join(' '), { ...CRON_OPTIONS, paused: true });
    return undefined;
  } catch (error) {
    return `invalid schedule ${JSON.stringify(schedule)}: ${(error as Error).message.replace(/^CronPattern: /, '')}`;
  }
}

/**
 * Split `m h dom mon dow command` (or `@daily command`) into its schedule and command. Undefined when
 * the text does not start like a schedule (a plain command); throws a string saying what is wrong
 * with one that does.
 */
export function parseCronEntry(text: string): CronEntry | undefined {
  const tokens = text.trim().split(/\s+/);
  if (!SCHEDULE_START.test(tokens[0] ?? '')) return undefined;
  const count = NICKNAME.test(tokens[0]!) ? 1 : 5;
  if (tokens.length <= count) throw new CronEntryError(`expected ${count === 1 ? 'a nickname' : '5 schedule fields'} then the command, in ${JSON.stringify(text.trim())}`);
  const schedule = tokens.slice(0, count).join(' ');
  const problem = cronScheduleProblem(schedule);
  if (problem) throw new CronEntryError(problem);
  if (EXTRA_FIELD.test(tokens[count]!)) throw new CronEntryError(`schedules have 5 fields (minute resolution, no seconds or years); ${JSON.stringify(tokens[count])} is not a command`);
  return { schedule, command: afterTokens(text.trim(), count) };
}

/** The text after its first `count` whitespace-separated tokens, as written (the command keeps its own spacing). */
function afterTokens(text: string, count: number): string {
  let rest = text;
  for (let i = 0; i < count; i++) rest = rest.replace(/^\S+\s*/, '');
  return rest;
}

/** A bad schedule in an entry that was meant as one: the caller turns it into its own coded error. */
export class CronEntryError extends Error {}

/** The next time the schedule fires after `from` (host local time), or null when it never does. */
export function nextCronRun(schedule: string, from: Date = new Date()): Date | null {
  return new Cron(schedule, { ...CRON_OPTIONS, paused: true }).nextRun(from);
}

/** Whether the schedule fires in the minute of `date` (host local time). */
export function cronMatches(schedule: string, date: Date): boolean {
  const minute = new Date(date);
  minute.setSeconds(0, 0); // croner compares seconds too, and 5-field schedules fire at second 0
  return new Cron(schedule, { ...CRON_OPTIONS, paused: true }).match(minute);
}
