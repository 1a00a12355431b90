import type { AppConfig } from '../../src/config/app-config.js';
import { Hop3Error } from '../../src/errors.js';

export interface NixOptions {
  /** Attribute asked for; undefined = the flake's `default` or the file's top level. */
  attr: string | undefined;
  template: string | undefined;
  overrideInputs: Record<string, string>;
  /** `--option` flags for every nix call. */
  options: string[];
}

/** The `[nix]` keys this builder reads (typed in src/config/hop3-toml.ts). */
const NIX_KEYS = ['attr', 'template', 'substituters', 'override-inputs'];

/**
 * Normalised once: `[nix]` settings plus HOP3_NIX_OFFLINE=1, which disables substituters
 * (no cache.nixos.org lookups, for offline machines and tests). Users with caches keep them by default.
 * Other `[nix]` keys (Hop3's templates have their own) are refused here: the nix builder would not act on them.
 */
export function nixOptions(config: AppConfig, env: NodeJS.ProcessEnv): NixOptions {
  const { file = 'hop3.toml', nix } = config.settings;
  if (nix.otherKeys.length > 0) {
    throw new Hop3Error('CONFIG_TOML_INVALID', `${file}: [nix] ${nix.otherKeys.map((key) => `${key}: unknown key`).join('; ')}`, {
      file,
      hint: `The [nix] keys hop3 reads are ${NIX_KEYS.join(', ')}; see nix/README.md.`,
    });
  }
  const substituters = env.HOP3_NIX_OFFLINE === '1' ? [] : nix.substituters;
  return {
    attr: nix.attr,
    template: nix.template,
    overrideInputs: nix.overrideInputs,
    options: substituters === undefined ? [] : ['--option', 'substituters', substituters.join(' ')],
  };
}
