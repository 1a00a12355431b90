#!/usr/bin/env node
// Thin launcher: the CLI is bundled into dist/ by `npm run build` (run by `prepare` on npm ci).
if (process.env.HOP3_DEBUG === '1') process.setSourceMapsEnabled(true);
const { main } = await import('../dist/main.js');

// Exit now: a command that gave up (a lost lock) must not let leftover work run on.
process.exit(await main(process.argv));
