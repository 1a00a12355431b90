#!/usr/bin/env node
// hop3: puts a package manager into a build, for the local builder and hop3's node Dockerfile alike.
// Usage: node package-manager-setup.mjs <name@version-or-range> <app-root>   (COREPACK_HOME must be set)
// corepack fetches the manager into COREPACK_HOME (a cache builds share); it is copied to
// <app-root>/.hop3/package-manager/<name> with a shim per command in <app-root>/.hop3/bin, so the build
// steps and the app's workers (`yarn start`) run it with node alone, without corepack or a network.
// Prints {"name","version","bins"} on success; on failure one line "corepack: <reason>" on stderr, exit 1.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

function fail(reason) {
  process.stderr.write(`corepack: ${reason}\n`);
  process.exit(1);
}

/** corepack fails with a stack trace: its messages and their causes are the reason. */
function reasonOf(stderr) {
  const messages = [];
  for (const line of stderr.split('\n')) {
    const match = /^\s*(?:\[cause\]: )?(?:[A-Za-z]*Error): (.+)$/.exec(line);
    if (match && !messages.includes(match[1].trim())) messages.push(match[1].trim());
  }
  if (messages.length > 0) return messages.length > 1 ? `${messages[0]} (${messages.slice(1).join('; ')})` : messages[0];
  return stderr.trim().split('\n').filter(Boolean).at(-1) ?? 'no output';
}

const [spec, appRoot] = process.argv.slice(2);
const home = process.env.COREPACK_HOME;
if (!/^[a-z][\w.-]*@./.test(spec ?? '') || !appRoot || !home) fail('usage: COREPACK_HOME=<dir> node package-manager-setup.mjs <name@version> <app-root>');
const name = spec.slice(0, spec.indexOf('@'));

mkdirSync(home, { recursive: true });
// Run outside the app: there, its packageManager field would decide instead of the spec.
const result = spawnSync('corepack', [spec, '--version'], { cwd: home, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
if (result.error) {
  fail(result.error.code === 'ENOENT' ? 'corepack is not installed here (it ships with Node 16.9 to 24; else `npm install -g corepack`)' : `cannot run corepack: ${result.error.message}`);
}
if (result.status !== 0) fail(`cannot fetch ${spec}: ${reasonOf(result.stderr)}`);
const version = result.stdout.trim().split('\n').at(-1)?.trim() ?? '';
const source = path.join(home, 'v1', name, version);
let installed;
try {
  installed = JSON.parse(readFileSync(path.join(source, '.corepack'), 'utf8'));
} catch (error) {
  fail(`${spec} printed version "${version}", but ${source}/.corepack cannot be read (${error.message}): is this corepack 0.20 or later?`);
}

// The bins corepack would run: a map name -> file, or (yarn 2+) names that all run the one .js file it fetched.
let bins;
if (Array.isArray(installed.bin)) {
  const scripts = readdirSync(source).filter((file) => /\.c?js$/.test(file));
  if (scripts.length !== 1) fail(`${source} holds ${scripts.length} scripts, expected the one file of ${name} ${version}`);
  bins = Object.fromEntries(installed.bin.map((bin) => [bin, scripts[0]]));
} else {
  bins = installed.bin ?? {};
}
if (Object.keys(bins).length === 0) fail(`${source}/.corepack names no command`);

const hop3Dir = path.join(appRoot, '.hop3');
const target = path.join(hop3Dir, 'package-manager', name);
rmSync(target, { recursive: true, force: true });
cpSync(source, target, { recursive: true });
// Stops node's package.json lookup here: a lone yarn.js must not take "type": "module" from the app's package.json.
writeFileSync(path.join(hop3Dir, 'package-manager', 'package.json'), '{ "type": "commonjs" }\n');
mkdirSync(path.join(hop3Dir, 'bin'), { recursive: true });
for (const [bin, file] of Object.entries(bins)) {
  const entry = path.posix.normalize(`${name}/${file}`);
  if (!/^[\w.-]+$/.test(bin) || entry.startsWith('..') || path.posix.isAbsolute(entry) || /["$`\\\n]/.test(entry)) fail(`${source}/.corepack names an unexpected file for ${bin}: ${file}`);
  const shim = path.join(hop3Dir, 'bin', bin);
  // Relative to the shim: the same build runs from its build dir, /app in a container, or a Nix store path.
  writeFileSync(shim, `#!/bin/sh\n# ${name} ${version}, fetched by corepack and copied into this build by hop3\nexec node "$(dirname "$0")/../package-manager/${entry}" "$@"\n`);
  chmodSync(shim, 0o755);
}
process.stdout.write(`${JSON.stringify({ name, version, bins: Object.keys(bins) })}\n`);
