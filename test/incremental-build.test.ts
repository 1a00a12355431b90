import { createHash } from 'node:crypto';
import { appendFile, lstat, mkdir, readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { checkProbes, freePort, ROOT, Sandbox } from './helpers/sandbox.js';

interface Built {
  buildId: string;
  /** The build's dir under HOP3_HOME (`location`) and its app root (`working_dir`). */
  dir: string;
  appRoot: string;
  log: string;
}

/** Every entry under `dir`: type, permission bits, and content digest or link target (mtimes and link counts aside). */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const entries: Record<string, string> = {};
  const walk = async (rel: string) => {
    for (const name of (await readdir(path.join(dir, rel))).sort()) {
      const file = path.join(dir, rel, name);
      const key = path.posix.join(rel, name);
      const info = await lstat(file);
      const mode = (info.mode & 0o7777).toString(8);
      if (info.isDirectory()) {
        entries[key] = `dir ${mode}`;
        await walk(key);
      } else if (info.isSymbolicLink()) entries[key] = `symlink -> ${await readlink(file)}`;
      else entries[key] = `file ${mode} ${createHash('sha256').update(await readFile(file)).digest('hex')}`;
    }
  };
  await walk('');
  return entries;
}

async function build(sandbox: Sandbox, app: string, env: NodeJS.ProcessEnv = {}, options: readonly string[] = []): Promise<Built> {
  const result = await sandbox.hop3(['build', app, ...options], { env }); // not --json: that hides pip's and npm's output
  expect(result.exitCode, result.all).toBe(0);
  const artifact = JSON.parse(await readFile(result.stdout.trim(), 'utf8'));
  return { buildId: artifact.build_id, dir: artifact.location, appRoot: artifact.runtime.working_dir, log: result.stderr };
}

async function latest(sandbox: Sandbox, app: string): Promise<Omit<Built, 'log'>> {
  const artifact = JSON.parse((await sandbox.hop3(['inspect', app, '--json'])).stdout);
  return { buildId: artifact.build_id, dir: artifact.location, appRoot: artifact.runtime.working_dir };
}

const inode = async (file: string) => (await stat(file)).ino;
const sitePackages = async (appRoot: string) => {
  const lib = path.join(appRoot, '.venv', 'lib');
  return path.join(lib, (await readdir(lib))[0]!, 'site-packages');
};

/** Signs that pip or npm ran, in a build log (their command lines and their own words). */
const PIP_RAN = /__pip-runner__|==> creating virtualenv|Successfully installed/; // not the build's opening plan, which names the steps
const NPM_RAN = /\$ npm |added \d+ package/;

describe('incremental local builds: dependencies reused from an older build, never changed in it', () => {
  it('python: a code-only change reuses the venv by hard links and serves; requirements or pip env changes reinstall; older builds stay byte-identical', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('python-web');
    const first = await build(sandbox, app);
    expect(first.log).toContain('installing dependencies (no earlier build to reuse)');
    expect(first.log).toContain('Successfully installed hop3-greeting-1.0.0');
    const firstFiles = await snapshot(first.dir);

    // Code only: deploy builds (reusing the venv) and runs the new build.
    const appPy = path.join(app, 'app.py');
    await writeFile(appPy, (await readFile(appPy, 'utf8')).replace(`greet('python-web')`, `greet('python-web') + ' v2'`));
    const port = await freePort();
    const deploy = await sandbox.hop3(['deploy', app, '--port', String(port)]);
    expect(deploy.exitCode, deploy.all).toBe(0);
    expect(deploy.stderr).toContain(`reusing dependencies from build ${first.buildId} (requirements.txt unchanged)`);
    expect(deploy.stderr).not.toMatch(PIP_RAN);
    const second = await latest(sandbox, 'python-web');
    expect(second.buildId).not.toBe(first.buildId);
    await checkProbes(`http://127.0.0.1:${port}/`, 'python-web');
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('hello from python-web v2\n');
    expect((await sandbox.hop3(['stop', 'python-web'])).exitCode).toBe(0);

    const [firstSite, secondSite] = [await sitePackages(first.appRoot), await sitePackages(second.appRoot)];
    expect(await inode(path.join(secondSite, 'hop3_greeting', '__init__.py'))).toBe(await inode(path.join(firstSite, 'hop3_greeting', '__init__.py')));
    // What names the venv's own path names the new build's.
    for (const file of ['pyvenv.cfg', 'bin/activate']) {
      const text = await readFile(path.join(second.appRoot, '.venv', file), 'utf8');
      expect(text, file).toContain(second.appRoot);
      expect(text, file).not.toContain(first.appRoot);
    }
    // No pip in the venv, but its `pip` installs into it with the host's pip.
    const pipList = await execa(path.join(second.appRoot, '.venv', 'bin', 'pip'), ['list'], { reject: false });
    expect(pipList.stdout, pipList.stderr).toMatch(/hop3-greeting\s+1\.0\.0/);
    expect(await snapshot(first.dir)).toEqual(firstFiles);
    const secondFiles = await snapshot(second.dir);

    // The requirements change: a fresh venv, nothing shared with the older ones.
    await appendFile(path.join(app, 'requirements.txt'), '# pinned on purpose\n');
    const third = await build(sandbox, app);
    expect(third.log).toContain('installing dependencies (requirements.txt changed)');
    expect(third.log).toContain('Successfully installed hop3-greeting-1.0.0');
    const thirdSite = await sitePackages(third.appRoot);
    expect(await inode(path.join(thirdSite, 'hop3_greeting', '__init__.py'))).not.toBe(await inode(path.join(secondSite, 'hop3_greeting', '__init__.py')));

    // A pip setting that changes resolution reinstalls too (with --no-index in the file, this index is never asked).
    // The source is unchanged: --force, else the build itself is found unchanged.
    const fourth = await build(sandbox, app, { PIP_INDEX_URL: 'https://user:secret@pypi.invalid/simple' }, ['--force']);
    expect(fourth.log).toContain('installing dependencies (env PIP_INDEX_URL changed)');
    expect(await readFile(path.join(fourth.appRoot, '.hop3', 'deps.json'), 'utf8')).not.toContain('secret');

    expect(await snapshot(first.dir)).toEqual(firstFiles);
    expect(await snapshot(second.dir)).toEqual(secondFiles);
  });

  it('python with pyproject.toml: a reuse reinstalls only the app itself, as new files', async () => {
    await using sandbox = await Sandbox.create();
    const app = path.join(sandbox.dir, 'apps', 'pyapp');
    await mkdir(path.join(app, 'pyapp'), { recursive: true });
    await writeFile(path.join(app, 'pyproject.toml'), '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n\n[project]\nname = "pyapp"\nversion = "1.0.0"\ndependencies = ["hop3-greeting==1.0.0"]\n');
    await writeFile(path.join(app, 'backend.py'), BACKEND);
    await writeFile(path.join(app, 'pyapp', '__init__.py'), 'VERSION = "one"\n\ndef main():\n    print(VERSION)\n');
    // Offline: the dependency from the fixture's wheel, and a build backend in the app itself (no setuptools to fetch).
    const env = { PIP_NO_INDEX: '1', PIP_FIND_LINKS: path.join(ROOT, 'fixtures', 'python-web', 'wheels') };
    const first = await build(sandbox, app, env);
    expect(first.log).toContain('Successfully installed hop3-greeting-1.0.0 pyapp-1.0.0');
    const firstFiles = await snapshot(first.dir);

    await writeFile(path.join(app, 'pyapp', '__init__.py'), 'VERSION = "two"\n\ndef main():\n    print(VERSION)\n');
    const second = await build(sandbox, app, env);
    expect(second.log).toContain(`reusing dependencies from build ${first.buildId} (pyproject.toml unchanged)`);
    expect(second.log).toContain('pip install --no-deps .');
    expect(second.log).toContain('Successfully installed pyapp-1.0.0');
    expect(second.log).not.toContain('hop3-greeting-1.0.0');
    const [firstSite, secondSite] = [await sitePackages(first.appRoot), await sitePackages(second.appRoot)];
    expect(await readFile(path.join(secondSite, 'pyapp', '__init__.py'), 'utf8')).toContain('"two"');
    expect(await inode(path.join(secondSite, 'hop3_greeting', '__init__.py'))).toBe(await inode(path.join(firstSite, 'hop3_greeting', '__init__.py')));
    const script = await readFile(path.join(second.appRoot, '.venv', 'bin', 'pyapp'), 'utf8');
    expect(script.split('\n')[0]).toBe(`#!${second.appRoot}/.venv/bin/python`);
    expect(await snapshot(first.dir)).toEqual(firstFiles);
  });

  it('node: a code-only change reuses node_modules and serves; a lockfile or file: dependency change reinstalls; older builds stay byte-identical', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('node-web');
    const first = await build(sandbox, app);
    expect(first.log).toContain('installing dependencies (no earlier build to reuse)');
    expect(first.log).toContain('$ npm ci');
    const firstFiles = await snapshot(first.dir);

    const server = path.join(app, 'server.js');
    await writeFile(server, (await readFile(server, 'utf8')).replace("greet('node-web')", "greet('node-web') + ' v2'"));
    const port = await freePort();
    const deploy = await sandbox.hop3(['deploy', app, '--port', String(port)]);
    expect(deploy.exitCode, deploy.all).toBe(0);
    expect(deploy.stderr).toContain(`reusing dependencies from build ${first.buildId} (package-lock.json unchanged)`);
    expect(deploy.stderr).not.toMatch(NPM_RAN);
    const second = await latest(sandbox, 'node-web');
    await checkProbes(`http://127.0.0.1:${port}/`, 'node-web');
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('hello from node-web v2\n');
    expect((await sandbox.hop3(['stop', 'node-web'])).exitCode).toBe(0);
    // The file: dependency is a relative link: into the new build's own copy of vendor/.
    expect(await readlink(path.join(second.appRoot, 'node_modules', 'greeting'))).toBe('../vendor/greeting');
    // npm's own state file is the new build's copy, not shared.
    expect(await inode(path.join(second.appRoot, 'node_modules', '.package-lock.json'))).not.toBe(await inode(path.join(first.appRoot, 'node_modules', '.package-lock.json')));
    expect(await snapshot(first.dir)).toEqual(firstFiles);
    const secondFiles = await snapshot(second.dir);

    await appendFile(path.join(app, 'package-lock.json'), '\n');
    const third = await build(sandbox, app);
    expect(third.log).toContain('installing dependencies (package-lock.json changed)');
    expect(third.log).toContain('$ npm ci');

    await appendFile(path.join(app, 'vendor', 'greeting', 'index.js'), '// changed\n');
    const fourth = await build(sandbox, app);
    expect(fourth.log).toContain('installing dependencies (vendor/greeting changed)');
    expect(await snapshot(first.dir)).toEqual(firstFiles);
    expect(await snapshot(second.dir)).toEqual(secondFiles);
  });

  it('node: an app with a build script installs afresh every time, and says why', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('node-web');
    const pkg = JSON.parse(await readFile(path.join(app, 'package.json'), 'utf8'));
    pkg.scripts.build = `node -e "require('fs').writeFileSync('built.txt', 'built')"`;
    await writeFile(path.join(app, 'package.json'), JSON.stringify(pkg, null, 2));
    await build(sandbox, app);
    await appendFile(path.join(app, 'server.js'), '// changed\n');
    const second = await build(sandbox, app);
    expect(second.log).toContain('installing dependencies (package.json has a build script: it needs the dev dependencies, which builds prune)');
    expect(second.log).toContain('$ npm ci');
    expect(await readFile(path.join(second.appRoot, 'built.txt'), 'utf8')).toBe('built');
  });

  it('a host python without pip is a clear error', async () => {
    await using sandbox = await Sandbox.create();
    const app = await sandbox.fixture('python-web');
    const venv = path.join(sandbox.dir, 'nopip');
    await execa('python3', ['-m', 'venv', '--without-pip', venv]);
    const result = await sandbox.hop3(['build', app], { env: { HOP3_PYTHON: path.join(venv, 'bin', 'python') } });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('has no pip. [BUILD_PYTHON_PIP_MISSING]');
    expect(result.stderr).toContain('hint: Install pip for the host python3 (Debian: apt-get install python3-pip)');
  });
});

/** A PEP 517 backend inside the test app: pyapp's wheel, with a console script, from the standard library alone. */
const BACKEND = `import base64, hashlib, pathlib, zipfile

DIST = "pyapp-1.0.0.dist-info"


def _record(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = {p.as_posix(): p.read_bytes() for p in sorted(pathlib.Path("pyapp").glob("*.py"))}
    files[f"{DIST}/METADATA"] = b"Metadata-Version: 2.1\\nName: pyapp\\nVersion: 1.0.0\\nRequires-Dist: hop3-greeting==1.0.0\\n"
    files[f"{DIST}/WHEEL"] = b"Wheel-Version: 1.0\\nGenerator: hop3-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    files[f"{DIST}/entry_points.txt"] = b"[console_scripts]\\npyapp = pyapp:main\\n"
    record = "\\n".join([_record(p, d) for p, d in files.items()] + [f"{DIST}/RECORD,,"]) + "\\n"
    name = "pyapp-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(pathlib.Path(wheel_directory) / name, "w") as wheel:
        for path, data in [*files.items(), (f"{DIST}/RECORD", record.encode())]:
            wheel.writestr(path, data)
    return name
`;
