// What a hand-written Engine API client does, as its own process: tar the directory as it is (tar-fs) and
// POST /build (dockerode), reading the stream to its end. `node bench/raw-docker-build.mjs <dir> <tag> [build-args JSON]`.
import Docker from 'dockerode';
import tar from 'tar-fs';

const [dir, tag, args = '{}'] = process.argv.slice(2);
const docker = new Docker();
const stream = await docker.buildImage(tar.pack(dir), { t: tag, dockerfile: 'Dockerfile', buildargs: JSON.parse(args), rm: true, forcerm: true });
let failure = '';
for await (const chunk of stream) if (chunk.toString().includes('"errorDetail"')) failure = chunk.toString();
if (failure) {
  process.stderr.write(`raw build failed: ${failure}\n`);
  process.exit(1);
}
