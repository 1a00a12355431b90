import { describe, expect, it } from 'vitest';
import { diffArtifacts, fieldName } from '../../src/app/diff-artifacts.js';
import { recordedCommandLine } from '../../src/cli/command-line.js';

const base = {
  build_id: 'abc',
  location: '/srv/a',
  metadata: { build_dir: 'abc', provenance_inputs: { lockfiles: { 'package-lock.json': 'sha256:1' }, command: ['hop3', 'build', '<dir>'], git: null } },
};

describe('diffArtifacts', () => {
  it('finds nothing between equal artifacts, whatever their key order', () => {
    const reordered = { metadata: { provenance_inputs: { git: null, command: ['hop3', 'build', '<dir>'], lockfiles: { 'package-lock.json': 'sha256:1' } }, build_dir: 'abc' }, location: '/srv/a', build_id: 'abc' };
    expect(diffArtifacts(base, reordered)).toEqual([]);
  });

  it('names each differing field by its path, nested provenance included, in key order', () => {
    const other = {
      ...base,
      build_id: 'def',
      metadata: { build_dir: 'abc', provenance_inputs: { lockfiles: { 'package-lock.json': 'sha256:2', 'yarn.lock': 'sha256:3' }, command: ['hop3', 'build', '<dir>', '--force'], git: { commit: 'c0ffee', dirty: true } } },
    };
    expect(diffArtifacts(base, other)).toEqual([
      { path: ['build_id'], a: 'abc', b: 'def' },
      { path: ['metadata', 'provenance_inputs', 'command'], a: ['hop3', 'build', '<dir>'], b: ['hop3', 'build', '<dir>', '--force'] },
      { path: ['metadata', 'provenance_inputs', 'git'], a: null, b: { commit: 'c0ffee', dirty: true } },
      { path: ['metadata', 'provenance_inputs', 'lockfiles', 'package-lock.json'], a: 'sha256:1', b: 'sha256:2' },
      { path: ['metadata', 'provenance_inputs', 'lockfiles', 'yarn.lock'], b: 'sha256:3' },
    ]);
  });

  it('tells a missing field from a null one', () => {
    expect(diffArtifacts({ a: null }, {})).toEqual([{ path: ['a'], a: null }]);
    expect(diffArtifacts({}, { a: 1 })).toEqual([{ path: ['a'], b: 1 }]);
  });

  it('writes field paths as a reader would type them', () => {
    expect(fieldName(['metadata', 'provenance_inputs', 'lockfiles', 'package-lock.json'])).toBe('metadata.provenance_inputs.lockfiles["package-lock.json"]');
    expect(fieldName(['runtime', 'static_paths', '/'])).toBe('runtime.static_paths["/"]');
    expect(fieldName([])).toBe('(artifact)');
  });
});

describe('recordedCommandLine', () => {
  it('keeps the options but no path or secret source', () => {
    expect(recordedCommandLine(['build', '/tmp/x/app', '--builder', 'local', '--output=/tmp/a.json', '--secret', 'id=TOKEN,src=/home/me/token', '--force'])).toEqual([
      'hop3', 'build', '<dir>', '--builder', 'local', '--output', '<file>', '--secret', 'id=TOKEN', '--force',
    ]);
  });
});
