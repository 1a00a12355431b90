import path from 'node:path';
import { Hop3Error } from '../errors.js';

/** The Staticfile convention (Cloud Foundry's staticfile buildpack, Nixpacks): a file that makes an app a static site. */
export const STATICFILE = 'Staticfile';
/** htpasswd lines (`user:hash`) beside the Staticfile: basic auth over the whole site. */
export const STATICFILE_AUTH = 'Staticfile.auth';

export interface Staticfile {
  /** `root:`: the folder served at `/`, relative to the app; undefined: the app root (as Cloud Foundry). */
  root?: string;
  /** `index_fallback: true` (or Cloud Foundry's `pushstate: enabled`): unknown paths serve index.html, for single-page apps. */
  indexFallback: boolean;
  /** Keys understood by Cloud Foundry that hop3 reads but does not act on (gzip, ssi...), for one build warning. */
  notActedOn: string[];
}

const TRUE = new Set(['true', 'yes', 'on', 'enabled', '1']);
const FALSE = new Set(['false', 'no', 'off', 'disabled', '0', '']);

/**
 * A YAML subset, as Staticfiles are written: `key: value` lines, `#` comments, quoted values; an indented
 * line belongs to the key above it (Cloud Foundry's `status_codes:` map). An empty Staticfile is valid.
 */
export function parseStaticfile(text: string, file = STATICFILE): Staticfile {
  const result: Staticfile = { indexFallback: false, notActedOn: [] };
  text.split(/\r?\n/).forEach((raw, index) => {
    const fail = (what: string): never => {
      throw new Hop3Error('CONFIG_STATICFILE_INVALID', `${file}:${index + 1}: ${what}: ${JSON.stringify(raw)}`, {
        file,
        hint: 'Each Staticfile line is `key: value`, e.g. `root: dist` or `index_fallback: true`; comments start with #.',
      });
    };
    const line = raw.replace(/\s+#.*$/, '').trimEnd();
    if (line.trim() === '' || line.trim().startsWith('#') || line.trim() === '---') return;
    if (/^\s/.test(line)) return; // a nested value of the key above: only Cloud Foundry keys have them
    const match = /^([A-Za-z_][A-Za-z0-9_]*)\s*:(.*)$/.exec(line);
    if (!match) fail('expected `key: value`');
    const key = match![1]!;
    const value = unquote(match![2]!.trim());
    const flag = (): boolean => {
      const lower = value.toLowerCase();
      if (TRUE.has(lower)) return true;
      if (FALSE.has(lower)) return false;
      return fail(`${key} is true or false`);
    };
    if (key === 'root') result.root = staticRoot(value, fail);
    else if (key === 'index_fallback' || key === 'pushstate') result.indexFallback = flag();
    else if (!result.notActedOn.includes(key)) result.notActedOn.push(key);
  });
  return result;
}

function unquote(value: string): string {
  const quoted = /^"(.*)"$/.exec(value) ?? /^'(.*)'$/.exec(value);
  return quoted ? quoted[1]! : value;
}

/** `root:` names a folder inside the app: relative, never above it. */
function staticRoot(value: string, fail: (what: string) => never): string {
  if (value === '') return fail('root is empty (leave it out to serve the app root)');
  const normal = path.posix.normalize(value.replace(/\/+$/, '') || '.');
  if (path.posix.isAbsolute(normal) || normal === '..' || normal.startsWith('../') || value.includes('\0')) {
    return fail('root is a folder inside the app, relative to it');
  }
  return normal;
}

/** The hash formats hop3's static server verifies, as htpasswd, openssl passwd and mkpasswd write them. */
export const HTPASSWD_FORMATS: readonly { name: string; pattern: RegExp }[] = [
  { name: 'apr1 (htpasswd -m)', pattern: /^\$apr1\$[^$]{1,8}\$[./0-9A-Za-z]{22}$/ },
  { name: 'MD5-crypt ($1$)', pattern: /^\$1\$[^$]{1,8}\$[./0-9A-Za-z]{22}$/ },
  { name: 'SHA-256-crypt ($5$)', pattern: /^\$5\$(?:rounds=\d+\$)?[^$]{0,16}\$[./0-9A-Za-z]{43}$/ },
  { name: 'SHA-512-crypt ($6$)', pattern: /^\$6\$(?:rounds=\d+\$)?[^$]{0,16}\$[./0-9A-Za-z]{86}$/ },
  { name: '{SHA} (htpasswd -s)', pattern: /^\{SHA\}[A-Za-z0-9+/]{27}=$/ },
  { name: '{SSHA}', pattern: /^\{SSHA\}[A-Za-z0-9+/]{28,}={0,2}$/ },
  { name: 'bcrypt (htpasswd -B)', pattern: /^\$2[aby]\$(?:0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/ },
];

/**
 * Staticfile.auth checked at build, so a site is never deployed with a line its server would never match
 * (that user locked out) or with no user at all (everyone locked out).
 */
export function checkHtpasswd(text: string, file = STATICFILE_AUTH): { users: string[] } {
  const users: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    const where = `${file}:${index + 1}`;
    if (colon <= 0) {
      throw new Hop3Error('CONFIG_STATICFILE_AUTH_INVALID', `${where}: expected \`user:hash\` (the line is not shown: it may hold a password).`, {
        file,
        hint: 'Write the file with `htpasswd -c Staticfile.auth <user>` (or `htpasswd -n <user>`).',
      });
    }
    if (!HTPASSWD_FORMATS.some((format) => format.pattern.test(hash))) {
      const kind = /^[./0-9A-Za-z]{13}$/.test(hash) ? 'a DES crypt hash (htpasswd -d)' : 'not a hash format hop3 knows (or a plain password)';
      throw new Hop3Error('CONFIG_STATICFILE_AUTH_INVALID', `${where}: the hash of user ${JSON.stringify(user)} is ${kind}; hop3's static server verifies ${HTPASSWD_FORMATS.map((f) => f.name).join(', ')}.`, {
        file,
        hint: `Hash the password again in one of those, e.g. \`htpasswd -m ${file} ${user}\` or \`openssl passwd -apr1\`.`,
      });
    }
    users.push(user);
  });
  if (users.length === 0) {
    throw new Hop3Error('CONFIG_STATICFILE_AUTH_INVALID', `${file} has no \`user:hash\` line: nobody could sign in to the site.`, {
      file,
      hint: 'Add a user with `htpasswd -m Staticfile.auth <user>`, or remove the file to serve the site without a password.',
    });
  }
  return { users };
}

/** One build warning for the Staticfile keys hop3 reads but does not act on (Cloud Foundry's gzip, ssi...). */
export function staticfileWarning(staticfile: { file: string; parsed: Staticfile } | undefined): string | undefined {
  if (!staticfile || staticfile.parsed.notActedOn.length === 0) return undefined;
  return `${staticfile.file}: declared, not acted on by hop3: ${staticfile.parsed.notActedOn.join(', ')}`;
}
