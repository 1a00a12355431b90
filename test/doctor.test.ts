import { describe, expect, it } from 'vitest';
import { enginesRequired } from './helpers/engines.js';
import { Sandbox } from './helpers/sandbox.js';

describe('hop3 doctor', () => {
  it('reports the local toolchain, and Docker and Nix as usable where engines are required (CI)', async () => {
    await using sandbox = await Sandbox.create();
    const result = await sandbox.hop3(['doctor', '--json']);
    expect(result.exitCode, result.all).toBe(0);
    const checks = new Map((JSON.parse(result.stdout) as { name: string; usable: boolean; detail: string; hint?: string }[]).map((c) => [c.name, c]));
    for (const name of ['node', 'npm', 'python3', 'python3-venv', 'builder local']) expect(checks.get(name)?.usable, name).toBe(true);
    for (const name of ['builder docker', 'builder nix']) {
      const check = checks.get(name)!;
      if (enginesRequired) expect(check, `${name}: ${check.detail}`).toMatchObject({ usable: true });
      else expect(check.usable || Boolean(check.hint), `${name} must be usable or say what to install`).toBe(true);
      if (check.usable) expect(check.detail).toMatch(/\d+\.\d+/); // a version
    }
  });

  it('prints a readable table with what to install', async () => {
    await using sandbox = await Sandbox.create();
    const result = await sandbox.hop3(['doctor']);
    expect(result.stdout).toMatch(/^ok\s+node\s+v20/m);
  });
});
