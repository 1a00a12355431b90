/**
 * `[build] packages` / `[run] packages` as attribute paths of the package set the expression gets
 * (`pkgs`): hop3.toml files written for Hop3 name Debian packages, so the common ones are mapped;
 * any other name is taken as an attribute path as it is (`python3Packages.flask`). The expression
 * refuses a name the set does not have (BUILD_NIX_PACKAGE_UNKNOWN).
 */
const DEBIAN_NAMES: Readonly<Record<string, string>> = {
  'build-essential': 'gcc',
  'default-jre': 'jre',
  'default-libmysqlclient-dev': 'libmysqlclient',
  'golang-go': 'go',
  'libffi-dev': 'libffi',
  'libjpeg-dev': 'libjpeg',
  'libpq-dev': 'postgresql',
  'libsqlite3-dev': 'sqlite',
  'libssl-dev': 'openssl',
  'libxml2-dev': 'libxml2',
  'libxslt1-dev': 'libxslt',
  npm: 'nodejs',
  'php-cli': 'php',
  'postgresql-client': 'postgresql',
  'python3-dev': 'python3',
  'python3-pip': 'python3',
  'python3-venv': 'python3',
  'redis-tools': 'redis',
  sqlite3: 'sqlite',
  'zlib1g-dev': 'zlib',
};

/** The attribute path for a package name: apt's version (`=1.6*`) and architecture (`:amd64`) suffixes dropped. */
export function nixAttribute(name: string): string {
  const bare = name.split(/[=:]/, 1)[0]!;
  return Object.hasOwn(DEBIAN_NAMES, bare) ? DEBIAN_NAMES[bare]! : bare;
}
