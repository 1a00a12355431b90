// Stands in for hop3 (run with tsx): runs a tool through runCommand. SIGUSR2 cancels it, then the
// result is printed as JSON; otherwise it waits to be killed.
import { runCommand } from '../../src/process/run-command.js';

const [tool = ''] = process.argv.slice(2);
const controller = new AbortController();
process.on('SIGUSR2', () => controller.abort());
const result = await runCommand('/bin/sh', ['-c', tool], { env: { PATH: process.env.PATH }, signal: controller.signal });
process.stdout.write(JSON.stringify(result));
