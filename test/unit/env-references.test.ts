import { describe, expect, it } from 'vitest';
import { expandReferences, referencesOf, resolveEnv } from '../../src/config/env-references.js';

describe('$NAME and ${NAME} in env values', () => {
  it('finds the names a value refers to, in both spellings, each once', () => {
    expect(referencesOf('http://$HOST:${PORT}/$HOST')).toEqual(['HOST', 'PORT']);
    expect(referencesOf('no $ here, nor $1, $$, $(cmd), ${} or ${A-B}')).toEqual([]);
  });

  it('replaces what the lookup knows and leaves the rest as written (a "$" in a password survives)', () => {
    const lookup = (name: string) => ({ PORT: '8080', EMPTY: '' })[name];
    expect(expandReferences('$PORT ${PORT} $PORTX ${EMPTY}. p$ss $$ $1 $(id) `id`', lookup)).toBe('8080 8080 $PORTX . p$ss $$ $1 $(id) `id`');
  });

  it('resolves variables against each other and hop3\'s own, which win and are never expanded', () => {
    const env = resolveEnv({ NITRO_PORT: '$PORT', URL: 'http://${HOST}:$NITRO_PORT/', HOST: '127.0.0.1', PORT: 'ignored' }, { PORT: '4000', APP: '$NOT_EXPANDED' });
    expect(env).toEqual({ NITRO_PORT: '4000', URL: 'http://127.0.0.1:4000/', HOST: '127.0.0.1', PORT: '4000' });
    expect(resolveEnv({ A: '$APP' }, { APP: '$B' })).toEqual({ A: '$B' });
  });

  it('keeps a reference to itself (directly or through others) as written, instead of looping', () => {
    expect(resolveEnv({ A: 'x$A' })).toEqual({ A: 'x$A' });
    const cycle = resolveEnv({ A: 'a$B', B: 'b$A', C: '$A' });
    expect(cycle.A).toBe('ab$A');
    expect(cycle.C).toBe('ab$A');
  });
});
