#!/usr/bin/env node
// Thin launcher: the CLI is bundled into dist/main.cjs by `npm run build` (run by `prepare` on npm ci). It runs
// with a V8 code cache kept next to it (Node 20 has no compile cache of its own): the first run of each command
// adds what it compiled, later runs skip compiling it (about a third of a short command's CPU).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

if (process.env.HOP3_DEBUG === '1') process.setSourceMapsEnabled(true);
const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const file = path.join(dist, 'main.cjs');
const cacheDir = path.join(dist, 'code-cache', readFileSync(path.join(dist, 'bundle-id'), 'utf8').trim());
const command = /^[a-z][a-z-]*$/.test(process.argv[2] ?? '') ? process.argv[2] : 'other';
const readOrNone = (name) => {
  try {
    return readFileSync(path.join(cacheDir, name));
  } catch {
    return undefined;
  }
};
const cachedData = process.env.HOP3_CODE_CACHE === '0' ? undefined : readOrNone('main.cache');
const script = new Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
const module = { exports: {} };
script.runInThisContext()(module.exports, createRequire(file), module, file, dist);

const code = await module.exports.main(process.argv);
if (process.env.HOP3_CODE_CACHE !== '0' && (cachedData === undefined || script.cachedDataRejected || readOrNone(`ran-${command}`) === undefined)) saveCodeCache();
// Exit now: a command that gave up (a lost lock) must not let leftover work run on.
process.exit(code);

/** Best effort (a read-only install runs without): the cache, then the mark that this command is in it. */
function saveCodeCache() {
  try {
    mkdirSync(cacheDir, { recursive: true });
    const temp = path.join(cacheDir, `main.cache.${process.pid}`);
    writeFileSync(temp, script.createCachedData());
    renameSync(temp, path.join(cacheDir, 'main.cache'));
    writeFileSync(path.join(cacheDir, `ran-${command}`), '');
  } catch {
    // no cache this time
  }
}
