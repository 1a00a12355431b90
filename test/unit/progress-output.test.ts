import { describe, expect, it } from 'vitest';
import type { AppBuildOutcome } from '../../src/app/build-apps.js';
import { appLabels, buildSummary, outcomeJson } from '../../src/cli/build-summary.js';
import { progressMode } from '../../src/cli/context.js';
import { LiveProgress } from '../../src/cli/live-progress.js';
import { Hop3Error } from '../../src/errors.js';
import { streamLogger, TIME_OF_DAY_PREFIX } from '../../src/log/logger.js';

/** A terminal that keeps what was written, and replays cursor-up + erase-below to show the screen as the user sees it. */
class FakeTerminal {
  chunks: string[] = [];
  columns = 40;
  write(chunk: string) {
    this.chunks.push(chunk);
    return true;
  }
  screen(): string[] {
    const lines: string[] = [];
    for (const chunk of this.chunks) {
      const erase = /^\x1b\[(\d+)A\r\x1b\[J/.exec(chunk);
      if (erase) lines.splice(lines.length - Number(erase[1]));
      const rest = erase ? chunk.slice(erase[0].length) : chunk;
      lines.push(...rest.split('\n').slice(0, -1));
    }
    return lines;
  }
}

describe('plain log lines', () => {
  it('put the time of day, then the app label, before each line; one write per line', () => {
    const writes: string[] = [];
    const log = streamLogger({ write: (chunk: string) => writes.push(chunk) } as unknown as NodeJS.WritableStream, {
      prefix: '[web] ',
      clock: () => new Date(2025, 0, 2, 3, 4, 5, 67),
    });
    log.step('installing dependencies');
    log.output('added 3 packages');
    log.warn('careful');
    expect(writes).toEqual(['03:04:05.067 [web] ==> installing dependencies\n', '03:04:05.067 [web]     added 3 packages\n', '03:04:05.067 [web] warning: careful\n']);
    expect(writes[0]!.replace(TIME_OF_DAY_PREFIX, '')).toBe('[web] ==> installing dependencies\n');
  });

  it('label apps padded to the longest name', () => {
    const labels = appLabels(['node-web', 'py']);
    expect(labels.get('node-web')).toBe('[node-web] ');
    expect(labels.get('py')).toBe('[py]       ');
  });
});

describe('live progress on a terminal', () => {
  it('scrolls steps, keeps one line per running task with its step, elapsed time and last output, and erases it when done', () => {
    let now = 0;
    const terminal = new FakeTerminal();
    const progress = new LiveProgress(terminal, { now: () => now, frameMs: 60_000 });
    const web = progress.task('[web] ');
    const api = progress.task('[api] ');
    web.step('installing dependencies');
    now = 2500;
    web.output('\x1b[32madded 52 packages\x1b[0m\r');
    api.step('creating virtualenv');
    expect(terminal.screen()).toEqual([
      '[web] ==> installing dependencies',
      '[api] ==> creating virtualenv',
      '⠋ [web] installing dependencies 2.5s │…',
      '⠋ [api] creating virtualenv 0.0s',
    ]);
    expect(terminal.screen().every((line) => [...line].length <= terminal.columns - 1)).toBe(true);

    web.end();
    api.info('pip says hello');
    expect(terminal.screen()).toEqual(['[web] ==> installing dependencies', '[api] ==> creating virtualenv', '[api] pip says hello', '⠋ [api] creating virtualenv 0.0s']);

    progress.close();
    api.step('after the end'); // a late line still prints, with no region under it
    expect(terminal.screen()).toEqual(['[web] ==> installing dependencies', '[api] ==> creating virtualenv', '[api] pip says hello', '[api] ==> after the end']);
  });

  it('shows the tool output without its colours, unless quiet', () => {
    const terminal = new FakeTerminal();
    terminal.columns = 80;
    const loud = new LiveProgress(terminal, { now: () => 0, frameMs: 60_000 });
    const task = loud.task();
    task.step('npm ci');
    task.output('\x1b[32madded 52 packages\x1b[0m');
    task.info('x'); // any redraw shows the latest output line
    expect(terminal.screen().at(-1)).toBe('⠋ npm ci 0.0s │ added 52 packages');
    loud.close();

    const quietTerminal = new FakeTerminal();
    const quiet = new LiveProgress(quietTerminal, { now: () => 0, frameMs: 60_000, quiet: true });
    const silent = quiet.task();
    silent.step('npm ci');
    silent.output('added 52 packages');
    silent.info('x');
    expect(quietTerminal.screen().at(-1)).toBe('⠋ npm ci 0.0s');
    quiet.close();
  });
});

describe('progress mode', () => {
  it('is live on a terminal only, unless CI, a dumb terminal or HOP3_PROGRESS says otherwise', () => {
    expect(progressMode({}, { isTTY: true })).toBe('live');
    expect(progressMode({}, { isTTY: false })).toBe('plain');
    expect(progressMode({ CI: 'true' }, { isTTY: true })).toBe('plain');
    expect(progressMode({ TERM: 'dumb' }, { isTTY: true })).toBe('plain');
    expect(progressMode({ HOP3_PROGRESS: 'plain' }, { isTTY: true })).toBe('plain');
    expect(progressMode({ HOP3_PROGRESS: 'live' }, { isTTY: false })).toBe('live');
    expect(() => progressMode({ HOP3_PROGRESS: 'fancy' }, { isTTY: true })).toThrow(expect.objectContaining({ code: 'CLI_INVALID_OPTION', usage: true }));
  });
});

describe('summary of several builds', () => {
  const source = (app: string) => ({ app, dir: `/src/${app}` });
  const startedAt = new Date('2025-01-01T00:00:00Z');
  const outcomes: AppBuildOutcome[] = [
    { source: source('node-web'), startedAt, durationMs: 3210, ok: true, result: { artifact: { builder: 'docker', build_id: 'b-1' }, artifactFile: '/h/b-1.json', reused: false } as never },
    { source: source('api'), startedAt, durationMs: 90, ok: true, result: { artifact: { builder: 'local', build_id: 'b-0' }, artifactFile: '/h/b-0.json', reused: true } as never },
    { source: { ...source('site'), builder: 'nix' }, startedAt, durationMs: 40, ok: false, error: new Hop3Error('CONFIG_PROCFILE_INVALID', 'Procfile:1: bad', { hint: 'fix it' }) },
    { source: source('bug'), startedAt, durationMs: 5, ok: false, error: new TypeError('oops') },
  ];

  it('is a table with the builder, the result (built, reused or failed), the build id or the error code, and the time; then the totals', () => {
    expect(buildSummary(outcomes).split('\n')).toEqual([
      'app       builder  result  build id / error          time',
      'node-web  docker   built   b-1                      3.2 s',
      'api       local    reused  b-0                      0.1 s',
      'site      nix      failed  CONFIG_PROCFILE_INVALID  0.0 s',
      'bug       local    failed  INTERNAL                 0.0 s',
      '1 built, 1 reused, 2 failed: site, bug',
      '',
    ]);
  });

  it('is, in JSON, the artifact or the error of each app', () => {
    expect(outcomeJson(outcomes[0]!)).toMatchObject({ app: 'node-web', result: 'built', builder: 'docker', build_id: 'b-1', artifact_file: '/h/b-1.json', started_at: '2025-01-01T00:00:00.000Z', duration_ms: 3210 });
    expect(outcomeJson(outcomes[1]!)).toMatchObject({ app: 'api', result: 'reused', build_id: 'b-0' });
    expect(outcomeJson(outcomes[2]!)).toMatchObject({ app: 'site', result: 'failed', builder: 'nix', error: { code: 'CONFIG_PROCFILE_INVALID', message: 'Procfile:1: bad', hint: 'fix it' } });
    expect(outcomeJson(outcomes[3]!, 'local')).toMatchObject({ result: 'failed', error: { code: 'INTERNAL', message: 'oops' } });
  });
});
