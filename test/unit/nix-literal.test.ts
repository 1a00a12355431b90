import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { generateNixExpression, toNix } from '../../builders/nix/nix-expression.js';
import { staticSite } from '../../builders/toolchains/static.js';
import type { NixValue } from '../../builders/toolchains/toolchain.js';
import { defaultSettings, parseAppSettings } from '../../src/config/app-settings.js';

// Unit tests need no engine: the literals are checked as strings, and evaluated by Nix itself only where it is installed.
const nixEval = await execa('nix-instantiate', ['--version'], { reject: false }).then((r) => r.exitCode === 0, () => false);

/** What Nix makes of an expression, as JSON. */
async function evaluate(expression: string): Promise<unknown> {
  const result = await execa('nix-instantiate', ['--eval', '--strict', '--json', '--expr', expression], { reject: false, all: true, env: { NIX_PATH: '' } });
  expect(result.exitCode, `${result.all}\n--- expression:\n${expression}`).toBe(0);
  return JSON.parse(result.stdout);
}

/** Strings a worker command or an env var may well hold. */
const TRICKY = {
  interpolation: 'echo ${HOME} and ${toString 1}',
  escapedInterpolation: 'literal \\${x} and $${y}',
  dollars: 'pid $$, last $_, ansi $\'a\\tb\', $& $` $\' $1',
  quotes: 'say "hi" and \'\' and \'\'\'',
  backslashes: 'C:\\path\\ and \\n stays two chars and \\',
  whitespace: 'line one\nline two\r\n\ttabbed',
  unicode: 'café ☕ — ok',
  trailingDollar: 'costs 5$',
  bareDollarBrace: '${',
};

describe('Nix literals (toNix)', () => {
  it('escapes what Nix would interpolate or end a string on', () => {
    expect(toNix('${HOME}')).toBe('"\\${HOME}"');
    expect(toNix('say "hi"')).toBe('"say \\"hi\\""');
    expect(toNix('a\\b')).toBe('"a\\\\b"');
    expect(toNix('a\\${b}')).toBe('"a\\\\\\${b}"'); // an escaped backslash, then an escaped ${
    expect(toNix('1\n2\r3\t4')).toBe('"1\\n2\\r3\\t4"');
    expect(toNix('$$ $x')).toBe('"$$ $x"'); // a $ not before { is plain text in Nix
  });

  it('renders lists and attribute sets with stable indentation, keys bare only where Nix allows', () => {
    const value: NixValue = { workers: { web: 'serve', 'with-dash': 'x' }, list: ['a', ['b'], {}], empty: [], none: null, yes: true, n: 3 };
    expect(toNix(value)).toBe(
      [
        '{',
        '  workers = {',
        '    web = "serve";',
        '    with-dash = "x";',
        '  };',
        '  list = [',
        '    "a"',
        '    [',
        '      "b"',
        '    ]',
        '    { }',
        '  ];',
        '  empty = [ ];',
        '  none = null;',
        '  yes = true;',
        '  n = 3;',
        '}',
      ].join('\n'),
    );
    const keys = Object.fromEntries(['or', 'with', 'in', 'rec', '1abc', 'a.b', 'has space', '', '${x}', "it's", "x'"].map((key) => [key, 1]));
    expect(toNix(keys).split('\n').slice(1, -1).map((line) => line.trim())).toEqual([
      '"or" = 1;', '"with" = 1;', '"in" = 1;', '"rec" = 1;', '"1abc" = 1;', '"a.b" = 1;', '"has space" = 1;', '"" = 1;', '"\\${x}" = 1;', "it's = 1;", "x' = 1;",
    ]);
  });

  it('renders a negative number in a list as one element', () => {
    expect(toNix([1, -2, 0.5])).toBe('[\n  1\n  (-2)\n  0.5\n]');
  });

  it.skipIf(!nixEval)('evaluates back to the same value in Nix', async () => {
    const value: NixValue = {
      ...TRICKY,
      list: Object.values(TRICKY),
      nested: { 'or': [{ deep: TRICKY.interpolation, 'a.b': [null, false, -1, 2.5] }], '${x}': 'key with an interpolation' },
      empty: { list: [], set: {} },
    };
    expect(await evaluate(toNix(value))).toEqual(value);
  });
});

describe('generated Nix expressions', () => {
  const runtime: NixValue = { workers: { web: TRICKY.dollars, clock: TRICKY.interpolation }, env_vars: { GREETING: TRICKY.quotes, PATHS: TRICKY.backslashes } };
  const toolchain = { ...staticSite, nixExpression: async () => ({ template: 'static.nix', variables: { runtime } }) };

  it('put each value into the template as its literal, whatever `$` sequences it holds', async () => {
    const { template, text } = await generateNixExpression(toolchain, { dir: '/nonexistent', settings: defaultSettings() }, 'demo');
    expect(template).toBe('static.nix');
    expect(text).toContain('  name = "demo";\n');
    expect(text).toContain(`  runtime = ${toNix(runtime, '  ')};\n`);
    expect(text).not.toContain('@@');
  });

  /** The template's let bindings, evaluated with a tiny package set standing for pkgs. */
  const bindingsOf = (text: string) => {
    const bindings = /\nlet\n([\s\S]*?)\nin\n/.exec(text)?.[1];
    expect(bindings).toBeDefined();
    return (result: string) => `let pkgs = { jq = "jq-pkg"; python3Packages = { flask = "flask-pkg"; }; }; in let\n${bindings}\nin ${result}`;
  };

  it.skipIf(!nixEval)('evaluate (their let bindings) to the values hop3 gave', async () => {
    const { text } = await generateNixExpression(toolchain, { dir: '/nonexistent', settings: defaultSettings() }, 'demo');
    expect(await evaluate(bindingsOf(text)('{ inherit name runtime buildInputs runtimeInputs; }'))).toEqual({ name: 'demo', runtime, buildInputs: [], runtimeInputs: [] });
  });

  it.skipIf(!nixEval)('take [build] and [run] packages from pkgs by attribute path (Debian names mapped), and name one pkgs lacks', async () => {
    const settings = parseAppSettings('[build]\npackages = ["jq=1.6*"]\n[run]\npackages = ["python3Packages.flask", "jq"]\n');
    const { text } = await generateNixExpression(toolchain, { dir: '/nonexistent', settings }, 'demo');
    expect(await evaluate(bindingsOf(text)('{ inherit buildInputs runtimeInputs; }'))).toEqual({ buildInputs: ['jq-pkg'], runtimeInputs: ['flask-pkg', 'jq-pkg'] });
    const unknown = await generateNixExpression(toolchain, { dir: '/nonexistent', settings: parseAppSettings('[run]\npackages = ["libpq-dev"]\n') }, 'demo');
    expect(unknown.text).toContain('map (package "[run] packages") [\n    "postgresql"\n  ]');
    const result = await execa('nix-instantiate', ['--eval', '--strict', '--json', '--expr', bindingsOf(unknown.text)('runtimeInputs')], { reject: false, all: true, env: { NIX_PATH: '' } });
    expect(result.all).toContain('hop3: [run] packages: no package "postgresql" in the package set');
  });
});
