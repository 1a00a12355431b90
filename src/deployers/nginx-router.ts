import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Hop3Error, tail } from '../errors.js';
import { findOnPath } from '../process/find-on-path.js';
import { runCommand } from '../process/run-command.js';
import { hop3Home } from '../state/hop3-home.js';

/** Where Debian puts nginx; PATH is searched first. */
const NGINX_CANDIDATES = ['nginx', '/usr/sbin/nginx'];

/** What the router sends to an app: its public port, the port of its live release, and that release's static folders. */
export interface Route {
  app: string;
  publicPort: number;
  /** Where the live release listens: only a release that passed its readiness check is routed to. */
  port: number;
  /** URL prefix -> folder of the live release, served by nginx itself. */
  staticPaths: Record<string, string>;
}

/**
 * hop3's own nginx (no system service, no root-only path): config, pid and logs under HOP3_HOME/router.
 * An app's public port proxies to its live release only. A swap points it at the new release once that
 * one is ready, with a graceful reload: old nginx workers finish their requests, new ones take the new
 * route. Client connections are not kept alive, so a reload never closes a connection a client is about
 * to reuse; that costs a TCP handshake per request on loopback, and buys swaps no client sees.
 */
export class NginxRouter {
  readonly dir: string;

  private constructor(
    private readonly nginx: string,
    env: NodeJS.ProcessEnv,
  ) {
    this.dir = path.join(hop3Home(env), 'router');
  }

  /**
   * The router, or undefined when nginx is not installed (or HOP3_ROUTER=off): deploys then stop, then start.
   * Found on PATH without running it: a deploy that changes nothing must not pay a process start for it.
   */
  static async find(env: NodeJS.ProcessEnv): Promise<NginxRouter | undefined> {
    if (env.HOP3_ROUTER === 'off') return undefined;
    for (const candidate of NGINX_CANDIDATES) {
      const file = await findOnPath(candidate, env);
      if (file) return new NginxRouter(file, env);
    }
    return undefined;
  }

  /** nginx's version, for `hop3 doctor`; "unknown" when it does not say. */
  async version(): Promise<string> {
    const result = await runCommand(this.nginx, ['-v'], { env: process.env, timeoutMs: 5000 });
    return /nginx\/(\S+)/.exec(result.all)?.[1] ?? 'unknown';
  }

  private get confFile(): string {
    return path.join(this.dir, 'nginx.conf');
  }

  private appConf(app: string): string {
    return path.join(this.dir, 'conf.d', `${app}.conf`);
  }

  /** Point the app's public port at its live release (and static folders); reload nginx only when this changed the config. */
  async route(route: Route): Promise<void> {
    await this.prepare();
    const links = await this.linkStatic(route);
    const conf = appConfig(route, links);
    const file = this.appConf(route.app);
    const changed = (await readFile(file, 'utf8').catch(() => '')) !== conf;
    if (changed) await writeFile(file, conf, { mode: 0o600 });
    if (!this.masterPid()) await this.start();
    else if (changed) await this.reload();
    await this.waitForPort(route.publicPort);
  }

  /** Stop routing the app (its public port closes); the last app's unroute stops the master too. */
  async unroute(app: string): Promise<void> {
    const file = this.appConf(app);
    if (!existsSync(file)) return;
    await rm(file, { force: true });
    await rm(path.join(this.dir, 'static', app), { recursive: true, force: true });
    if (!this.masterPid()) return;
    const routes = (await readdir(path.join(this.dir, 'conf.d'))).filter((name) => name.endsWith('.conf'));
    if (routes.length === 0) await this.stop();
    else await this.reload();
  }

  /** The master's pid when it is ours and running: started with this router's config. */
  masterPid(): number | undefined {
    const pid = Number(readFileSafe(path.join(this.dir, 'nginx.pid')).trim());
    if (!Number.isInteger(pid) || pid <= 1) return undefined;
    return readFileSafe(`/proc/${pid}/cmdline`).includes(this.confFile) ? pid : undefined;
  }

  /** Stop this router's nginx. */
  async stop(): Promise<void> {
    if (!this.masterPid()) return;
    await this.nginxCommand(['-s', 'quit'], 'stop');
    for (let i = 0; i < 100 && this.masterPid(); i++) await sleep(50);
  }

  private async prepare(): Promise<void> {
    await Promise.all(['conf.d', 'static', 'tmp'].map((sub) => mkdir(path.join(this.dir, sub), { recursive: true, mode: 0o700 })));
    const conf = mainConfig(this.dir);
    if ((await readFile(this.confFile, 'utf8').catch(() => '')) !== conf) await writeFile(this.confFile, conf, { mode: 0o600 });
  }

  /** Each static folder is reached through a symlink swapped atomically, so nginx serves the new release's files without a reload. */
  private async linkStatic(route: Route): Promise<string[]> {
    const base = path.join(this.dir, 'static', route.app);
    await mkdir(base, { recursive: true, mode: 0o700 });
    const links: string[] = [];
    for (const [index, dir] of Object.values(route.staticPaths).entries()) {
      const link = path.join(base, String(index));
      const temp = `${link}.${process.pid}.tmp`;
      await rm(temp, { force: true });
      await symlink(dir, temp);
      await rename(temp, link);
      links.push(link);
    }
    return links;
  }

  private async start(): Promise<void> {
    await this.nginxCommand(['-t'], 'check the configuration of');
    await this.nginxCommand([], 'start');
  }

  private async reload(): Promise<void> {
    await this.nginxCommand(['-t'], 'check the configuration of');
    await this.nginxCommand(['-s', 'reload'], 'reload');
  }

  private async nginxCommand(args: string[], doing: string): Promise<void> {
    const result = await runCommand(this.nginx, ['-p', this.dir, '-c', this.confFile, ...args], { env: process.env, timeoutMs: 15_000 });
    if (result.failed) {
      throw new Hop3Error('DEPLOY_ROUTER_FAILED', `Could not ${doing} hop3's nginx router (${result.reason}).`, {
        command: result.command,
        outputTail: tail(result.all),
        hint: `See ${path.join(this.dir, 'error.log')}; set HOP3_ROUTER=off to deploy without the router (stop, then start).`,
      });
    }
  }

  /** A new listen socket exists once the master has applied the config: wait for it rather than race the first request. */
  private async waitForPort(port: number): Promise<void> {
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const answered = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) }).then(
        async (response) => (await response.body?.cancel(), true),
        () => false,
      );
      if (answered) return;
      await sleep(50);
    }
    throw new Hop3Error('DEPLOY_ROUTER_FAILED', `hop3's nginx router does not answer on 127.0.0.1:${port}.`, { hint: `See ${path.join(this.dir, 'error.log')}.` });
  }
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** A path or prefix as one nginx string: HOP3_HOME may hold spaces, quotes or ";" (nginx would split or end the directive). */
function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

function mainConfig(dir: string): string {
  const tmp = (name: string) => quoted(path.join(dir, 'tmp', name));
  const mime = ['/etc/nginx/mime.types'].find((file) => existsSync(file));
  return [
    '# Written by hop3; changes are overwritten.',
    // As root, workers would otherwise drop to nobody and could not read HOP3_HOME (0700).
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    'worker_processes 1;',
    `pid ${quoted(path.join(dir, 'nginx.pid'))};`,
    `error_log ${quoted(path.join(dir, 'error.log'))} warn;`,
    'events { worker_connections 1024; }',
    'http {',
    '  access_log off;',
    '  keepalive_timeout 0;',
    ...(mime ? [`  include ${quoted(mime)};`] : []),
    '  default_type application/octet-stream;',
    '  sendfile on;',
    `  client_body_temp_path ${tmp('body')};`,
    `  proxy_temp_path ${tmp('proxy')};`,
    `  fastcgi_temp_path ${tmp('fastcgi')};`,
    `  uwsgi_temp_path ${tmp('uwsgi')};`,
    `  scgi_temp_path ${tmp('scgi')};`,
    `  include ${quoted(`${path.join(dir, 'conf.d')}/*.conf`)};`,
    '}',
    '',
  ].join('\n');
}

function appConfig(route: Route, staticLinks: string[]): string {
  const upstream = `hop3_${route.app.replace(/[^a-z0-9_]/g, '_')}`;
  const statics = Object.keys(route.staticPaths).map((prefix, index) => {
    const location = prefix.endsWith('/') ? prefix : `${prefix}/`;
    return [`  location ${quoted(location)} {`, `    alias ${quoted(`${staticLinks[index]}/`)};`, '    location ~ /\\. { return 404; }', '  }'].join('\n');
  });
  return [
    `# ${route.app}: written by hop3; changes are overwritten.`,
    `upstream ${upstream} {`,
    // One server: nothing to mark failed, and nginx tries it for every request.
    `  server 127.0.0.1:${route.port} max_fails=0;`,
    '}',
    'server {',
    `  listen 127.0.0.1:${route.publicPort};`,
    '  client_max_body_size 100m;',
    '  location / {',
    `    proxy_pass http://${upstream};`,
    '    proxy_connect_timeout 2s;',
    '    proxy_set_header Host $http_host;',
    '    proxy_set_header X-Real-IP $remote_addr;',
    '    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    '    proxy_set_header X-Forwarded-Proto $scheme;',
    '  }',
    ...statics,
    '}',
    '',
  ].join('\n');
}
