import { readFileSync } from 'node:fs';

export interface ProcStat {
  /** One-letter state: R, S, D, T, Z (zombie: exited, not yet reaped)... */
  state: string;
  /** Process group id. */
  pgrp: number;
  /** Start time (field 22 of /proc/<pid>/stat): tells our process from a later one that reused its pid. */
  ticks: number;
}

/** What /proc says of a pid, or undefined when there is no such process. */
export function procStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgrp = Number(fields[2]);
    const ticks = Number(fields[19]);
    return Number.isInteger(pgrp) && Number.isInteger(ticks) ? { state: fields[0] ?? '?', pgrp, ticks } : undefined;
  } catch {
    return undefined;
  }
}
