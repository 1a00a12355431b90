import { hookLikeName, isCronName, isWebWorker, type Procfile } from './procfile.js';

/** What a Procfile line is to hop3 (the names that have a role are PROCFILE_NAMES in procfile.ts). */
export type ProcfileRole = 'web' | 'worker' | 'hook' | 'release' | 'static' | 'cron';

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
  predeploy: "Dokku's predeploy hook",
  preflight: "Piku's preflight (before dependencies are installed)",
  postdeploy: "Heroku's and Dokku's postdeploy hook",
};

const HOOK_NOTES: Readonly<Record<string, string>> = {
  prebuild: 'build hook: runs before dependencies are installed (local builder)',
  postbuild: 'build hook: runs after the build (local builder)',
  prerun: 'before_run: runs before the workers at every start of a release (after the release phase)',
};

/** Every line of a parsed Procfile, in file order, with what hop3 makes of it. */
export function procfileEntries(procfile: Procfile): ProcfileEntry[] {
  const entries: ProcfileEntry[] = [];
  const add = (name: string, command: string, role: ProcfileRole, note: string) => entries.push({ name, line: procfile.lines[name] ?? 0, command, role, note });
  for (const [name, command] of Object.entries(procfile.workers)) {
    if (isWebWorker(name)) add(name, command, 'web', 'web worker: gets $PORT and the health check');
    else if (isCronName(name)) add(name, command, 'worker', 'ordinary worker: no schedule before the command, so not a scheduled job');
    else if (HOOK_LIKE_NAMES[name]) add(name, command, 'worker', `ordinary worker: ${HOOK_LIKE_NAMES[name]} means nothing to hop3 yet`);
    else if (hookLikeName(name)) add(name, command, 'worker', 'ordinary worker: named like a hook, which means nothing to hop3');
    else add(name, command, 'worker', 'worker');
  }
  for (const [name, command] of Object.entries(procfile.hooks)) add(name, command, 'hook', HOOK_NOTES[name] ?? 'hook');
  if (procfile.staticDir !== undefined) add('static', procfile.staticDir, 'static', 'served at / by the static toolchain');
  if (procfile.release !== undefined) add('release', procfile.release, 'release', 'release phase: runs once per new release, before its workers; a failure aborts the deploy');
  for (const [name, job] of Object.entries(procfile.scheduled)) {
    add(name, job.command, 'cron', `scheduled job at "${job.schedule}" (host local time), run by hop3's supervisor; not by the container target yet`);
  }
  return entries.sort((a, b) => a.line - b.line);
}
