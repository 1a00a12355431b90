import { describe, expect, it } from 'vitest';
import { nixOptions } from '../../builders/nix/nix-options.js';
import { parseAppSettings } from '../../src/config/app-settings.js';

const config = (toml: string) => ({ dir: '/app', settings: parseAppSettings(toml, 'hop3.toml') });

describe('[nix] settings for the nix builder', () => {
  it('reads attr, template, substituters and override-inputs; HOP3_NIX_OFFLINE=1 empties the substituters', () => {
    const toml = '[nix]\nattr = "web"\ntemplate = "python"\nsubstituters = ["https://cache.example.org"]\noverride-inputs = { nixpkgs = "path:/n" }\n';
    expect(nixOptions(config(toml), {})).toEqual({
      attr: 'web',
      template: 'python',
      overrideInputs: { nixpkgs: 'path:/n' },
      options: ['--option', 'substituters', 'https://cache.example.org'],
    });
    expect(nixOptions(config(toml), { HOP3_NIX_OFFLINE: '1' }).options).toEqual(['--option', 'substituters', '']);
  });

  it('accepts Hop3 template keys in hop3.toml, but the nix builder refuses to build ignoring them', () => {
    const withHop3Keys = config('[nix]\ntemplate = "nixpkgs-wrapper"\nnixpkgs-package = "miniflux"\n');
    expect(withHop3Keys.settings.nix.otherKeys).toEqual(['nixpkgs-package']);
    expect(() => nixOptions(withHop3Keys, {})).toThrow(/hop3\.toml: \[nix\] nixpkgs-package: unknown key/);
    expect(() => parseAppSettings('[nix]\nattr = 3\n')).toThrow(/nix\.attr/);
  });
});
