import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, Sandbox } from './helpers/sandbox.js';

/** A Procfile app that answers GET /<NAME> with that variable of its environment (or <unset>), and / with "ok". */
const ENV_ECHO = `import http.server, os
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        name = self.path.strip("/")
        body = (os.environ.get(name, "<unset>") if name else "ok").encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer((os.environ["BIND_ADDRESS"], int(os.environ["PORT"])), Handler).serve_forever()
`;

/** An app dir in the sandbox made of these files. */
async function app(sandbox: Sandbox, name: string, files: Record<string, string>): Promise<string> {
  const dir = path.join(sandbox.dir, 'apps', name);
  await mkdir(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(path.join(dir, file), text);
  return dir;
}

const get = async (url: string) => (await fetch(url)).text();

describe('hop3.toml keys hop3 acts on (local builder, process target)', () => {
  it('[port] web: recorded; a process keeps hop3\'s PORT, and an app that ignores it is told why it is not ready', async () => {
    await using sandbox = await Sandbox.create();
    const fixed = await freePort();
    const dir = await app(sandbox, 'fixed-port', {
      // Hard-codes its container port, as many Docker-first apps do.
      Procfile: `web: exec python3 -m http.server ${fixed} --bind 127.0.0.1\n`,
      'hop3.toml': `[port]\nweb = ${fixed}\n[healthcheck]\ntimeout = 5\n`,
    });
    const deploy = await sandbox.hop3(['deploy', dir, '--port', String(await freePort())]);
    expect(deploy.exitCode, deploy.all).toBe(1);
    expect(deploy.stderr).toMatch(/\[port\] web = \d+ is the app's port in a container; as a process it shares this host's ports, so it gets PORT=\d+/);
    expect(deploy.stderr).toContain('[DEPLOY_NOT_HEALTHY]');
    expect(deploy.stderr).toContain(`hint: Something listens on 127.0.0.1:${fixed}, the app's [port] web, while hop3 gave it PORT=`);
    expect(deploy.stderr).toContain('make the app read $PORT, or deploy with the container target');
    const artifact = JSON.parse(await readFile(path.join(sandbox.home, 'apps', 'fixed-port', 'BUILD_ARTIFACT.json'), 'utf8'));
    expect(artifact.metadata.web_port).toBe(fixed);
    expect(await sandbox.strayPids()).toEqual([]);
  });

  it('[run] start-timeout: a slow starter gets that long to answer, then the health check its own timeout', async () => {
    await using sandbox = await Sandbox.create();
    const procfile = 'web: sleep 3 && exec python3 -m http.server "$PORT" --bind "$BIND_ADDRESS"\n';
    const slow = await app(sandbox, 'slow', { Procfile: procfile, 'hop3.toml': '[healthcheck]\ntimeout = 1\n[run]\nstart-timeout = 30\n' });
    const deploy = await sandbox.hop3(['deploy', slow, '--port', String(await freePort())]);
    expect(deploy.exitCode, deploy.all).toBe(0);
    expect(deploy.stderr).toMatch(/waiting up to 30 s \(\[run\] start-timeout\) until GET http:\/\/127\.0\.0\.1:\d+\/ answers\n/);
    expect(deploy.stderr).toMatch(/waiting up to 1 s until GET http:\/\/127\.0\.0\.1:\d+\/ answers below 500/);
    expect(await get(deploy.stdout.trim())).toContain('Directory listing');
    expect((await sandbox.hop3(['stop', 'slow'])).exitCode).toBe(0);

    // The same app without start-timeout: the 1 s health check timeout covers the start, and it fails.
    const strict = await app(sandbox, 'strict', { Procfile: procfile, 'hop3.toml': '[healthcheck]\ntimeout = 1\n' });
    const failed = await sandbox.hop3(['deploy', strict, '--port', String(await freePort())]);
    expect(failed.exitCode, failed.all).toBe(1);
    expect(failed.stderr).toMatch(/Not healthy after 1 s: waiting for GET .* answers below 500\. \[DEPLOY_NOT_HEALTHY\]/);
    expect(await sandbox.strayPids()).toEqual([]);
  });

  it('[build] packages and [run] packages: the local builder checks them, lists every one missing, installs none', async () => {
    await using sandbox = await Sandbox.create();
    const missing = await app(sandbox, 'pkgs', {
      Procfile: 'web: exec python3 -m http.server "$PORT"\n',
      'hop3.toml': '[build]\npackages = ["bash", "hop3-test-no-such-package"]\n[run]\npackages = ["python3", "hop3-test-missing-too=1.0"]\n',
    });
    const build = await sandbox.hop3(['build', missing]);
    expect(build.exitCode, build.all).toBe(1);
    expect(build.stderr).toContain('hop3.toml: [build] packages and [run] packages name packages this host does not have: hop3-test-no-such-package, hop3-test-missing-too=1.0');
    expect(build.stderr).toContain('[BUILD_PACKAGES_MISSING]');
    expect(build.stderr).toContain('hint: Install them (Debian: apt-get install -y hop3-test-no-such-package hop3-test-missing-too=1.0)');
    expect(build.stderr).not.toMatch(/copying source/);

    // Installed for dpkg (bash) or a command on PATH (python3): the build goes on and records them.
    await writeFile(path.join(missing, 'hop3.toml'), '[build]\npackages = ["bash"]\n[run]\npackages = ["python3"]\n');
    const ok = await sandbox.hop3(['build', missing, '--json']);
    expect(ok.exitCode, ok.all).toBe(0);
    expect(JSON.parse(ok.stdout).metadata.system_packages).toEqual({ build: ['bash'], run: ['python3'] });
  });

  it('[env] generate: made once per app, kept 0600 in its state across releases and rebuilds, never in the artifact', async () => {
    await using sandbox = await Sandbox.create();
    // The release phase sees the value too (it fails the deploy otherwise).
    const procfile = 'release: test "${#SECRET_KEY}" -eq 43\nweb: exec python3 app.py\n';
    const dir = await app(sandbox, 'secrets', { 'app.py': ENV_ECHO, Procfile: procfile, 'hop3.toml': '[env]\nSECRET_KEY = { generate = "urlsafe", length = 32 }\nTOKEN = { generate = "hex", length = 8, prefix = "t-" }\n' });
    const first = await sandbox.hop3(['deploy', dir, '--port', String(await freePort())]);
    expect(first.exitCode, first.all).toBe(0);
    expect(first.stderr).toContain('generated SECRET_KEY, TOKEN for secrets');
    expect(first.stderr).toContain('release phase of release 1: test "${#SECRET_KEY}" -eq 43');
    const url = first.stdout.trim();
    const secret = await get(`${url}SECRET_KEY`);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await get(`${url}TOKEN`)).toMatch(/^t-[0-9a-f]{16}$/);

    const stateFile = path.join(sandbox.home, 'apps', 'secrets', 'generated-env.json');
    expect((await stat(stateFile)).mode & 0o777).toBe(0o600);
    const artifactText = await readFile(path.join(sandbox.home, 'apps', 'secrets', 'BUILD_ARTIFACT.json'), 'utf8');
    expect(artifactText).not.toContain(secret);
    expect(JSON.parse(artifactText).metadata.generated_env).toEqual({ SECRET_KEY: { generate: 'urlsafe', length: 32 }, TOKEN: { generate: 'hex', length: 8, prefix: 't-' } });
    expect(first.all).not.toContain(secret);

    // A changed source: a new build and a new release, the same secret.
    await writeFile(path.join(dir, 'NOTES'), 'changed\n');
    const second = await sandbox.hop3(['deploy', dir]);
    expect(second.exitCode, second.all).toBe(0);
    expect(second.stderr).not.toContain('nothing to build');
    expect(second.stderr).not.toContain('generated SECRET_KEY');
    expect(await get(`${url}SECRET_KEY`)).toBe(secret);
    expect((await sandbox.hop3(['stop', 'secrets'])).exitCode).toBe(0);

    // Another HOP3_HOME is another host: another value.
    const other = path.join(sandbox.dir, 'other-home');
    const elsewhere = await sandbox.hop3(['deploy', dir, '--port', String(await freePort())], { env: { HOP3_HOME: other } });
    expect(elsewhere.exitCode, elsewhere.all).toBe(0);
    const otherSecret = await get(`${elsewhere.stdout.trim()}SECRET_KEY`);
    expect(otherSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(otherSecret).not.toBe(secret);
    expect((await sandbox.hop3(['stop', 'secrets'], { env: { HOP3_HOME: other } })).exitCode).toBe(0);
    expect(await sandbox.strayPids()).toEqual([]);
  });

  it('${VAR} and $PORT in [env] are expanded when the worker starts (NITRO_PORT = "$PORT"); unknown ones are left and warned about', async () => {
    await using sandbox = await Sandbox.create();
    const dir = await app(sandbox, 'refs', {
      'app.py': ENV_ECHO,
      Procfile: 'web: exec python3 app.py\n',
      'hop3.toml': '[env]\nNITRO_PORT = "$PORT"\nSELF = "http://${BIND_ADDRESS}:${NITRO_PORT}/$APP"\nKEY_HINT = "key is ${SECRET}"\nPRICE = "5$ or $NOPE"\nSECRET = { generate = "hex", length = 4 }\n',
    });
    const deploy = await sandbox.hop3(['deploy', dir, '--port', String(await freePort())]);
    expect(deploy.exitCode, deploy.all).toBe(0);
    expect(deploy.stderr).toContain('warning: env var PRICE refers to $NOPE, which no worker has: left as written when it runs');
    expect(deploy.stderr.match(/warning: env var/g)).toHaveLength(1);
    const url = deploy.stdout.trim();
    const port = await get(`${url}PORT`);
    expect(port).toMatch(/^\d+$/);
    expect(await get(`${url}NITRO_PORT`)).toBe(port);
    expect(await get(`${url}SELF`)).toBe(`http://127.0.0.1:${port}/refs`);
    expect(await get(`${url}KEY_HINT`)).toBe(`key is ${await get(`${url}SECRET`)}`);
    expect(await get(`${url}PRICE`)).toBe('5$ or $NOPE');
    // The artifact keeps the references: they are the run's to expand.
    const artifact = JSON.parse(await readFile(path.join(sandbox.home, 'apps', 'refs', 'BUILD_ARTIFACT.json'), 'utf8'));
    expect(artifact.runtime.env_vars).toMatchObject({ NITRO_PORT: '$PORT', SELF: 'http://${BIND_ADDRESS}:${NITRO_PORT}/$APP' });
    expect((await sandbox.hop3(['stop', 'refs'])).exitCode).toBe(0);
    expect(await sandbox.strayPids()).toEqual([]);
  });
});
