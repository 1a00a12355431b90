import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';

export interface ProxiedGetOptions {
  /** http://[user:password@]host:port; an https target is tunnelled with CONNECT. */
  proxy?: string;
  /** NO_PROXY: comma-separated host suffixes, or `*`. */
  noProxy?: string;
  /** Extra CAs (PEM), trusted besides Node's own. */
  ca?: string;
  signal?: AbortSignal;
}

/**
 * GET a URL through the build's proxy and with its CA bundle, following redirects: Node 20's fetch honours neither
 * HTTP(S)_PROXY nor a CA given after startup. Resolves with the final response, whatever its status.
 */
export async function proxiedGet(url: string, options: ProxiedGetOptions, redirects = 5): Promise<http.IncomingMessage> {
  const target = new URL(url);
  const proxy = options.proxy && !bypassed(target.hostname, options.noProxy) ? new URL(options.proxy) : undefined;
  const response = await get(target, proxy, options);
  const location = response.headers.location;
  if (location && redirects > 0 && [301, 302, 303, 307, 308].includes(response.statusCode ?? 0)) {
    response.resume();
    return proxiedGet(new URL(location, target).href, options, redirects - 1);
  }
  return response;
}

function get(target: URL, proxy: URL | undefined, options: ProxiedGetOptions): Promise<http.IncomingMessage> {
  const ca = options.ca ? [...tls.rootCertificates, options.ca] : undefined;
  const auth: Record<string, string> = proxy?.username ? { 'proxy-authorization': `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}` } : {};
  const signal = options.signal ? { signal: options.signal } : {};
  return new Promise((resolve, reject) => {
    if (!proxy || target.protocol === 'http:') {
      // Plain http through a proxy: the absolute URL as the request target.
      const request = proxy
        ? http.get({ host: proxy.hostname, port: proxy.port || 80, path: target.href, headers: { host: target.host, ...auth }, ...signal }, resolve)
        : (target.protocol === 'https:' ? https : http).get(target, { ...(ca ? { ca } : {}), ...signal }, resolve);
      request.on('error', reject);
      return;
    }
    const connect = http.request({ host: proxy.hostname, port: proxy.port || 80, method: 'CONNECT', path: `${target.hostname}:${target.port || 443}`, headers: { host: `${target.hostname}:${target.port || 443}`, ...auth }, ...signal });
    connect.on('error', reject);
    connect.on('connect', (answer, socket) => {
      if (answer.statusCode !== 200) {
        socket.destroy();
        reject(Object.assign(new Error(`the proxy ${proxy.host} answered ${answer.statusCode} ${answer.statusMessage ?? ''} to CONNECT ${target.host}`.trim()), { code: 'EPROXY' }));
        return;
      }
      const request = https.get(target, { agent: false, createConnection: () => tls.connect({ socket, servername: target.hostname, ...(ca ? { ca } : {}) }), ...signal }, resolve);
      request.on('error', reject);
    });
    connect.end();
  });
}

function bypassed(host: string, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  return noProxy.split(/[,\s]+/).some((entry) => {
    const suffix = entry.trim().replace(/^\*?\./, '').replace(/:\d+$/, '').toLowerCase();
    return entry.trim() === '*' || (suffix !== '' && (host === suffix || host.endsWith(`.${suffix}`)));
  });
}
