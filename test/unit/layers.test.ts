import { describe, expect, it } from 'vitest';
import { layerViolations, readLayeredSources } from '../helpers/layers.js';
import { ROOT } from '../helpers/sandbox.js';

describe('layers point one way', () => {
  it('holds for every module of src/ and builders/', async () => {
    expect(layerViolations(await readLayeredSources(ROOT))).toEqual([]);
  });

  it('catches an import of a higher layer, a sibling, a dynamic import and an unplaced module', () => {
    const files = new Map([
      ['src/artifact/a.ts', "import { x } from '../cli/main.js';"],
      ['src/manifest/m.ts', "import type { T } from '../../builders/builder.js';"],
      ['builders/b.ts', "const d = await import('../src/deployers/registry.js');"],
      ['src/deployers/d.ts', "export { y } from '../../builders/registry.js';"],
      ['src/new-area/n.ts', "import { z } from '../errors.js';"],
      ['src/cli/ok.ts', "import { buildApp } from '../../builders/build-app.js';\nimport '../errors.js';"],
    ]);
    expect(layerViolations(files)).toEqual([
      'src/artifact/a.ts -> src/cli/main.ts (foundation must not import the higher cli layer)',
      'src/manifest/m.ts -> builders/builder.ts (manifest must not import the higher builders layer)',
      'builders/b.ts -> src/deployers/registry.ts (builders and deployers never import each other)',
      'src/deployers/d.ts -> builders/registry.ts (deployers and builders never import each other)',
      'src/new-area/n.ts belongs to no layer (add its folder to LAYERS)',
    ]);
  });
});
