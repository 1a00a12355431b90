// The raw reference for the docker figures: what a minimal Engine API client does, as its own process — tar the
// directory as it is (tar-fs) and POST it to /build over the daemon's socket (node:http, no client library),
// reading the JSON stream to its end. `node bench/raw-docker-build.mjs <dir> <tag> [build-args JSON]`.
import http from 'node:http';
import tar from 'tar-fs';

const [dir, tag, args = '{}'] = process.argv.slice(2);
const host = process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
const target = host.startsWith('unix://') ? { socketPath: host.slice('unix://'.length) } : { host: new URL(host.replace(/^tcp:/, 'http:')).hostname, port: Number(new URL(host.replace(/^tcp:/, 'http:')).port || 2375) };
const query = new URLSearchParams({ t: tag, dockerfile: 'Dockerfile', buildargs: args, rm: '1', forcerm: '1' });

const failure = await new Promise((resolve, reject) => {
  const request = http.request({ ...target, method: 'POST', path: `/v1.41/build?${query}`, headers: { 'Content-Type': 'application/x-tar' } }, async (response) => {
    let text = '';
    for await (const chunk of response) text += chunk;
    resolve(response.statusCode !== 200 ? `HTTP ${response.statusCode}: ${text}` : text.split('\n').find((line) => line.includes('"errorDetail"')));
  });
  request.on('error', reject);
  tar.pack(dir).pipe(request);
});
if (failure) {
  process.stderr.write(`raw build failed: ${failure}\n`);
  process.exit(1);
}
