import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Hop3Error } from '../errors.js';

/**
 * How a build reaches the network, resolved once per build: the CAs to trust beyond an image's own, the
 * HTTP(S) proxy, and the package registries with their credentials. Builders hand it to their tools: the local
 * builder as environment, the docker builder as build args and build-stage files, the nix builder as its
 * fetchers' CA and a host-side vendoring step.
 */
export interface NetworkProfile {
  /** A PEM file of CAs (absolute path), and where it came from. */
  caBundle?: NetworkSetting;
  proxy: { http?: NetworkSetting; https?: NetworkSetting; noProxy?: NetworkSetting };
  npm: {
    /** The default registry, when set anywhere but npm's built-in default. */
    registry?: NetworkSetting;
    /** `@scope:registry` lines. */
    scopes: Record<string, NetworkSetting>;
    /** Per-registry credentials as npmrc keys (`//host/path/:_authToken`) -> value: secrets. */
    credentials: Record<string, NetworkSetting>;
    /** How npm talks to its registry: `fetch-retries`, `fetch-timeout`..., `strict-ssl`. */
    fetch: Record<string, NetworkSetting>;
  };
  /** PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS, PIP_TRUSTED_HOST from the environment. */
  pip: Record<string, NetworkSetting>;
  /** Values hop3 must never print or keep: registry tokens, passwords in URLs. */
  secrets: string[];
  /** What was set but not used (an unreadable CA file named by a variable), for the build log. */
  warnings: string[];
}

export interface NetworkSetting {
  value: string;
  /** `--ca-bundle`, `[build] proxy`, `env HTTPS_PROXY`, `~/.npmrc`... */
  source: string;
}

/** `--ca-bundle` / `--proxy`, as given on the command line. */
export interface NetworkOptions {
  caBundle?: string;
  proxy?: string;
}

export interface NetworkRequest {
  env: NodeJS.ProcessEnv;
  options?: NetworkOptions;
  /** The app's dir (its `.npmrc`, and `[build] ca-bundle` relative to it); absent for `hop3 doctor`. */
  appDir?: string;
  /** `[build] ca-bundle` / `[build] proxy`. */
  settings?: { caBundle?: string | undefined; proxy?: string | undefined };
  /** The hop3.toml those settings came from, for messages. */
  settingsFile?: string;
}

/** Variables naming a CA bundle, in the order they are looked at. */
export const CA_VARIABLES = ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'PIP_CERT'] as const;
const PIP_VARIABLES = ['PIP_INDEX_URL', 'PIP_EXTRA_INDEX_URL', 'PIP_FIND_LINKS', 'PIP_TRUSTED_HOST'] as const;
/** npmrc keys that carry a credential, after the `//host/path/:` prefix. */
const CREDENTIAL_KEYS = new Set(['_authToken', '_auth', '_password', 'username', 'certfile', 'keyfile']);
const SECRET_CREDENTIALS = new Set(['_authToken', '_auth', '_password']);
/** npm settings on how it fetches, carried to builds that run elsewhere (a container's build stage). */
const FETCH_KEYS = ['fetch-retries', 'fetch-retry-factor', 'fetch-retry-mintimeout', 'fetch-retry-maxtimeout', 'fetch-timeout', 'strict-ssl', 'maxsockets'];
/** npm_config_* variables read as network settings. */
const NPM_ENV_KEYS = ['registry', 'cafile', 'proxy', 'https-proxy', 'noproxy', ...FETCH_KEYS];

export async function resolveNetworkProfile(request: NetworkRequest): Promise<NetworkProfile> {
  const { env, options = {}, settings = {} } = request;
  const npmrc = await readNpmConfig(env, request.appDir);
  const warnings: string[] = [];
  const secrets: string[] = [];
  const where = request.settingsFile ? `[build] in ${request.settingsFile}` : '[build]';

  // The CA bundle: the option, hop3.toml, the variables tools read, npm's cafile; an explicit one must be a real PEM file.
  let caBundle: NetworkSetting | undefined;
  if (options.caBundle !== undefined) caBundle = await checkedBundle(path.resolve(options.caBundle), '--ca-bundle', true);
  else if (settings.caBundle !== undefined) caBundle = await checkedBundle(path.resolve(request.appDir ?? '.', settings.caBundle), `[build] ca-bundle (${where})`, false);
  else {
    const candidates = [...CA_VARIABLES.map((name) => [env[name], `env ${name}`] as const), [npmrc.values.cafile?.value, `npm cafile (${npmrc.values.cafile?.source})`] as const];
    for (const [file, source] of candidates) {
      if (!file) continue;
      const problem = await bundleProblem(path.resolve(file));
      if (problem) warnings.push(`${source} = ${file} is not used as the build's CA bundle: ${problem}`);
      else {
        caBundle = { value: path.resolve(file), source };
        break;
      }
    }
  }

  // The proxy: the option or hop3.toml set both schemes; else the variables (both cases), else npm's own settings.
  const explicit = options.proxy !== undefined ? { value: checkedProxy(options.proxy, '--proxy', true), source: '--proxy' } : settings.proxy !== undefined ? { value: checkedProxy(settings.proxy, '[build] proxy', false), source: '[build] proxy' } : undefined;
  const fromEnv = (...names: string[]) => {
    const name = names.find((n) => env[n]);
    return name ? { value: env[name]!, source: `env ${name}` } : undefined;
  };
  const proxy: NetworkProfile['proxy'] = {};
  const http = explicit ?? fromEnv('HTTP_PROXY', 'http_proxy') ?? npmrc.values.proxy;
  const https = explicit ?? fromEnv('HTTPS_PROXY', 'https_proxy') ?? npmrc.values['https-proxy'] ?? http;
  const noProxy = fromEnv('NO_PROXY', 'no_proxy') ?? npmrc.values.noproxy;
  if (http) proxy.http = http;
  if (https) proxy.https = https;
  if (noProxy) proxy.noProxy = noProxy;
  for (const setting of [http, https]) if (setting) secrets.push(...urlSecrets(setting.value));

  const npm: NetworkProfile['npm'] = { scopes: {}, credentials: {}, fetch: {} };
  if (npmrc.values.registry) npm.registry = npmrc.values.registry;
  for (const key of FETCH_KEYS) if (npmrc.values[key]) npm.fetch[key] = npmrc.values[key];
  for (const [key, setting] of Object.entries(npmrc.values)) {
    if (/^@[^:]+:registry$/.test(key)) npm.scopes[key.slice(0, -':registry'.length)] = setting;
    const credential = /^(\/\/.*):([^:]+)$/.exec(key);
    if (credential && CREDENTIAL_KEYS.has(credential[2]!)) {
      npm.credentials[key] = setting;
      if (SECRET_CREDENTIALS.has(credential[2]!)) secrets.push(setting.value);
    }
  }
  for (const setting of [npm.registry, ...Object.values(npm.scopes)]) if (setting) secrets.push(...urlSecrets(setting.value));

  const pip: NetworkProfile['pip'] = {};
  for (const name of PIP_VARIABLES) {
    if (!env[name]) continue;
    pip[name] = { value: env[name]!, source: `env ${name}` };
    for (const url of env[name]!.split(/\s+/)) secrets.push(...urlSecrets(url));
  }

  return { ...(caBundle ? { caBundle } : {}), proxy, npm, pip, secrets: [...new Set(secrets.filter((s) => s.length > 0))], warnings };
}

/** Where a CA bundle is explicit (the option, hop3.toml), not one the user's tools already read. */
const EXPLICIT_CA = /^(--ca-bundle|\[build\] ca-bundle)/;

/**
 * The environment the build's own tools (npm, pip, git, nix, corepack) need on this host, on top of the user's: an
 * explicit CA bundle under every name they read (one from the environment is there already, and its neighbours,
 * e.g. a full SSL_CERT_FILE beside a one-CA NODE_EXTRA_CA_CERTS, are the user's to keep), and the proxy under both spellings.
 */
export function networkEnv(profile: NetworkProfile): Record<string, string> {
  const env: Record<string, string> = {};
  if (profile.caBundle && EXPLICIT_CA.test(profile.caBundle.source)) for (const name of [...CA_VARIABLES, 'NIX_SSL_CERT_FILE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO']) env[name] = profile.caBundle.value;
  return { ...env, ...proxyVariables(profile) };
}

/** HTTP_PROXY, HTTPS_PROXY, NO_PROXY in both cases: Docker's predefined build args, which stay out of the image's history. */
export function proxyVariables(profile: NetworkProfile): Record<string, string> {
  const env: Record<string, string> = {};
  const { http, https, noProxy } = profile.proxy;
  if (http) env.HTTP_PROXY = env.http_proxy = http.value;
  if (https) env.HTTPS_PROXY = env.https_proxy = https.value;
  if (noProxy) env.NO_PROXY = env.no_proxy = noProxy.value;
  return env;
}

/** An npmrc for a build that runs elsewhere (a container's build stage): registries and their credentials. Holds secrets. */
export function npmrcText(profile: NetworkProfile): string | undefined {
  const lines = [
    ...(profile.npm.registry ? [`registry=${profile.npm.registry.value}`] : []),
    ...Object.entries(profile.npm.scopes).map(([scope, setting]) => `${scope}:registry=${setting.value}`),
    ...Object.entries(profile.npm.credentials).map(([key, setting]) => `${key}=${setting.value}`),
    ...Object.entries(profile.npm.fetch).map(([key, setting]) => `${key}=${setting.value}`),
  ];
  return lines.length > 0 ? `${lines.join('\n')}\n` : undefined;
}

/** The profile as `hop3 doctor` and the build log show it: one line per setting, secrets masked. */
export function describeNetworkProfile(profile: NetworkProfile): { name: string; detail: string }[] {
  const mask = (value: string) => profile.secrets.reduce((text, secret) => text.split(secret).join('***'), value);
  const lines: { name: string; detail: string }[] = [];
  lines.push({ name: 'CA bundle', detail: profile.caBundle ? `${profile.caBundle.value} (${profile.caBundle.source})` : "none: builds trust only their tools' and images' own CAs" });
  const { http, https, noProxy } = profile.proxy;
  const proxy = [http && `http ${mask(http.value)} (${http.source})`, https && `https ${mask(https.value)} (${https.source})`, noProxy && `no_proxy ${noProxy.value} (${noProxy.source})`].filter(Boolean);
  lines.push({ name: 'proxy', detail: proxy.length > 0 ? proxy.join('; ') : 'none' });
  const registries = [
    profile.npm.registry ? `${mask(profile.npm.registry.value)} (${profile.npm.registry.source})` : "npm's default (https://registry.npmjs.org/)",
    ...Object.entries(profile.npm.scopes).map(([scope, s]) => `${scope} ${mask(s.value)} (${s.source})`),
    ...Object.entries(profile.npm.credentials).map(([key, s]) => `${key} ${SECRET_CREDENTIALS.has(key.slice(key.lastIndexOf(':') + 1)) ? '***' : s.value} (${s.source})`),
  ];
  lines.push({ name: 'npm registry', detail: registries.join('; ') });
  const pip = Object.entries(profile.pip).map(([name, s]) => `${name}=${mask(s.value)}`);
  lines.push({ name: 'pip index', detail: pip.length > 0 ? pip.join('; ') : "pip's default (PyPI), or pip's config files" });
  return lines;
}

/** TLS failures tools print when a proxy or mirror signs with a CA they do not trust (npm, node, pip, curl, go). */
const UNTRUSTED = /\b(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT(?:_LOCALLY)?|UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERTIFICATE_VERIFY_FAILED)\b|certificate verify failed|self[- ]signed certificate in certificate chain|x509: certificate signed by unknown authority/i;

/** The TLS complaint in a build's output, if that is why it failed. */
export function untrustedCertificate(output: string): string | undefined {
  return UNTRUSTED.exec(output)?.[0];
}

/** The coded error for a build that failed on an untrusted certificate: it points at the CA and proxy settings, not at the tool. */
export function untrustedCertificateError(found: string, what: string, profile: NetworkProfile | undefined, from: Hop3Error): Hop3Error {
  const now = !profile ? '' : profile.caBundle ? ` (it used ${profile.caBundle.value}, from ${profile.caBundle.source}, which does not hold the CA that signed it)` : ' (no CA bundle is configured)';
  return new Hop3Error('BUILD_NETWORK_CA_UNTRUSTED', `${what} failed: a TLS certificate was not trusted (${found}); a proxy or registry mirror signs with a CA the build does not know${now}.`, {
    ...from.options,
    cause: from,
    hint: 'Give the build your CA bundle: --ca-bundle FILE, [build] ca-bundle in hop3.toml, or NODE_EXTRA_CA_CERTS / SSL_CERT_FILE in the environment; behind a proxy also --proxy URL or HTTPS_PROXY. `hop3 doctor` shows the network settings hop3 uses.',
  });
}

async function checkedBundle(file: string, source: string, usage: boolean): Promise<NetworkSetting> {
  const problem = await bundleProblem(file);
  if (problem) {
    throw new Hop3Error('CONFIG_CA_BUNDLE_INVALID', `${source}: ${file} ${problem}.`, {
      usage,
      hint: 'Name a PEM file of CA certificates (-----BEGIN CERTIFICATE-----), e.g. your company\'s CA, or /etc/ssl/certs/ca-certificates.crt with it appended.',
    });
  }
  return { value: file, source };
}

async function bundleProblem(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'latin1');
  } catch (error) {
    return `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
  return text.includes('-----BEGIN CERTIFICATE-----') ? undefined : 'holds no PEM certificate';
}

function checkedProxy(value: string, source: string, usage: boolean): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !/^(https?|socks[45]?h?):$/.test(url.protocol) || !url.hostname) {
    throw new Hop3Error('CONFIG_PROXY_INVALID', `${source}: ${JSON.stringify(value.replace(/\/\/[^@/]*@/, '//***@'))} is not a proxy URL.`, {
      usage,
      hint: 'Give the proxy as a URL with its scheme and port, e.g. http://proxy.example:3128 (credentials as http://user:password@host:port).',
    });
  }
  return value;
}

/** The password (or the whole user info) of a URL, which must not be printed. */
function urlSecrets(value: string): string[] {
  try {
    const url = new URL(value);
    // A token as the user name (https://TOKEN@host) is a secret; a short name is not (masking it would garble the log).
    const user = !url.password && url.username.length >= 8 ? url.username : '';
    return [url.password && decodeURIComponent(url.password), url.password, user].filter((s): s is string => s.length >= 4);
  } catch {
    return [];
  }
}

interface NpmConfig {
  /** Key -> value and the file (or variable) it came from; later sources win as npm lets them: env > project > user. */
  values: Record<string, NetworkSetting>;
}

/**
 * The npm settings a build's network needs, read as npm reads them (without starting npm): the global npmrc
 * (npm_config_globalconfig, else <prefix>/etc/npmrc), the user's (npm_config_userconfig, else ~/.npmrc), the app's
 * own .npmrc, then npm_config_* variables; `${VAR}` expanded.
 */
export async function readNpmConfig(env: NodeJS.ProcessEnv, appDir?: string): Promise<NpmConfig> {
  const values: Record<string, NetworkSetting> = {};
  const userConfig = env.npm_config_userconfig || env.NPM_CONFIG_USERCONFIG || path.join(env.HOME || os.homedir(), '.npmrc');
  const prefix = env.npm_config_prefix || env.NPM_CONFIG_PREFIX || env.PREFIX || path.dirname(path.dirname(process.execPath));
  const globalConfig = env.npm_config_globalconfig || env.NPM_CONFIG_GLOBALCONFIG || path.join(prefix, 'etc', 'npmrc');
  const files = [[globalConfig, globalConfig], [userConfig, userConfig.startsWith(env.HOME || os.homedir()) ? `~${userConfig.slice((env.HOME || os.homedir()).length)}` : userConfig], ...(appDir ? [[path.join(appDir, '.npmrc'), "the app's .npmrc"]] : [])];
  for (const [file, label] of files) {
    const text = await readFile(file!, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    for (const [key, value] of parseNpmrc(text, env)) values[key] = { value, source: label! };
  }
  for (const [name, value] of Object.entries(env)) {
    const match = /^npm_config_(.+)$/i.exec(name);
    if (!match || value === undefined || value === '') continue;
    const key = match[1]!.toLowerCase().replace(/_/g, '-');
    if (NPM_ENV_KEYS.includes(key)) values[key] = { value, source: `env ${name}` };
  }
  return { values };
}

/** npm's ini subset: `key=value` lines, `;`/`#` comments, quoted values, `${VAR}` from the environment. */
export function parseNpmrc(text: string, env: NodeJS.ProcessEnv): [string, string][] {
  const entries: [string, string][] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith(';') || line.startsWith('#') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const expand = (s: string) => s.replace(/(\\*)\$\{([^}]+)\}/g, (match, slashes: string, name: string) => (slashes.length % 2 ? match.slice(1) : `${slashes}${env[name] ?? ''}`));
    let value = line.slice(eq + 1).trim();
    if (/^"(.*)"$/.test(value) || /^'(.*)'$/.test(value)) value = value.slice(1, -1);
    entries.push([expand(line.slice(0, eq).trim()), expand(value)]);
  }
  return entries;
}
