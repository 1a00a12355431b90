import type { Artifact } from '../artifact/artifact-file.js';
import { Hop3Error } from '../errors.js';
import type { Deployer } from './deployer.js';
import { ProcessDeployer } from './process-deployer.js';

/** Deployers in the order they are asked; the first to accept the artifact runs it. */
export async function loadDeployers(): Promise<Deployer[]> {
  return [new ProcessDeployer(), new (await import('./container-deployer.js')).ContainerDeployer()];
}

export async function deployerFor(artifact: Artifact): Promise<Deployer> {
  const deployers = await loadDeployers();
  const deployer = deployers.find((d) => d.accept(artifact));
  if (!deployer) {
    throw new Hop3Error('DEPLOY_NO_DEPLOYER', `No deployer accepts a ${artifact.builder} artifact (${artifact.app_name} ${artifact.build_id}).`, {
      hint: `Deployers here: ${deployers.map((d) => d.name).join(', ')}. Rebuild with a builder one of them runs.`,
    });
  }
  return deployer;
}

export async function deployerNamed(name: string): Promise<Deployer> {
  const deployer = (await loadDeployers()).find((d) => d.name === name);
  if (!deployer) throw new Hop3Error('STATE_UNKNOWN_DEPLOYER', `This hop3 has no deployer named ${name}.`, { hint: 'Upgrade hop3 or stop the app by hand.' });
  return deployer;
}
