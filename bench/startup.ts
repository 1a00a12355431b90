// Start-up costs of the CLI and of one runCommand call, as medians of repeated runs (run `npm run build` first).
// `npx tsx bench/startup.ts [runs] [other checkout…]`: hop3 --help, a local build until its first `==> building`
// line, and runCommand('/bin/true') in process (what each tool hop3 runs costs before the tool itself). Other
// checkouts (built, with node_modules) are measured in turn with this one, run by run, so they share the load.
// Wall times follow the machine's load; the CPU time hop3's own process used (children excluded) barely does.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { runCommand as RunCommand } from '../src/process/run-command.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 10);
const roots = [ROOT, ...process.argv.slice(3).map((root) => path.resolve(root))];

/** Preloaded into the CLI: writes to fd 3 the CPU time (ms) its process used until it wrote `==> building`, and until exit. */
const CPU_PROBE = `data:text/javascript,${encodeURIComponent(`
import { writeSync } from 'node:fs';
const ms = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const write = process.stderr.write.bind(process.stderr);
let first;
process.stderr.write = (chunk, ...rest) => { if (first === undefined && String(chunk).includes('==> building')) first = ms(); return write(chunk, ...rest); };
process.on('exit', () => writeSync(3, JSON.stringify({ first: first ?? null, total: ms() })));
`)}`;

interface CliTimes {
  /** Wall ms until a line of stderr matched `until`, and until exit. */
  first: number;
  total: number;
  /** CPU ms of hop3's own process until it printed `==> building` (if it did), and until exit. */
  cpuFirst: number | null;
  cpu: number;
}

function timeCli(root: string, args: string[], env: NodeJS.ProcessEnv, until?: RegExp): Promise<CliTimes> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', CPU_PROBE, path.join(root, 'bin/hop3.js'), ...args], { env, stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    let first = NaN;
    let text = '';
    let cpu = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      if (until && Number.isNaN(first) && until.test(text)) first = performance.now() - started;
    });
    (child.stdio[3] as NodeJS.ReadableStream).setEncoding('utf8').on('data', (chunk: string) => (cpu += chunk));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve({ first, total: performance.now() - started, ...cpuOf(cpu) }) : reject(new Error(`hop3 ${args.join(' ')}: exit ${code}\n${text}`))));
  });
}

function cpuOf(report: string): { cpuFirst: number | null; cpu: number } {
  const { first, total } = JSON.parse(report) as { first: number | null; total: number };
  return { cpuFirst: first, cpu: total };
}

async function timeBuild(root: string): Promise<CliTimes> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'hop3-bench-'));
  try {
    return await timeCli(root, ['build', path.join(ROOT, 'fixtures/node-web')], { ...process.env, HOP3_HOME: home }, /==> building/);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

const figures = new Map(roots.map((root) => [root, { help: [] as number[], helpCpu: [] as number[], build: [] as number[], buildCpuFirst: [] as number[], buildCpu: [] as number[], call: [] as number[], callCpu: [] as number[] }]));
const runners = new Map<string, typeof RunCommand>();
for (const root of roots) runners.set(root, ((await import(pathToFileURL(path.join(root, 'src/process/run-command.ts')).href)) as { runCommand: typeof RunCommand }).runCommand);

for (let i = 0; i < runs; i++) {
  for (const root of roots) {
    const f = figures.get(root)!;
    const help = await timeCli(root, ['--help'], process.env);
    f.help.push(help.total);
    f.helpCpu.push(help.cpu);
    if (i % 2 === 0) {
      const build = await timeBuild(root);
      f.build.push(build.first);
      f.buildCpuFirst.push(build.cpuFirst!);
      f.buildCpu.push(build.cpu);
    }
    for (let j = 0; j < 5; j++) {
      const cpu = process.cpuUsage();
      const result = await runners.get(root)!('/bin/true', [], { env: { PATH: process.env.PATH } });
      if (result.failed) throw new Error(result.reason);
      const used = process.cpuUsage(cpu);
      f.call.push(result.durationMs);
      f.callCpu.push((used.user + used.system) / 1000);
    }
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const show = (values: number[]) => `median ${median(values).toFixed(1)} ms, min ${Math.min(...values).toFixed(1)} ms (${values.length})`;
console.log(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
for (const [root, f] of figures) {
  console.log(root);
  console.log(`  hop3 --help                            ${show(f.help)}; CPU ${show(f.helpCpu)}`);
  console.log(`  hop3 build node-web, to "==> building" ${show(f.build)}; CPU ${show(f.buildCpuFirst)}`);
  console.log(`  hop3 build node-web, CPU of hop3 for the whole build     ${show(f.buildCpu)}`);
  console.log(`  runCommand('/bin/true')                ${show(f.call)}; CPU in hop3 ${show(f.callCpu)}`);
}
