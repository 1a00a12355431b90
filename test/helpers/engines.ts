import { execa } from 'execa';
import { describe, it } from 'vitest';
import { DockerBuilder } from '../../builders/docker/docker-builder.js';
import { NixBuilder } from '../../builders/nix/nix-builder.js';
import { NginxRouter } from '../../src/deployers/nginx-router.js';

/** What a suite may need from this machine beyond node: the engines, the router, Go, a private pid namespace for signal tests, root for fault tests. */
export type Engine = 'docker' | 'nix' | 'nginx' | 'go' | 'unshare' | 'root';

/** CI sets HOP3_REQUIRE_ENGINES=1: a missing engine then fails its suites instead of skipping them. */
export const enginesRequired = process.env.HOP3_REQUIRE_ENGINES === '1';

export interface EngineAvailability {
  usable: boolean;
  /** A version, or why it is not usable. */
  detail: string;
  hint?: string | undefined;
}

// The same checks as `hop3 doctor`, so a skipped suite says what doctor would say.
const PROBES: Record<Engine, () => Promise<EngineAvailability>> = {
  docker: () => new DockerBuilder({ env: process.env }).available(),
  nix: () => new NixBuilder({ env: process.env }).available(),
  async nginx() {
    const router = await NginxRouter.find(process.env);
    return router
      ? { usable: true, detail: `nginx ${router.version}` }
      : { usable: false, detail: process.env.HOP3_ROUTER === 'off' ? 'HOP3_ROUTER=off' : 'nginx is not installed', hint: 'Install nginx (Debian: apt-get install nginx-light).' };
  },
  async go() {
    const run = await execa('go', ['version'], { reject: false, all: true });
    return run.exitCode === 0
      ? { usable: true, detail: run.stdout.trim() }
      : { usable: false, detail: `go version fails: ${run.all?.trim() || run.shortMessage}`, hint: 'Install Go (Debian: apt-get install golang-go; scripts/setup-engines.sh does).' };
  },
  async unshare() {
    const run = await execa('unshare', ['--pid', '--fork', '--mount-proc', 'true'], { reject: false, all: true });
    return run.exitCode === 0
      ? { usable: true, detail: 'unshare --pid works' }
      : { usable: false, detail: `unshare --pid --fork --mount-proc fails: ${run.all?.trim() || run.shortMessage}`, hint: 'Run as root, or where user namespaces are allowed.' };
  },
  async root() {
    const uid = process.getuid?.();
    return uid === 0 ? { usable: true, detail: 'running as root' } : { usable: false, detail: `running as uid ${uid}`, hint: 'Run the tests as root (they use setpriv and private mounts).' };
  },
};

const checked = new Map<Engine, Promise<EngineAvailability>>();

/** Whether the engine works here (checked once per test file). */
export function engineAvailability(engine: Engine): Promise<EngineAvailability> {
  let availability = checked.get(engine);
  if (!availability) {
    availability = PROBES[engine]().catch((error: unknown) => ({ usable: false, detail: error instanceof Error ? error.message : String(error) }));
    checked.set(engine, availability);
  }
  return availability;
}

export type SuiteDeclaration = (name: string, suite: () => void) => void;

/**
 * The one gate for engine suites: `const describeWithDocker = await engineGate('docker')` (or several:
 * `engineGate('docker', 'nginx')`). The suite runs when every one works; otherwise it is skipped, except
 * under HOP3_REQUIRE_ENGINES=1, where it is replaced by one failing test that says what is not usable and why.
 */
export async function engineGate(...engines: [Engine, ...Engine[]]): Promise<SuiteDeclaration> {
  const missing = (await Promise.all(engines.map(async (engine) => ({ engine, ...(await engineAvailability(engine)) })))).find((a) => !a.usable);
  return (name, suite) => {
    if (!missing) describe(name, suite);
    else if (!enginesRequired) describe.skip(`${name} (no ${missing.engine}: ${missing.detail})`, suite);
    else {
      describe(name, () => {
        it(`needs ${missing.engine}`, () => {
          throw new Error(`HOP3_REQUIRE_ENGINES=1 but ${missing.engine} is not usable: ${missing.detail}${missing.hint ? `\nhint: ${missing.hint}` : ''}`);
        });
      });
    }
  };
}
