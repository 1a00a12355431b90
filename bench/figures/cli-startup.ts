// `hop3 --help` and `hop3 status` ÷ `node -e 0`: what hop3 adds to Node's own start-up. Interleaved runs;
// wall time follows the machine's load, so the CPU time of each process is reported beside it.
import { expectSuccess, HOP3_BIN, median, Sandbox, timedNode, type Figure, type NodeTimed, type Row } from '../harness.js';

const RUNS = 15;

export const cliStartup: Figure = {
  id: 'cli',
  async run() {
    await using sandbox = await Sandbox.create();
    const commands = { node: ['-e', '0'], help: [HOP3_BIN, '--help'], status: [HOP3_BIN, 'status'] };
    const results: Record<keyof typeof commands, NodeTimed[]> = { node: [], help: [], status: [] };
    for (let run = 0; run < RUNS; run++) {
      for (const [name, args] of Object.entries(commands) as [keyof typeof commands, string[]][]) {
        results[name].push(expectSuccess(await timedNode(args, { env: sandbox.env }), `node ${args.join(' ')}`));
      }
    }
    const wall = (name: keyof typeof commands) => median(results[name].map((r) => r.ms));
    const cpu = (name: keyof typeof commands) => median(results[name].map((r) => r.cpuMs));
    const show = (name: keyof typeof commands) => `${wall(name).toFixed(0)} ms (CPU ${cpu(name).toFixed(0)} ms)`;
    const row = (name: 'help' | 'status', figure: string): Row => ({
      figure,
      hop3: show(name),
      reference: `\`node -e 0\` ${show('node')}`,
      ratio: wall(name) / wall('node'),
      goal: 'close to `node -e 0` (reported)',
      result: 'reported',
      note: `median of ${RUNS} interleaved runs, wall (CPU of the process itself); hop3 adds ${(wall(name) - wall('node')).toFixed(0)} ms wall, ${(cpu(name) - cpu('node')).toFixed(0)} ms CPU${name === 'status' ? ' (an empty HOP3_HOME)' : ''}.`,
    });
    return [row('help', '`hop3 --help` ÷ `node -e 0`'), row('status', '`hop3 status` ÷ `node -e 0`')];
  },
};
