// No-op deploy and code-only redeploy, each ÷ a cold deploy of the same app, for python-web and node-web:
// local builder, process deployer, behind the router when nginx is there (as a user's deploy is).
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../test/helpers/sandbox.js';
import { body, duration, expectSuccess, hop3, median, repeat, Sandbox, spread, verdict, type Figure, type Row } from '../harness.js';

const APPS = [
  { lang: 'python', fixture: 'python-web', code: 'app.py', greeting: "greet('python-web')" },
  { lang: 'node', fixture: 'node-web', code: 'server.js', greeting: "greet('node-web')" },
] as const;

/** Per app: a cold Python deploy pays ensurepip (8 s here on a quiet day). */
const BUDGET_MS = 100_000;

interface Times {
  cold: number;
  noop: number;
  /** Until the changed code answers on the public port (the old release drains after that, inside the command). */
  code: number;
  codeCommand: number;
}

async function deployRun(app: (typeof APPS)[number], run: number): Promise<Times> {
  await using sandbox = await Sandbox.create();
  const name = `bench-deploy-${app.lang}`;
  const dir = await sandbox.fixture(app.fixture, name);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  try {
    const cold = expectSuccess(await hop3(sandbox, ['deploy', dir, '--port', String(port), '--quiet']), `cold deploy of ${app.fixture}`);
    if (!(await body(url)).includes(`hello from ${app.fixture}`)) throw new Error(`${app.fixture} does not answer on ${url} after its deploy`);
    const noop = expectSuccess(await hop3(sandbox, ['deploy', dir, '--quiet']), `unchanged redeploy of ${app.fixture}`);
    if (!(await body(url)).includes(`hello from ${app.fixture}`)) throw new Error(`${app.fixture} stopped answering after an unchanged redeploy`);

    const file = path.join(dir, app.code);
    const changed = `${app.fixture} r${run}`;
    await writeFile(file, (await readFile(file, 'utf8')).replace(app.greeting, `greet('${changed}')`));
    const start = performance.now();
    const command = hop3(sandbox, ['deploy', dir, '--quiet']);
    let code = NaN;
    let settled = false;
    void command.then(
      () => (settled = true),
      () => (settled = true),
    );
    while (Number.isNaN(code) && performance.now() - start < 300_000) {
      if ((await body(url)).includes(`hello from ${changed}`)) code = performance.now() - start;
      else if (settled) break;
      else await sleep(20);
    }
    const redeploy = expectSuccess(await command, `code-only redeploy of ${app.fixture}`);
    // Settled between two polls: the command's own time is when it answered at the latest.
    if (Number.isNaN(code) && (await body(url)).includes(`hello from ${changed}`)) code = redeploy.ms;
    if (Number.isNaN(code)) throw new Error(`the changed ${app.code} never answered on ${url}`);
    return { cold: cold.ms, noop: noop.ms, code, codeCommand: redeploy.ms };
  } finally {
    await hop3(sandbox, ['stop', name]).catch(() => undefined);
  }
}

export const deploys: Figure = {
  id: 'deploys',
  async run(bench) {
    const rows: Row[] = [];
    for (const app of APPS) {
      const times = await repeat(bench, BUDGET_MS, (run) => deployRun(app, run + 1));
      const runs = times.length;
      const pick = (key: keyof Times) => times.map((t) => t[key]);
      const [cold, noop, code] = [median(pick('cold')), median(pick('noop')), median(pick('code'))];
      rows.push({
        figure: `no-op deploy ÷ cold deploy, ${app.lang} (${app.fixture})`,
        hop3: `no-op ${duration(noop)}`,
        reference: `cold ${duration(cold)}`,
        ratio: noop / cold,
        goal: '≤ 0.05 and ≤ 250 ms',
        result: verdict(noop / cold <= 0.05 && noop <= 250),
        note: `median of ${runs}, each in a fresh HOP3_HOME; command wall time. Cold ${spread(pick('cold'))}; no-op ${spread(pick('noop'))}.`,
      });
      rows.push({
        figure: `code-only redeploy ÷ cold deploy, ${app.lang} (${app.fixture})`,
        hop3: `code-only ${duration(code)}`,
        reference: `cold ${duration(cold)}`,
        ratio: code / cold,
        goal: '≤ 0.2',
        result: verdict(code / cold <= 0.2),
        note: `until the changed code answers on the public port; ${spread(pick('code'))} (the whole command, old release's drain included: ${duration(median(pick('codeCommand')))}).`,
      });
    }
    return rows;
  },
};
