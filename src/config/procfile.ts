import { Hop3Error } from '../errors.js';
import { CronEntryError, parseCronEntry, type CronEntry } from './cron-schedule.js';

/**
 * Every Procfile name hop3 gives a meaning to, and that meaning (`hop3 plan` shows them). Any other
 * name is an ordinary long-running worker, hook-like or not (see hookLikeName).
 */
export const PROCFILE_NAMES = {
  web: 'the web worker: gets $PORT, must pass the health check, receives the traffic',
  wsgi: 'a Python WSGI app (`module:callable`), served by hop3\'s WSGI server as the web worker',
  jwsgi: 'a web worker (Hop3\'s name), run as written',
  rwsgi: 'a web worker (Hop3\'s name), run as written',
  static: 'a folder served at /',
  release: 'runs once per new release, before it goes live; a failure aborts the deploy (Heroku\'s release phase)',
  cron: 'with a schedule (`cron: */5 * * * * command`), a scheduled job run by hop3\'s supervisor; cron1:, cron-nightly:... too (Piku); without one, an ordinary worker',
  prebuild: 'a build hook, run before dependencies are installed',
  postbuild: 'a build hook, run after dependencies are installed',
  prerun: 'runs before the workers at every start of a release (as [run] before-run)',
} as const satisfies Record<string, string>;

export type ProcfileName = keyof typeof PROCFILE_NAMES;

/** Procfile names that are build or start hooks, never workers (Hop3 semantics). */
export const PROCFILE_HOOKS = ['prebuild', 'postbuild', 'prerun'] as const satisfies readonly ProcfileName[];
export const WEB_WORKER_NAMES = ['web', 'wsgi', 'jwsgi', 'rwsgi'] as const satisfies readonly ProcfileName[];

export function isWebWorker(name: string): boolean {
  return (WEB_WORKER_NAMES as readonly string[]).includes(name);
}

/** `cron`, `cron1`, `cron-nightly`, `cron_x`: names Piku and Hop3 read as cron entries. */
export function isCronName(name: string): boolean {
  return /^cron(?:\d*|[-_].*)$/.test(name);
}

/**
 * A name other platforms run as a hook (Dokku's predeploy/postdeploy, Piku's preflight, npm-style
 * pre*\/post*) that hop3 does not: it runs as an ordinary long-running worker, and `hop3 plan` and the
 * build say so.
 */
export function hookLikeName(name: string): boolean {
  return !(name in PROCFILE_NAMES) && /^(?:pre|post|before|after)[-_]?[a-z]/i.test(name);
}

export interface Procfile {
  /** Worker name -> command, hooks, `release`, scheduled jobs and `static` excluded, in file order. */
  workers: Record<string, string>;
  hooks: Partial<Record<(typeof PROCFILE_HOOKS)[number], string>>;
  /** `release: <command>`: run once per new release before it goes live. */
  release?: string;
  /** `cron: m h dom mon dow command` (and cron1:, cron-x:...), by name. */
  scheduled: Record<string, CronEntry>;
  /** `static: <dir>` maps URL `/` to that folder. */
  staticDir?: string;
  /** 1-based line number of each entry, for messages. */
  lines: Record<string, number>;
}

/** Process names: they name log files and go into commands, so no shell metacharacters. */
export const WORKER_NAME = /^[A-Za-z0-9_-]+$/;

/**
 * Hop3's rules: strip lines, skip blanks and `#` comments, split on the first `:`, last duplicate wins.
 * Unlike Hop3 (which crashes), a line without `:` is an error naming the line.
 */
export function parseProcfile(text: string, file = 'Procfile'): Procfile {
  const result: Procfile = { workers: {}, hooks: {}, scheduled: {}, lines: {} };
  text.split(/\r?\n/).forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const fail = (what: string, hint = 'Each Procfile line is `name: command`, e.g. `web: python app.py`; comments start with #.'): never => {
      throw new Hop3Error('CONFIG_PROCFILE_INVALID', `${file}:${lineNo}: ${what}: ${JSON.stringify(raw)}`, { file, hint });
    };
    if (colon <= 0) fail(colon === 0 ? 'missing process name before ":"' : 'expected `name: command`');
    const name = line.slice(0, colon).trim();
    const command = line.slice(colon + 1).trim();
    if (!WORKER_NAME.test(name)) fail(`invalid process name ${JSON.stringify(name)} (letters, digits, "_" and "-")`);
    if (command === '') fail(`empty command for ${name}`);
    result.lines[name] = lineNo;
    // A later line of the same name replaces whatever the earlier one was.
    delete result.workers[name];
    delete result.scheduled[name];
    const entry = isCronName(name) ? cronEntry(command, (what) => fail(what, 'A cron line is `cron: <minute> <hour> <day-of-month> <month> <day-of-week> <command>`, e.g. `cron: */5 * * * * python3 job.py`, or `cron: @daily <command>`.')) : undefined;
    if (entry) {
      result.scheduled[name] = entry;
    } else if ((PROCFILE_HOOKS as readonly string[]).includes(name)) {
      result.hooks[name as (typeof PROCFILE_HOOKS)[number]] = command;
    } else if (name === 'release') {
      result.release = command;
    } else if (name === 'static') {
      result.staticDir = command;
    } else {
      result.workers[name] = command;
    }
  });
  if (result.workers.web !== undefined && result.workers.wsgi !== undefined) {
    throw new Hop3Error('CONFIG_PROCFILE_INVALID', `${file}:${result.lines.wsgi}: "web" and "wsgi" cannot both be defined.`, {
      file,
      hint: 'Keep one web-facing process: remove either the web or the wsgi line.',
    });
  }
  return result;
}

function cronEntry(command: string, fail: (what: string) => never): CronEntry | undefined {
  try {
    return parseCronEntry(command);
  } catch (error) {
    if (error instanceof CronEntryError) fail(error.message);
    throw error;
  }
}

/** What the build (and `hop3 plan`) should tell about a Procfile: names hop3 runs differently from what they may mean elsewhere. */
export function procfileWarnings(procfile: Procfile, file = 'Procfile'): string[] {
  const warnings: string[] = [];
  for (const name of Object.keys(procfile.workers)) {
    const at = `${file}:${procfile.lines[name]}`;
    if (isCronName(name)) warnings.push(`${at}: \`${name}:\` has no schedule, so it runs as an ordinary long-running worker named ${name}; a scheduled job is \`${name}: */5 * * * * <command>\`.`);
    else if (hookLikeName(name)) warnings.push(`${at}: \`${name}:\` is not a hook hop3 knows, so it runs as an ordinary long-running worker (hop3's hooks: prebuild, postbuild, prerun, release).`);
  }
  return warnings;
}
