/** What the web worker's health check asks, from inside its own container. */
export interface HealthRequest {
  /** http://127.0.0.1:PORT/path as the app sees it in its container. */
  url: string;
  /** A 2xx is required (a health check path was given); else any answer below 500 passes. */
  requireOk: boolean;
  /** Text the body must contain (`[healthcheck] contains`), with requireOk. */
  contains?: string;
  /** Seconds one GET may take. */
  timeoutS: number;
}

/**
 * The health check as one `sh` command run in the container by the engine (Swarm checks every task where it
 * runs, which nothing outside the cluster can reach): GET the URL with whichever client the image has —
 * python3, node, curl or wget (busybox's too). An image with none of them fails the check and says why.
 */
export function healthCommand(request: HealthRequest): string {
  const { url, requireOk, contains = '', timeoutS: t } = request;
  const python = [
    'import sys, urllib.request, urllib.error',
    'try:',
    `  r = urllib.request.urlopen(sys.argv[1], timeout=${t}); code = r.status; body = r.read().decode("utf-8", "replace")`,
    'except urllib.error.HTTPError as e:',
    '  code = e.code; body = ""',
    'except Exception as e:',
    '  print(e, file=sys.stderr); sys.exit(1)',
    `sys.exit(0 if (${requireOk ? `200 <= code < 300 and ${JSON.stringify(contains)} in body` : 'code < 500'}) else 1)`,
  ].join('\n');
  const node = [
    `const req = require("http").get(process.argv[1], { timeout: ${t * 1000} }, (res) => {`,
    '  let body = ""; res.setEncoding("utf8"); res.on("data", (c) => { body += c; });',
    `  res.on("end", () => process.exit((${requireOk ? `res.statusCode >= 200 && res.statusCode < 300 && body.includes(${JSON.stringify(contains)})` : 'res.statusCode < 500'}) ? 0 : 1));`,
    '});',
    'req.on("timeout", () => req.destroy(new Error("timed out")));',
    'req.on("error", (e) => { console.error(e.message); process.exit(1); });',
  ].join('\n');
  const grep = contains ? ` | grep -qF -- ${sq(contains)}` : '';
  const curl = requireOk
    ? `curl -fsS --max-time ${t} ${contains ? '' : '-o /dev/null '}"$u"${grep}`
    : `c=$(curl -s -o /dev/null -w '%{http_code}' --max-time ${t} "$u"); [ "$c" -ge 100 ] && [ "$c" -lt 500 ]`;
  // busybox wget exits 1 on any HTTP error and names the status: below 500 passes when an answer came. No -T: Debian's
  // busybox-static crashes with it; the engine's health check timeout bounds the probe.
  const wget = requireOk
    ? `wget -q -O ${contains ? '-' : '/dev/null'} "$u"${grep}`
    : `o=$(wget -q -O /dev/null "$u" 2>&1) || echo "$o" | grep -q 'HTTP/1\\.[01] [1-4]'`;
  return [
    `u=${sq(url)}`,
    `if command -v python3 >/dev/null 2>&1; then exec python3 -c ${sq(python)} "$u"`,
    `elif command -v node >/dev/null 2>&1; then exec node -e ${sq(node)} "$u"`,
    `elif command -v curl >/dev/null 2>&1; then ${curl}`,
    `elif command -v wget >/dev/null 2>&1; then ${wget}`,
    `else echo "hop3 health check: the image has no python3, node, curl or wget to GET $u" >&2; exit 1; fi`,
  ].join('\n');
}

/** A single-quoted sh word. */
const sq = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
