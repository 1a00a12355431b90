import * as z from 'zod';
import type { AppConfig } from '../../src/config/app-config.js';
import { Hop3Error } from '../../src/errors.js';
import { formatIssues } from '../../src/validation.js';

/** `[nix]` in hop3.toml: free-form in Hop3's schema; these are the keys hop3's nix builder reads. */
const NixSection = z
  .object({
    /** Flake output or attribute of hop3.nix/default.nix to build. */
    attr: z.string().min(1),
    /** Hop3's template name for generated expressions (python, node, static, generic); defaults to the detected toolchain. */
    template: z.string().min(1),
    /** Replaces the substituters from nix.conf; `[]` builds offline. */
    substituters: z.array(z.string()),
    /** Flake input name -> flake reference (`--override-input`), e.g. a local nixpkgs checkout. */
    'override-inputs': z.record(z.string(), z.string().min(1)),
  })
  .partial()
  .strict();

export interface NixOptions {
  /** Attribute asked for; undefined = the flake's `default` or the file's top level. */
  attr: string | undefined;
  template: string | undefined;
  overrideInputs: Record<string, string>;
  /** `--option` flags for every nix call. */
  options: string[];
}

/**
 * Normalised once: `[nix]` from hop3.toml plus HOP3_NIX_OFFLINE=1, which disables substituters
 * (no cache.nixos.org lookups, for offline machines and tests). Users with caches keep them by default.
 */
export function nixOptions(config: AppConfig, env: NodeJS.ProcessEnv): NixOptions {
  const file = config.toml?.file ?? 'hop3.toml';
  const result = NixSection.safeParse(config.toml?.parsed.nix ?? {});
  if (!result.success) {
    throw new Hop3Error('CONFIG_TOML_INVALID', `${file}: [nix] ${formatIssues(result.error.issues)}`, {
      file,
      hint: 'The [nix] keys hop3 reads are attr, template, substituters (list) and override-inputs (table); see nix/README.md.',
    });
  }
  const nix = result.data;
  const substituters = env.HOP3_NIX_OFFLINE === '1' ? [] : nix.substituters;
  return {
    attr: nix.attr,
    template: nix.template,
    overrideInputs: nix['override-inputs'] ?? {},
    options: substituters === undefined ? [] : ['--option', 'substituters', substituters.join(' ')],
  };
}
