import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_ENV_ENTRY_BYTES, NOT_ACTED_ON, notActedOnWarning, parseAppSettings } from '../../src/config/app-settings.js';
import { parseProcfile } from '../../src/config/procfile.js';
import { Hop3Error } from '../../src/errors.js';

const FIXTURE = path.resolve(import.meta.dirname, '../../fixtures/hop3-full-toml/hop3.toml');

/** The Hop3Error a bad hop3.toml gives (the test fails if it parses). */
function refusal(text: string): Hop3Error {
  try {
    parseAppSettings(text, 'hop3.toml');
  } catch (error) {
    if (error instanceof Hop3Error) return error;
    throw error;
  }
  throw new Error(`accepted: ${text}`);
}

describe('hop3.toml settings', () => {
  it('reads a hop3.toml using every section Hop3 apps use, into settings per area', async () => {
    const settings = parseAppSettings(await readFile(FIXTURE, 'utf8'), 'hop3.toml');
    expect(settings.build).toEqual({
      builder: { name: 'local', key: '[build] builder' },
      toolchain: 'generic',
      staticDir: undefined,
      beforeBuild: undefined,
      build: ['python3 -m py_compile app.py'],
      afterBuild: undefined,
      ignore: ['*.pyc'],
      secrets: [],
      packages: ['python3'],
    });
    expect(settings.run).toEqual({
      workers: { web: 'python3 app.py' },
      beforeRun: ['echo migrating'],
      policy: {},
      user: undefined,
      packages: ['python3'],
      startTimeout: 30,
      webPort: { port: 8000, key: '[port] web' },
    });
    expect(settings.health).toEqual({ path: '/health', timeout: 60, probe: { contains: 'ok', interval: 10, retries: 3 } });
    expect(settings.static).toEqual({ mounts: { '/static': 'static' }, key: '[static]' });
    // The generated secret is not in env: it is made when the app first runs, and kept in its state.
    expect(settings.env).toEqual({ GREETING: 'hello', DEBUG: 'false', WORKERS: '2', LISTEN: 'port $PORT', GREETING_URL: 'http://full.example.org/hello' });
    expect(settings.generatedEnv).toEqual({ SECRET_KEY: { generate: 'urlsafe', length: 32 } });
    expect(settings.source).toBeUndefined(); // a git source is declared only
    expect(settings.docker).toMatchObject({ baseImage: 'python:3.12-slim', buildArgs: {} });
    expect(settings.nix).toMatchObject({ template: 'generic', otherKeys: [] });
    expect(settings.deploy).toEqual({ target: 'process' });
    expect(settings.about).toMatchObject({
      metadata: { id: 'hop3-full-toml', upstream_version: '1.0', website: 'https://hop3.example.org/', repository: 'https://git.example.org/hop3/full-toml' },
      name: 'hop3-full-toml',
      source: { type: 'git', python: { version: '3.11' } },
      addons: [{ type: 'postgres', plan: 'small', version: '16' }, { name: 'redis' }],
      ports: { web: 8000 },
      domains: ['full.example.org'],
      resources: { memory: '256M' },
      storage: { local: true },
      integration: { sso: false, sendmail: true },
      backup: { enabled: true, schedule: '0 3 * * *', retention: 7 },
    });
    expect(settings.notActedOn).toEqual([
      '[app] name',
      '[build] test',
      '[docker] runtime',
      '[port] admin',
      '[source] type = "git"',
      '[source.python]',
      '[[addons]] postgres',
      '[[provider]] redis',
      '[domains]',
      '[resources] memory',
      '[storage] local',
      '[integration]',
      '[backup]',
      '[env] _policy',
    ]);
    expect(notActedOnWarning(settings)).toBe(`hop3.toml: declared, not acted on by hop3: ${settings.notActedOn.join(', ')}`);
  });

  it('keeps the keys it does not act on as data, each with what Hop3 does with it', () => {
    for (const entry of NOT_ACTED_ON) {
      expect(entry.key).toMatch(/^\[/);
      expect(entry.hop3.length, entry.key).toBeGreaterThan(10);
    }
    expect(NOT_ACTED_ON.map((entry) => entry.key)).toEqual(expect.arrayContaining(['[docker] runtime', '[port] <name>', '[env] _policy', '[backup]']));
    // Acted on, so not in the list: the plan and the build warning derive from it.
    expect(NOT_ACTED_ON.map((entry) => entry.key)).not.toEqual(expect.arrayContaining(['[run] start-timeout']));
    expect(notActedOnWarning(parseAppSettings('[run]\nstart = "x"\n'))).toBeUndefined();
  });

  it('honours [healthcheck] timeout; [run] healthcheck-timeout wins when both are set', () => {
    expect(parseAppSettings('[healthcheck]\ntimeout = 60\n').health.timeout).toBe(60);
    expect(parseAppSettings('[run]\nhealthcheck-timeout = 5\n[healthcheck]\ntimeout = 60\n').health.timeout).toBe(5);
    expect(parseAppSettings('[run]\nstart-timeout = 3\n')).toMatchObject({ run: { startTimeout: 3 }, health: { timeout: undefined }, notActedOn: [] });
  });

  it('takes [app] builder (Hop3\'s older spelling) when [build] has none; auto means the default', () => {
    expect(parseAppSettings('[app]\nbuilder = "docker"\n').build.builder).toEqual({ name: 'docker', key: '[app] builder' });
    expect(parseAppSettings('[app]\nbuilder = "docker"\n[build]\nbuilder = "nix"\n').build.builder).toEqual({ name: 'nix', key: '[build] builder' });
    expect(parseAppSettings('[build]\nbuilder = "auto"\n').build.builder).toBeUndefined();
  });

  it('takes [static] over [run] static, and [run.workers] over start', () => {
    expect(parseAppSettings('[run]\nstatic = { "/" = "a" }\n').static).toEqual({ mounts: { '/': 'a' }, key: '[run] static' });
    expect(parseAppSettings('[static]\n"/" = "b"\n[run]\nstatic = { "/" = "a" }\n').static?.key).toBe('[static]');
    expect(parseAppSettings('[run]\nstart = "a"\n[run.workers]\nweb = "b"\n').run.workers).toEqual({ web: 'b' });
  });

  it('still refuses unknown sections and keys, naming them, in Hop3\'s sections too', () => {
    for (const [text, key] of [
      ['[php]\nmemory_limit = "512M"\n', '"php"'],
      ['[backup]\nenable = true\n', '"enable"'],
      ['[domains]\nlists = ["a"]\n', '"lists"'],
      ['[resources]\nmemroy = "1G"\n', '"memroy"'],
      ['[web]\nprot = 80\n', '"prot"'],
      ['[metadata]\nhomepag = "x"\n', '"homepag"'],
      ['[app]\nbuidler = "docker"\n', '"buidler"'],
      ['[storage]\nlocals = true\n', '"locals"'],
      ['[source]\nurll = "https://x"\n', 'source.urll: unknown key'],
      ['[source.python]\nversoin = "3"\n', 'source.python'],
      ['[[addons]]\nplan = "small"\n', 'addons[0]: an addon needs a type'],
      ['[env]\nSECRET = { generate = "md5" }\n', 'env.SECRET'],
      ['[env]\nSECRET = { generate = "hex", lenght = 3 }\n', 'env.SECRET'],
    ] as const) {
      const error = refusal(text);
      expect(error.code, text).toBe('CONFIG_TOML_INVALID');
      expect(error.message, text).toContain(key);
    }
  });

  it('accepts [env] tables that generate values, and every generator Hop3 has', () => {
    const settings = parseAppSettings('[env]\nA = { generate = "hex", length = 64 }\nB = { generate = "base64", prefix = "base64:" }\nC = { generate = "password", display = true }\nD = { generate = "uuid" }\n');
    expect(settings.env).toEqual({});
    expect(settings.generatedEnv).toEqual({ A: { generate: 'hex', length: 64 }, B: { generate: 'base64', prefix: 'base64:' }, C: { generate: 'password', display: true }, D: { generate: 'uuid' } });
    expect(settings.notActedOn).toEqual([]);
  });
});

describe('[env] values refused at the door', () => {
  it.each([
    ['an empty name', '[env]\n"" = "x"\n', 'env."": an empty variable name'],
    ['a name with "="', '[env]\n"A=B" = "x"\n', 'env."A=B": a variable name cannot contain "="'],
    ['a name with NUL', '[env]\n"A\\u0000B" = "x"\n', 'env."A\\u0000B": a variable name cannot contain "=" or a NUL byte'],
    ['a name with a space', '[env]\n"MY VAR" = "x"\n', 'env."MY VAR": not a variable name'],
    ['a name starting with a digit', '[env]\n1ST = "x"\n', 'env."1ST": not a variable name'],
    ['a name with a dash', '[env]\nmy-var = "x"\n', 'env."my-var": not a variable name'],
    ['a computed name', '[env.computed]\n"A B" = "x"\n', 'env.computed."A B": not a variable name'],
    ['a value with NUL', '[env]\nTOKEN = "a\\u0000b"\n', 'env.TOKEN: the value contains a NUL byte'],
    ['a computed value with NUL', '[env.computed]\nURL = "a\\u0000b"\n', 'env.computed.URL: the value contains a NUL byte'],
  ])('%s', (_title, text, message) => {
    const error = refusal(text);
    expect(error.code).toBe('CONFIG_TOML_INVALID');
    expect(error.message).toContain(message);
    expect(error.hint).toMatch(/letters, digits and "_"/);
    expect(error.message).not.toContain('\0'); // the name is shown escaped
  });

  it('refuses a value over 128 KiB and an [env] over 1 MiB, naming the keys', () => {
    const big = 'x'.repeat(MAX_ENV_ENTRY_BYTES);
    expect(refusal(`[env]\nBLOB = "${big}"\n`).message).toMatch(/env\.BLOB: the value is 129 KiB; a variable is at most 128 KiB/);
    // Substitution can make a computed value too long even when each part fits.
    const half = 'y'.repeat(70_000);
    expect(refusal(`[env]\nHALF = "${half}"\n[env.computed]\nBOTH = "\${HALF}\${HALF}"\n`).message).toMatch(/env\.computed\.BOTH: the value is 137 KiB/);
    const many = Array.from({ length: 10 }, (_, i) => `V${i} = "${'z'.repeat(120_000)}"`).join('\n');
    const error = refusal(`[env]\n${many}\n`);
    expect(error.message).toMatch(/env: the variables total 1172 KiB \(largest: V0 118 KiB, V1 118 KiB, V2 118 KiB\); hop3 takes at most 1 MiB/);
    expect(parseAppSettings(`[env]\nOK = "${'x'.repeat(100_000)}"\n`).env.OK).toHaveLength(100_000);
  });

  it('refuses PATH and PORT (hop3 sets them for every worker) with a hint saying how instead', () => {
    const pathError = refusal('[env]\nPATH = "/opt/bin:/usr/bin"\n');
    expect(pathError.message).toContain('env.PATH: PATH is set by hop3 itself and cannot be set in [env]');
    expect(pathError.hint).toMatch(/path_prepend/);
    const portError = refusal('[env]\nPORT = 8080\n');
    expect(portError.message).toContain('env.PORT: PORT is set by hop3 itself');
    expect(portError.hint).toMatch(/\$PORT/);
    expect(refusal('[env.computed]\nAPP = "x"\n').message).toContain('env.computed.APP: APP is set by hop3');
  });

  it('keeps HOME, TMPDIR and HOP3_DATA_DIR (containers honour them) and says the process deployer sets its own', () => {
    const settings = parseAppSettings('[env]\nTMPDIR = "/run/temp"\n');
    expect(settings.env).toEqual({ TMPDIR: '/run/temp' });
    expect(settings.notActedOn).toEqual(['[env] TMPDIR (process deployer)']);
  });
});

describe('worker names with shell metacharacters', () => {
  it.each(['we$b', 'web;rm', 'a b', 'w`x`', 'web&', 'x|y', 'a/b', 'é'])('refuses %j in a Procfile and in [run.workers]', (name) => {
    expect(() => parseProcfile(`${name}: python app.py\n`)).toThrow(/invalid process name|expected `name: command`/);
    expect(refusal(`[run.workers]\n${JSON.stringify(name)} = "python app.py"\n`).message).toMatch(/run\.workers.*worker names are letters, digits/);
  });
});

describe('keys hop3 acts on', () => {
  it('takes the web port from [port] web (a number or { container }), else [web] port, else [docker] port', () => {
    expect(parseAppSettings('[port]\nweb = 8000\n[web]\nport = 7000\n').run.webPort).toEqual({ port: 8000, key: '[port] web' });
    expect(parseAppSettings('[port]\nweb = { container = 3000, public = true }\n').run.webPort).toEqual({ port: 3000, key: '[port] web' });
    expect(parseAppSettings('[web]\nport = 7000\n[docker]\nport = 6000\n').run.webPort).toEqual({ port: 7000, key: '[web] port' });
    expect(parseAppSettings('[docker]\nport = 6000\n').run.webPort).toEqual({ port: 6000, key: '[docker] port' });
    expect(parseAppSettings('[port]\nadmin = 9000\n')).toMatchObject({ run: { webPort: undefined }, notActedOn: ['[port] admin'] });
  });

  it('fetches a tarball or directory [source], ${upstream_version} substituted; git and PyPI sources are declared only', () => {
    const tarball = parseAppSettings('[metadata]\nupstream_version = "1.2"\n[source]\ntype = "tarball"\nurl = "file:///srv/app-${upstream_version}.tar.gz"\n');
    expect(tarball).toMatchObject({ source: { url: 'file:///srv/app-1.2.tar.gz' }, notActedOn: [] });
    expect(parseAppSettings('[source]\nurl = "vendor/app"\n').source).toEqual({ url: 'vendor/app' });
    const git = parseAppSettings('[source]\ntype = "git"\nurl = "https://example.org/app.git"\n');
    expect(git).toMatchObject({ source: undefined, notActedOn: ['[source] type = "git"'] });
    expect(parseAppSettings('[source]\ntype = "pypi"\npackage = "app"\n').notActedOn).toEqual(['[source] type = "pypi"']);
  });

  it.each([
    ['[source]\ntype = "tarball"\n', 'source.url: a tarball source needs a url'],
    ['[source]\nurl = "https://x/app-${upstream_version}.tgz"\n', 'source.url: ${upstream_version} needs [metadata] upstream_version, which is not set'],
    ['[metadata]\nversion = "1"\n[source]\nurl = "https://x/app-${version}.tgz"\n', 'source.url: ${version} is not substituted (only ${upstream_version} is)'],
  ])('refuses a [source] it cannot fetch: %j', (text, message) => {
    const error = refusal(text);
    expect(error.code).toBe('CONFIG_TOML_INVALID');
    expect(error.message).toContain(message);
    expect(error.hint).toContain('file:///');
  });

  it('reads [build] and [run] packages, refusing a name a shell would read as more than a name', () => {
    expect(parseAppSettings('[build]\npackages = ["libpq-dev", "jq=1.6*", "python3Packages.flask"]\n[run]\npackages = ["libpq5"]\n')).toMatchObject({
      build: { packages: ['libpq-dev', 'jq=1.6*', 'python3Packages.flask'] },
      run: { packages: ['libpq5'] },
      notActedOn: [],
    });
    for (const name of ['jq; rm -rf /', 'a b', '$(id)', '-y', '']) {
      expect(refusal(`[run]\npackages = [${JSON.stringify(name)}]\n`).message, name).toContain('run.packages[0]: a package name');
    }
  });

  it('expands [env.computed] against [env] at build, leaving what only the run knows ($PORT) as written', () => {
    const settings = parseAppSettings('[env]\nHOST = "example.org"\n[env.computed]\nURL = "https://${HOST}:$PORT/$MISSING"\n');
    expect(settings.env.URL).toBe('https://example.org:$PORT/$MISSING');
  });
});
