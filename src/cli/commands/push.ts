import { pushArtifact } from '../../app/push-artifact.js';
import { Hop3Error } from '../../errors.js';
import { cliContext } from '../context.js';
import { printJson } from '../output.js';

export interface PushFlags {
  registry?: string;
  store?: string;
  signKey?: string;
  output?: string;
  username?: string;
  passwordStdin?: boolean;
  quiet?: boolean;
  json?: boolean;
}

export async function run(target: string, flags: PushFlags): Promise<number> {
  const ctx = cliContext({ quiet: Boolean(flags.quiet), json: Boolean(flags.json) });
  const credentials = await readCredentials(flags);
  const progress = await ctx.liveProgress();
  const log = progress?.task() ?? ctx.log;
  let result;
  try {
    result = await pushArtifact({ target, registry: flags.registry, store: flags.store, signKey: flags.signKey, output: flags.output, credentials, env: ctx.env, log, signal: ctx.signal });
  } finally {
    progress?.close();
  }
  if (flags.json) {
    printJson({ file: result.file, from: result.from, location: result.artifact.location, build_id: result.artifact.build_id, ...(result.digest ? { digest: result.digest } : {}), ...(result.store ? { store: result.store } : {}) });
    return 0;
  }
  ctx.log.step(`wrote ${result.file}: run it on another host with \`hop3 run ${result.artifact.app_name} --artifact <that file>\``);
  process.stdout.write(`${result.file}\n`);
  return 0;
}

/** `--username` with `--password-stdin` (as `docker login`): the password is read whole from stdin, never from argv. */
async function readCredentials(flags: PushFlags): Promise<{ username: string; password: string } | undefined> {
  if (flags.username === undefined && !flags.passwordStdin) return undefined;
  if (flags.username === undefined || !flags.passwordStdin) {
    throw new Hop3Error('CLI_INVALID_OPTION', '--username and --password-stdin go together.', { usage: true, hint: 'e.g. `echo "$TOKEN" | hop3 push myapp --registry r.example.com --username ci --password-stdin`' });
  }
  if (process.stdin.isTTY) throw new Hop3Error('CLI_INVALID_OPTION', '--password-stdin reads the password from a pipe, and stdin is a terminal.', { usage: true, hint: 'Pipe it in: `cat token | hop3 push ... --password-stdin`.' });
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (password === '') throw new Hop3Error('CLI_INVALID_OPTION', '--password-stdin: stdin was empty.', { usage: true, hint: 'Pipe the password or token in.' });
  return { username: flags.username, password };
}
