import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeNetworkProfile, networkEnv, npmrcText, parseNpmrc, proxyVariables, resolveNetworkProfile, untrustedCertificate } from '../../src/config/network-profile.js';
import { Hop3Error } from '../../src/errors.js';
import { networkStage } from '../../builders/docker/network-stage.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n';
const TOKEN = 'npm_t0ken-5e1f';
let dir: string;
let bundle: string;
let userrc: string;
/** No CA, proxy or npm setting from the machine running the tests: each test says what it sets. */
let base: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hop3-network-'));
  bundle = path.join(dir, 'corp.pem');
  userrc = path.join(dir, 'user.npmrc');
  await writeFile(bundle, PEM);
  await writeFile(path.join(dir, 'not-pem.txt'), 'hello');
  await writeFile(userrc, `; comment\nregistry=https://npm.corp.example/\n@acme:registry="https://npm.acme.example/"\n//npm.corp.example/:_authToken=\${CORP_TOKEN}\n//npm.acme.example/:username=bob\n`);
  base = { HOME: dir, npm_config_userconfig: userrc, npm_config_globalconfig: path.join(dir, 'no-global-npmrc'), CORP_TOKEN: TOKEN };
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('network profile', () => {
  it('takes the CA bundle from --ca-bundle over [build] ca-bundle over NODE_EXTRA_CA_CERTS, SSL_CERT_FILE...', async () => {
    await writeFile(path.join(dir, 'other.pem'), PEM);
    const env = { ...base, NODE_EXTRA_CA_CERTS: path.join(dir, 'other.pem'), SSL_CERT_FILE: bundle };
    expect((await resolveNetworkProfile({ env, options: { caBundle: bundle }, appDir: dir, settings: { caBundle: 'other.pem' } })).caBundle).toEqual({ value: bundle, source: '--ca-bundle' });
    expect((await resolveNetworkProfile({ env, appDir: dir, settings: { caBundle: 'corp.pem' } })).caBundle).toMatchObject({ value: bundle, source: expect.stringContaining('[build] ca-bundle') });
    expect((await resolveNetworkProfile({ env })).caBundle).toEqual({ value: path.join(dir, 'other.pem'), source: 'env NODE_EXTRA_CA_CERTS' });
    expect((await resolveNetworkProfile({ env: { ...base, PIP_CERT: bundle } })).caBundle?.source).toBe('env PIP_CERT');
    expect((await resolveNetworkProfile({ env: base })).caBundle).toBeUndefined();
  });

  it('skips an unreadable CA variable with a warning, and refuses a bad --ca-bundle as a usage error', async () => {
    const profile = await resolveNetworkProfile({ env: { ...base, NODE_EXTRA_CA_CERTS: path.join(dir, 'missing.pem'), SSL_CERT_FILE: bundle } });
    expect(profile.caBundle?.source).toBe('env SSL_CERT_FILE');
    expect(profile.warnings).toEqual([expect.stringContaining('env NODE_EXTRA_CA_CERTS')]);
    const error = await resolveNetworkProfile({ env: base, options: { caBundle: path.join(dir, 'not-pem.txt') } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Hop3Error);
    expect(error).toMatchObject({ code: 'CONFIG_CA_BUNDLE_INVALID', usage: true, message: expect.stringContaining('holds no PEM certificate') });
  });

  it('reads proxies from --proxy or the variables in either case, and refuses a proxy that is not a URL', async () => {
    const fromEnv = await resolveNetworkProfile({ env: { ...base, https_proxy: 'http://p.example:3128', NO_PROXY: 'localhost' } });
    expect(proxyVariables(fromEnv)).toEqual({ HTTPS_PROXY: 'http://p.example:3128', https_proxy: 'http://p.example:3128', NO_PROXY: 'localhost', no_proxy: 'localhost' });
    const option = await resolveNetworkProfile({ env: { ...base, HTTPS_PROXY: 'http://other:1' }, options: { proxy: 'http://user:pa55-w0rd@p.example:3128' } });
    expect(option.proxy.http?.value).toBe('http://user:pa55-w0rd@p.example:3128');
    expect(option.proxy.https?.source).toBe('--proxy');
    expect(option.secrets).toContain('pa55-w0rd');
    await expect(resolveNetworkProfile({ env: base, options: { proxy: 'p.example:3128' } })).rejects.toMatchObject({ code: 'CONFIG_PROXY_INVALID', usage: true });
  });

  it("reads the npm registry, scopes and tokens from the user's and the app's npmrc and npm_config_ variables; tokens are secrets", async () => {
    await writeFile(path.join(dir, '.npmrc'), '@acme:registry=https://app.acme.example/\n');
    const profile = await resolveNetworkProfile({ env: base, appDir: dir });
    expect(profile.npm.registry).toEqual({ value: 'https://npm.corp.example/', source: '~/user.npmrc' });
    expect(profile.npm.scopes['@acme']).toEqual({ value: 'https://app.acme.example/', source: "the app's .npmrc" });
    expect(profile.npm.credentials['//npm.corp.example/:_authToken']?.value).toBe(TOKEN);
    expect(profile.secrets).toContain(TOKEN);
    expect(npmrcText(profile)).toContain(`//npm.corp.example/:_authToken=${TOKEN}`);
    const fromEnv = await resolveNetworkProfile({ env: { ...base, npm_config_registry: 'https://env.example/', npm_config_fetch_retries: '0' } });
    expect(fromEnv.npm.registry?.source).toBe('env npm_config_registry');
    expect(npmrcText(fromEnv)).toContain('fetch-retries=0\n');
    await writeFile(path.join(dir, 'global.npmrc'), `cafile=${bundle}\n`);
    expect((await resolveNetworkProfile({ env: { ...base, npm_config_globalconfig: path.join(dir, 'global.npmrc') } })).caBundle?.source).toBe(`npm cafile (${path.join(dir, 'global.npmrc')})`);
  });

  it('describes itself with every secret masked', async () => {
    const profile = await resolveNetworkProfile({ env: { ...base, HTTPS_PROXY: 'http://u:pr0xy-pass@p:1', PIP_INDEX_URL: 'https://u:p1p-pass@pypi.corp/simple' }, options: { caBundle: bundle } });
    const text = JSON.stringify(describeNetworkProfile(profile));
    for (const secret of [TOKEN, 'pr0xy-pass', 'p1p-pass']) expect(text).not.toContain(secret);
    expect(text).toContain('//npm.corp.example/:_authToken ***');
    expect(text).toContain(bundle);
  });

  it('gives tools an explicit CA under every name they read, and leaves the variables of one from the environment alone', async () => {
    const env = networkEnv(await resolveNetworkProfile({ env: base, options: { caBundle: bundle } }));
    for (const name of ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'PIP_CERT', 'NIX_SSL_CERT_FILE']) expect(env[name]).toBe(bundle);
    expect(networkEnv(await resolveNetworkProfile({ env: { ...base, NODE_EXTRA_CA_CERTS: bundle } }))).toEqual({});
  });

  it('parses npmrc values as npm does: quotes, comments, ${VAR}', () => {
    expect(parseNpmrc('# c\n a = "b"\nx=${Y}-z\n[section]\n', { Y: 'y' })).toEqual([['a', 'b'], ['x', 'y-z']]);
  });

  it('finds the TLS complaints of npm, pip and go in build output', () => {
    expect(untrustedCertificate('npm ERR! code SELF_SIGNED_CERT_IN_CHAIN')).toBe('SELF_SIGNED_CERT_IN_CHAIN');
    expect(untrustedCertificate('npm error code UNABLE_TO_GET_ISSUER_CERT_LOCALLY')).toBe('UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
    expect(untrustedCertificate("SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed'))")).toBeDefined();
    expect(untrustedCertificate('npm ERR! 404 Not Found')).toBeUndefined();
  });
});

describe('docker network stage', () => {
  const template = 'FROM b AS build\n# hop3:network\nRUN npm ci\nCOPY . /app\n# hop3:network-cleanup\nFROM r\nCOPY --from=build /app /app\n';

  it('copies the CA and registry settings into the build stage only, and passes the proxy as build args', async () => {
    const profile = await resolveNetworkProfile({ env: { ...base, HTTPS_PROXY: 'http://p:1' }, options: { caBundle: bundle } });
    const stage = await networkStage(profile, { text: template, generated: true });
    expect(stage.files.map((f) => f.path)).toEqual(['.hop3-network/ca.crt', '.hop3-network/npmrc', '.hop3-network/env.sh']);
    expect(stage.text).toContain('COPY .hop3-network/ /tmp/hop3-network/\nRUN npm ci');
    expect(stage.text).toContain('RUN rm -rf /app/.hop3-network\nFROM r');
    // Only the proxy goes in build args: never a token or the CA.
    expect(stage.buildArgs).toEqual({ HTTPS_PROXY: 'http://p:1', https_proxy: 'http://p:1' });
  });

  it("adds nothing to an app's own Dockerfile unless it names .hop3-network", async () => {
    const profile = await resolveNetworkProfile({ env: base, options: { caBundle: bundle } });
    expect((await networkStage(profile, { text: 'FROM x\nCOPY . /app\n', generated: false })).files).toEqual([]);
    expect((await networkStage(profile, { text: 'FROM x AS b\nCOPY .hop3-network/ /tmp/n/\n', generated: false })).files).toHaveLength(3);
  });
});
