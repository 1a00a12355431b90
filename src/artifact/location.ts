import path from 'node:path';

/** What an artifact's `location` is: deployers accept artifacts by this, never by the builder that made them. */
export type LocationKind = 'host-path' | 'store-path' | 'image';

export function locationKind(location: string): LocationKind {
  if (location.startsWith('/nix/store/')) return 'store-path';
  if (location.startsWith('/')) return 'host-path';
  return 'image';
}

/** Longest path hop3 accepts (PATH_MAX is 4096 bytes, the NUL included). */
const MAX_PATH_BYTES = 4095;
const CONTROL = /[\u0000-\u001f\u007f]/;
/** `/nix/store/<32-char nix base32 hash>-<name>`, optionally a path inside it. */
const STORE_PATH = /^\/nix\/store\/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+_?=-][A-Za-z0-9+._?=-]*(?:\/.*)?$/;
/** Docker's reference grammar: [registry[:port]/]path[:tag][@digest], path components lowercase. */
const IMAGE_REFERENCE =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;
/**
 * Directories a build can never be: running "the build" there would run (and let the app write) the system.
 * Every top-level directory is refused by depth; these are the usual second-level and third-level ones.
 */
const SYSTEM_DIRS = new Set([
  '/nix/store', '/nix/var', '/usr/bin', '/usr/sbin', '/usr/lib', '/usr/lib32', '/usr/lib64', '/usr/libexec', '/usr/include', '/usr/share', '/usr/src',
  '/usr/local', '/usr/local/bin', '/usr/local/sbin', '/usr/local/lib', '/usr/local/share', '/var/lib', '/var/log', '/var/cache', '/var/tmp', '/var/run',
  '/var/spool', '/var/mail', '/var/www', '/run/user',
]);
/** Kernel and device file systems: nothing under them is a build. */
const SYSTEM_TREES = ['/proc', '/sys', '/dev', '/etc', '/boot'];

/** Why an artifact cannot run from `location`, or undefined when it can. */
export function locationProblem(location: string): string | undefined {
  const general = pathTextProblem(location);
  if (general) return general;
  switch (locationKind(location)) {
    case 'image':
      return IMAGE_REFERENCE.test(location) ? undefined : `${JSON.stringify(location)} is neither an absolute directory nor a Docker image reference (relative paths are not locations)`;
    case 'store-path':
      if (!isNormalised(location)) return `${JSON.stringify(location)} must be a normalised path (no ".", ".." or empty segments, no trailing "/")`;
      return STORE_PATH.test(location) ? undefined : `${JSON.stringify(location)} is not a Nix store path (/nix/store/<32-character hash>-<name>)`;
    case 'host-path': {
      if (!isNormalised(location)) return `${JSON.stringify(location)} must be a normalised path (no ".", ".." or empty segments, no trailing "/")`;
      if (location === '/') return '"/" is the root directory; a location is the build\'s own directory';
      const system = location.split('/').length <= 2 || SYSTEM_DIRS.has(location) || SYSTEM_TREES.some((tree) => isInside(location, tree));
      return system ? `${JSON.stringify(location)} is a system directory; a location is the build's own directory` : undefined;
    }
  }
}

/**
 * Why `dir` is not a directory an artifact at `location` may use (working_dir, a static path), or undefined.
 * On a host or store path it must be inside the location once normalised; in an image, any absolute path without "..".
 */
export function runtimeDirProblem(dir: string, location: string): string | undefined {
  const general = pathTextProblem(dir);
  if (general) return general;
  if (!dir.startsWith('/')) return `${JSON.stringify(dir)} is not an absolute path`;
  if (locationKind(location) === 'image') return dir.split('/').includes('..') ? `${JSON.stringify(dir)} must not contain ".." segments` : undefined;
  return isInside(path.posix.normalize(dir), location) ? undefined : `${JSON.stringify(dir)} is outside the artifact's location ${location}`;
}

/** Why `dir` cannot be a PATH entry, or undefined. */
export function pathEntryProblem(dir: string): string | undefined {
  const general = pathTextProblem(dir);
  if (general) return general;
  if (!dir.startsWith('/')) return `${JSON.stringify(dir)} is not an absolute path (a relative PATH entry depends on the current directory)`;
  if (dir.includes(':')) return `${JSON.stringify(dir)} contains ":", the PATH separator`;
  return undefined;
}

/** `child` is `parent` or below it (both normalised). */
export function isInside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith('/') ? parent : `${parent}/`);
}

function pathTextProblem(value: string): string | undefined {
  if (value === '') return 'the path is empty';
  if (value.includes('\0')) return 'the path contains a NUL character';
  if (CONTROL.test(value)) return `${JSON.stringify(value)} contains a control character`;
  if (Buffer.byteLength(value) > MAX_PATH_BYTES) return `the path is longer than ${MAX_PATH_BYTES} bytes`;
  return undefined;
}

function isNormalised(absolute: string): boolean {
  return path.posix.normalize(absolute) === absolute && (absolute === '/' || !absolute.endsWith('/'));
}
