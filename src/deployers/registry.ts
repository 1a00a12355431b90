import type { Artifact } from '../artifact/artifact-file.js';
import { locationKind, type LocationKind } from '../artifact/location.js';
import { Hop3Error } from '../errors.js';
import type { Deployer, DeployerEngines } from './deployer.js';

interface TargetEntry {
  /** Location kinds it runs; the first target listing a kind is that kind's default. */
  runs: readonly LocationKind[];
  /** Location kinds it runs only when asked for by name. */
  asked?: readonly LocationKind[];
  load(engines: DeployerEngines): Promise<Deployer>;
}

/**
 * Every deployer target this hop3 has, in one place: `--target`, `[deploy] target` and the default
 * for an artifact derive from it. Loaders are lazy (only the container target pulls in dockerode).
 * Adding a target = one entry here + its module.
 */
const TARGETS = {
  process: { runs: ['host-path', 'store-path'], load: async () => new (await import('./process-deployer.js')).ProcessDeployer() },
  container: { runs: ['image'], load: async (engines: DeployerEngines) => new (await import('./container-deployer.js')).ContainerDeployer(engines) },
  // Never a default: an image runs on Swarm only when asked (--target swarm, [deploy] target = "swarm").
  swarm: { runs: [], asked: ['image'], load: async (engines: DeployerEngines) => new (await import('./swarm-deployer.js')).SwarmDeployer(engines) },
} satisfies Record<string, TargetEntry>;

export type TargetName = keyof typeof TARGETS;
export const TARGET_NAMES = Object.keys(TARGETS) as TargetName[];

/** Loads the deployer of a target; injected where a test must give a fault no real engine gives on demand. */
export type DeployerLoader = (target: string) => Promise<Deployer>;

export function deployerLoader(engines: DeployerEngines = {}): DeployerLoader {
  return async (target) => {
    if (!Object.hasOwn(TARGETS, target)) {
      throw new Hop3Error('STATE_UNKNOWN_DEPLOYER', `This hop3 has no deployer target named ${JSON.stringify(target)}.`, {
        hint: `Targets: ${TARGET_NAMES.join(', ')}. Upgrade hop3, or stop the app by hand.`,
      });
    }
    return TARGETS[target as TargetName].load(engines);
  };
}

/**
 * The target that runs an artifact: the one asked for (--target, else `[deploy] target` recorded at build),
 * which must run the artifact's kind of location, else the default for that kind.
 */
export function targetFor(artifact: Artifact, requested?: string): TargetName {
  const kind = locationKind(artifact.location);
  const asked = requested ?? (typeof artifact.metadata.deploy_target === 'string' ? artifact.metadata.deploy_target : undefined);
  if (asked !== undefined) {
    if (!Object.hasOwn(TARGETS, asked)) {
      throw new Hop3Error('DEPLOY_UNKNOWN_TARGET', `There is no deployer target ${JSON.stringify(asked)}.`, { usage: true, hint: `Targets: ${TARGET_NAMES.join(', ')}.` });
    }
    const target = asked as TargetName;
    if (!runsWhenAsked(target).includes(kind)) {
      throw new Hop3Error('DEPLOY_TARGET_MISMATCH', `The ${target} target cannot run ${artifact.app_name} build ${artifact.build_id}: its location is a ${kind} (${artifact.location}).`, {
        hint: `Targets for a ${kind}: ${TARGET_NAMES.filter((name) => runsWhenAsked(name).includes(kind)).join(', ') || 'none'}. Rebuild with another builder, or choose one of those.`,
      });
    }
    return target;
  }
  const [fallback] = targetsFor(kind);
  if (!fallback) {
    throw new Hop3Error('DEPLOY_NO_DEPLOYER', `No deployer target runs a ${kind} (${artifact.app_name} ${artifact.build_id}).`, {
      hint: `Targets here: ${TARGET_NAMES.join(', ')}. Rebuild with a builder one of them runs.`,
    });
  }
  return fallback;
}

function runsWhenAsked(target: TargetName): readonly LocationKind[] {
  const entry: TargetEntry = TARGETS[target];
  return [...entry.runs, ...(entry.asked ?? [])];
}

function targetsFor(kind: LocationKind): TargetName[] {
  return TARGET_NAMES.filter((name) => (TARGETS[name].runs as readonly LocationKind[]).includes(kind));
}
