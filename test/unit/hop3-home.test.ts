import { describe, expect, it } from 'vitest';
import { appNameFromDir } from '../../src/state/hop3-home.js';

describe('app names derived from directory names', () => {
  it.each([
    ['/src/My App', 'my-app'],
    ['/src/0..', '0.'], // found by the app-name fuzzer: ".." made the derived name invalid
    ['/src/a..b', 'a.b'],
    ['/src/...', 'app'],
    ['/src/_x', 'x'],
    [`/src/${'a'.repeat(80)}`, 'a'.repeat(63)],
  ])('%s -> %s', (dir, name) => {
    expect(appNameFromDir(dir)).toBe(name);
  });
});
