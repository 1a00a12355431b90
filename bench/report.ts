// The table `npm run bench` prints, the machine it ran on, and the section of bench/README.md that keeps the latest one.
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { packageRoot } from '../src/package-root.js';
import type { Row } from './harness.js';

export const README = path.join(packageRoot, 'bench', 'README.md');
const START = '<!-- bench:latest:start (written by `npm run bench`) -->';
const END = '<!-- bench:latest:end -->';

export interface Machine {
  date: string;
  cpus: string;
  ram: string;
  node: string;
  docker: string;
  nix: string;
  load: string;
}

async function versionOf(file: string, args: string[]): Promise<string> {
  const result = await execa(file, args, { reject: false, timeout: 10_000 });
  return result.exitCode === 0 ? result.stdout.trim() : 'not available';
}

export async function machine(): Promise<Machine> {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpus: `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown'}`,
    ram: `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    node: process.version,
    docker: await versionOf('docker', ['version', '--format', 'Engine {{.Server.Version}} (API {{.Server.APIVersion}})']),
    nix: await versionOf('nix', ['--version']),
    load: loadAverage(),
  };
}

export const loadAverage = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' ');

function ratio(row: Row): string {
  return row.ratio === undefined || !Number.isFinite(row.ratio) ? '—' : row.ratio.toFixed(row.ratio < 0.1 ? 3 : 2);
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Markdown: readable as it is on a terminal, and what the README keeps. */
export function table(rows: readonly Row[]): string {
  const lines = ['| figure | hop3 | reference | ratio | goal | result |', '|---|---|---|---|---|---|'];
  for (const row of rows) {
    const result = row.result === 'missed' || row.result === 'failed' ? `**${row.result}**` : row.result;
    lines.push(`| ${[row.figure, row.hop3, row.reference, ratio(row), row.goal, result].map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}

export function notes(rows: readonly Row[]): string {
  return rows
    .filter((row) => row.note)
    .map((row) => `- ${row.figure}: ${row.note}`)
    .join('\n');
}

export function machineLine(m: Machine, loadAfter: string, minutes: number): string {
  return [
    `Run ${m.date} on ${m.cpus}, ${m.ram} RAM; Node ${m.node}; Docker ${m.docker}; ${m.nix}.`,
    `Load average ${m.load} at the start, ${loadAfter} at the end (the machine is shared); the run took ${minutes.toFixed(1)} min.`,
  ].join('\n');
}

/** Replace the README's latest-table section (or add it after the first paragraph) with this run's. */
export async function updateReadme(section: string): Promise<void> {
  const text = await readFile(README, 'utf8');
  const block = `${START}\n${section.trim()}\n${END}`;
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  const next =
    start >= 0 && end > start
      ? `${text.slice(0, start)}${block}${text.slice(end + END.length)}`
      : text.replace(/\n\n/, `\n\n${block}\n\n`);
  await writeFile(README, next);
}
