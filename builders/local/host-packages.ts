import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import type { AppSettings } from '../../src/config/app-settings.js';
import { Hop3Error } from '../../src/errors.js';
import { runCommand } from '../../src/process/run-command.js';

/**
 * The local builder never installs system packages (it runs as the user, on their host): it checks that
 * `[build] packages` and `[run] packages` are here, installed for dpkg or a command on PATH of that name,
 * and fails with the whole list of what is missing and the command that installs it.
 */
export async function checkHostPackages(settings: AppSettings, env: NodeJS.ProcessEnv): Promise<void> {
  const missing = await missingHostPackages(settings, env);
  if (missing.length === 0) return;
  const names = [...new Set(missing.map((m) => m.name))];
  const keys = [...new Set(missing.map((m) => m.key))].join(' and ');
  throw new Hop3Error('BUILD_PACKAGES_MISSING', `${settings.file}: ${keys} name${names.length === 1 ? 's a package' : ' packages'} this host does not have: ${names.join(', ')} (neither installed for dpkg nor a command on PATH). The local builder never installs system packages.`, {
    ...(settings.file ? { file: settings.file } : {}),
    hint: installHint(names),
  });
}

export interface MissingPackage {
  name: string;
  key: '[build] packages' | '[run] packages';
}

/** The declared packages this host has neither installed for dpkg nor as a command on PATH, in order. */
export async function missingHostPackages(settings: AppSettings, env: NodeJS.ProcessEnv): Promise<MissingPackage[]> {
  const wanted: MissingPackage[] = [
    ...settings.build.packages.map((name) => ({ name, key: '[build] packages' as const })),
    ...settings.run.packages.map((name) => ({ name, key: '[run] packages' as const })),
  ];
  if (wanted.length === 0) return [];
  const installed = await dpkgInstalled(wanted.map((w) => packageName(w.name)), env);
  const missing: MissingPackage[] = [];
  for (const want of wanted) {
    const name = packageName(want.name);
    if (!installed.has(name) && !(await onPath(name, env))) missing.push(want);
  }
  return missing;
}

export const installHint = (names: readonly string[]) =>
  `Install them (Debian: apt-get install -y ${names.join(' ')}), or build with --builder docker (which installs them in the image) or --builder nix.`;

/** `jq=1.6*` and `gcc:amd64` are the packages jq and gcc. */
const packageName = (spec: string) => spec.split(/[=:]/, 1)[0]!;

/** The packages among `names` dpkg has installed; none on a host without dpkg. */
async function dpkgInstalled(names: readonly string[], env: NodeJS.ProcessEnv): Promise<Set<string>> {
  // Exits 1 when some name is unknown, still listing the others.
  const result = await runCommand('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\\n', ...new Set(names)], { env, timeoutMs: 30_000 });
  return new Set(
    result.stdout
      .split('\n')
      .map((line) => line.split(' '))
      .filter(([, status]) => status === 'installed')
      .map(([name]) => name!),
  );
}

/** A command of that name on PATH, as `command -v` finds it. */
async function onPath(name: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  for (const dir of (env.PATH ?? '/usr/bin:/bin').split(':').filter(Boolean)) {
    if (await access(path.join(dir, name), constants.X_OK).then(() => true, () => false)) return true;
  }
  return false;
}
