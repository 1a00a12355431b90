import { shellQuote } from '../../src/process/shell-quote.js';

/** Where hop3's Dockerfile templates install system packages: a line each, replaced (or dropped) when generated. */
const MARKERS = {
  /** The build stage: `[build] packages`. */
  'build-packages': 'build',
  /** The final stage: `[run] packages`. */
  'run-packages': 'run',
  /** A single-stage template: both. */
  packages: 'both',
} as const;

export interface SystemPackages {
  build: readonly string[];
  run: readonly string[];
}

/**
 * A template with its `# @hop3 <marker>` lines replaced by an apt-get install of the packages due there,
 * run as root before the template's USER line; a marker with nothing to install is dropped. The names
 * were checked when hop3.toml was read, and are quoted anyway.
 */
export function installPackages(template: string, packages: SystemPackages): string {
  return template.replace(/^# @hop3 (build-packages|run-packages|packages)\n/gm, (_line, marker: keyof typeof MARKERS) => {
    const stage = MARKERS[marker];
    const names = stage === 'both' ? [...new Set([...packages.build, ...packages.run])] : [...packages[stage]];
    if (names.length === 0) return '';
    const key = stage === 'build' ? '[build] packages' : stage === 'run' ? '[run] packages' : '[build]/[run] packages';
    return `# ${key} from hop3.toml, with the image's apt (Debian, Ubuntu).
RUN command -v apt-get >/dev/null || { echo "hop3: ${key} are installed with apt-get, which this image does not have (use a Debian or Ubuntu base image)" >&2; exit 1; }; \\
    apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${names.map(shellQuote).join(' ')} \\
 && rm -rf /var/lib/apt/lists/*
`;
  });
}
