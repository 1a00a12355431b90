import { Hop3Error } from '../errors.js';

/** Procfile names that are hooks, never workers (Hop3 semantics). */
export const PROCFILE_HOOKS = ['prebuild', 'postbuild', 'prerun'] as const;
export const WEB_WORKER_NAMES = ['web', 'wsgi', 'jwsgi', 'rwsgi'] as const;

export function isWebWorker(name: string): boolean {
  return (WEB_WORKER_NAMES as readonly string[]).includes(name);
}

export interface Procfile {
  /** Worker name -> command, hooks and `static` excluded, in file order. */
  workers: Record<string, string>;
  hooks: Partial<Record<(typeof PROCFILE_HOOKS)[number], string>>;
  /** `static: <dir>` maps URL `/` to that folder. */
  staticDir?: string;
  /** `cron: m h dom mon dow command` (Hop3 runs it through uWSGI; kept so the manifest can say it is not run). */
  cron?: string;
  /** 1-based line number of each entry, for messages. */
  lines: Record<string, number>;
}

/** Process names: they name log files and go into commands, so no shell metacharacters. */
export const WORKER_NAME = /^[A-Za-z0-9_-]+$/;
const CRON_FIELD = /^(\*|\d+|\*\/\d+)$/;

/**
 * Hop3's rules: strip lines, skip blanks and `#` comments, split on the first `:`, last duplicate wins.
 * Unlike Hop3 (which crashes), a line without `:` is an error naming the line.
 */
export function parseProcfile(text: string, file = 'Procfile'): Procfile {
  const result: Procfile = { workers: {}, hooks: {}, lines: {} };
  text.split(/\r?\n/).forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const fail = (what: string): never => {
      throw new Hop3Error('CONFIG_PROCFILE_INVALID', `${file}:${lineNo}: ${what}: ${JSON.stringify(raw)}`, {
        file,
        hint: 'Each Procfile line is `name: command`, e.g. `web: python app.py`; comments start with #.',
      });
    };
    if (colon <= 0) fail(colon === 0 ? 'missing process name before ":"' : 'expected `name: command`');
    const name = line.slice(0, colon).trim();
    const command = line.slice(colon + 1).trim();
    if (!WORKER_NAME.test(name)) fail(`invalid process name ${JSON.stringify(name)} (letters, digits, "_" and "-")`);
    if (command === '') fail(`empty command for ${name}`);
    result.lines[name] = lineNo;
    if (name === 'cron') {
      checkCron(command, fail);
      result.cron = command;
    } else if ((PROCFILE_HOOKS as readonly string[]).includes(name)) {
      result.hooks[name as (typeof PROCFILE_HOOKS)[number]] = command;
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

function checkCron(command: string, fail: (what: string) => never): void {
  const fields = command.split(/\s+/);
  if (fields.length < 6 || !fields.slice(0, 5).every((field) => CRON_FIELD.test(field))) {
    fail('cron entries are `cron: m h dom mon dow command` with each field *, N or */N');
  }
}
