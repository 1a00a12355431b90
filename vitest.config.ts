import { defineConfig } from 'vitest/config';

// The CLI tests run the real bin: it is bundled once before them. Unit tests need no bundle and no engine.
const cliSetup = ['test/helpers/global-setup.ts'];

export default defineConfig({
  test: {
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    projects: [
      // Unit files mostly wait (timers, sockets, child processes): more workers than cores overlap those waits.
      // They share a module cache per worker (isolate: false), which halves the run's CPU: so a unit test
      // must leave no global state behind (no process.env writes, no module mocks).
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 20_000, maxWorkers: 3, isolate: false, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'cli', include: ['test/*.test.ts', 'test/safety/**/*.test.ts'], globalSetup: cliSetup, sequence: { groupOrder: 1 } } },
      { extends: true, test: { name: 'docker', include: ['test/docker/**/*.test.ts'], globalSetup: cliSetup, sequence: { groupOrder: 1 } } },
      { extends: true, test: { name: 'nix', include: ['test/nix/**/*.test.ts'], globalSetup: cliSetup, sequence: { groupOrder: 1 } } },
      // Faults that stop the machine's engines: alone, after every other project (groups run in order: unit, engines, faults).
      { extends: true, test: { name: 'faults', include: ['test/faults/**/*.test.ts'], globalSetup: cliSetup, sequence: { groupOrder: 2 } } },
    ],
  },
});
