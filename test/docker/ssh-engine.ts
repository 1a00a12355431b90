import { spawn, execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { timingSafeEqual } from 'node:crypto';
import ssh2 from 'ssh2';

const run = promisify(execFile);

/**
 * An SSH server on 127.0.0.1 that runs what the docker CLI runs for DOCKER_HOST=ssh://: `docker system dial-stdio`
 * (the real command, piped to the session), for one key held by an ssh-agent of its own. hop3 then reaches the
 * local engine exactly as it would reach a remote one.
 */
export async function sshEngine(): Promise<{ host: string; agentSocket: string; sessions: () => number } & AsyncDisposable> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-ssh-'));
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hop3-test', '-f', path.join(dir, 'user')]);
  await run('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', '', '-f', path.join(dir, 'host')]);
  const allowed = ssh2.utils.parseKey(await readFile(path.join(dir, 'user.pub'), 'utf8'));
  if (allowed instanceof Error) throw allowed;
  const agentSocket = path.join(dir, 'agent.sock');
  const agent = spawn('ssh-agent', ['-D', '-a', agentSocket], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (await run('ssh-add', ['-l'], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket } }).then(() => true, (e: { code?: number }) => e.code === 1)) break;
    await sleep(50);
  }
  await run('ssh-add', [path.join(dir, 'user')], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket } });

  let sessions = 0;
  const clients = new Set<ssh2.Connection>();
  const server = new ssh2.Server({ hostKeys: [await readFile(path.join(dir, 'host'))] }, (client) => {
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.on('error', () => client.end());
    client.on('authentication', (ctx) => {
      const key = ctx.method === 'publickey' ? ctx.key : undefined;
      const same = key !== undefined && key.algo === allowed.type && key.data.length === allowed.getPublicSSH().length && timingSafeEqual(key.data, allowed.getPublicSSH());
      if (!same || ctx.method !== 'publickey') return ctx.reject(['publickey']);
      if (ctx.signature && !allowed.verify(ctx.blob!, ctx.signature, ctx.hashAlgo)) return ctx.reject(['publickey']);
      ctx.accept();
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        accept().on('exec', (acceptExec, reject, info) => {
          if (info.command !== 'docker system dial-stdio') return reject();
          sessions++;
          const stream = acceptExec();
          const dial = spawn('docker', ['system', 'dial-stdio'], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, DOCKER_HOST: 'unix:///var/run/docker.sock' } });
          stream.pipe(dial.stdin);
          dial.stdout.pipe(stream);
          dial.on('exit', (code) => {
            stream.exit(code ?? 1);
            stream.end();
          });
          stream.on('close', () => dial.kill());
        });
      });
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    host: `ssh://hop3@127.0.0.1:${port}`,
    agentSocket,
    sessions: () => sessions,
    async [Symbol.asyncDispose]() {
      for (const client of clients) client.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
