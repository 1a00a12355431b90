import { isWebWorker, type Procfile } from './procfile.js';

/** What a Procfile line is to hop3. */
export type ProcfileRole = 'web' | 'worker' | 'hook' | 'static' | 'cron';

export interface ProcfileEntry {
  name: string;
  /** 1-based line in the Procfile. */
  line: number;
  command: string;
  role: ProcfileRole;
  /** What hop3 does with it, in a few words. */
  note: string;
}

/**
 * Names that are a hook or a phase on Heroku, Dokku or Hop3, not a process, but mean nothing to hop3 yet: such a
 * line runs as an ordinary worker, and `hop3 plan` says so. Giving one a meaning: handle it in procfile.ts, drop it here.
 */
export const HOOK_LIKE_NAMES: Readonly<Record<string, string>> = {
  release: "Heroku's and Dokku's release phase (once per release, before it goes live)",
  predeploy: "Dokku's predeploy hook",
  postdeploy: "Heroku's and Dokku's postdeploy hook",
};

const HOOK_NOTES: Readonly<Record<string, string>> = {
  prebuild: 'build hook: runs before dependencies are installed (local builder)',
  postbuild: 'build hook: runs after the build (local builder)',
  prerun: 'before_run: runs once before the workers start',
};

/** Every line of a parsed Procfile, in file order, with what hop3 makes of it. */
export function procfileEntries(procfile: Procfile): ProcfileEntry[] {
  const entries: ProcfileEntry[] = [];
  const add = (name: string, command: string, role: ProcfileRole, note: string) => entries.push({ name, line: procfile.lines[name] ?? 0, command, role, note });
  for (const [name, command] of Object.entries(procfile.workers)) {
    if (isWebWorker(name)) add(name, command, 'web', 'web worker: gets $PORT and the health check');
    else if (HOOK_LIKE_NAMES[name]) add(name, command, 'worker', `ordinary worker: ${HOOK_LIKE_NAMES[name]} means nothing to hop3 yet`);
    else add(name, command, 'worker', 'worker');
  }
  for (const [name, command] of Object.entries(procfile.hooks)) add(name, command, 'hook', HOOK_NOTES[name] ?? 'hook');
  if (procfile.staticDir !== undefined) add('static', procfile.staticDir, 'static', 'served at / by the static toolchain');
  if (procfile.cron !== undefined) add('cron', procfile.cron, 'cron', 'checked, not run by hop3 yet: use a worker or the host\'s cron');
  return entries.sort((a, b) => a.line - b.line);
}
