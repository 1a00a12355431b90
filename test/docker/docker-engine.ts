import { expect } from 'vitest';
import { createDockerClient } from '../../src/engines/docker-client.js';
import { decodeLogFrames } from '../../src/deployers/log-frames.js';
import { engineAvailability, engineGate } from '../helpers/engines.js';

/** The daemon the tests use (DOCKER_HOST or the default socket). */
export const docker = createDockerClient(process.env);

/** `describe` for suites that need the Docker daemon (see engineGate). */
export const describeDocker = await engineGate('docker');

/** hop3's local base images (docker/base-images.sh): no registry is needed to build the fixtures. */
export const LOCAL_IMAGES = { HOP3_DOCKER_BASE_IMAGE: 'hop3/base-runtime:bookworm', HOP3_DOCKER_BUILD_IMAGE: 'hop3/base-build:bookworm', HOP3_DOCKER_GO_BUILD_IMAGE: 'hop3/base-go:bookworm' };

/** Run a command in a throwaway container of the image; returns its exit code and output. */
export async function runInImage(image: string, command: string, user?: string): Promise<{ code: number; output: string }> {
  const container = await docker.createContainer({ Image: image, Cmd: ['/bin/sh', '-c', command], Labels: { 'io.hop3.test': '1' }, ...(user ? { User: user } : {}) });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    return { code: StatusCode, output: decodeLogFrames(await container.logs({ stdout: true, stderr: true, follow: false })) };
  } finally {
    await container.remove({ force: true });
  }
}

/**
 * Remove the containers and images of these test apps (all labelled `io.hop3.test=1`). Scoped by app
 * so that test files running in parallel do not sweep each other's resources.
 */
export async function sweepTestResources(apps: readonly string[]): Promise<void> {
  if (!(await engineAvailability('docker')).usable) return;
  for (const app of apps) {
    for (const id of await containersOf(app)) await docker.getContainer(id).remove({ force: true }).catch(() => undefined);
    const images = await docker.listImages({ filters: JSON.stringify({ label: [`io.hop3.app=${app}`, 'io.hop3.test=1'] }) });
    for (const info of images) await docker.getImage(info.Id).remove({ force: true }).catch(() => undefined);
  }
}

export async function containersOf(app: string): Promise<string[]> {
  const infos = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`io.hop3.app=${app}`, 'io.hop3.test=1'] }) });
  return infos.map((info) => info.Id);
}

/** Every tag and repo digest of the image goes: the engine no longer has it at all (a run must pull it). */
export async function removeLocalImage(id: string): Promise<void> {
  await docker.getImage(id).remove({ force: true });
  await expect(docker.getImage(id).inspect()).rejects.toMatchObject({ statusCode: 404 });
}

/** Forget every reference to a test registry's images (tags and repo digests); the images themselves go by their labels. */
export async function removeRegistryReferences(registryHost: string): Promise<void> {
  for (const info of await docker.listImages().catch(() => [])) {
    for (const ref of [...(info.RepoDigests ?? []), ...(info.RepoTags ?? [])]) {
      if (ref.startsWith(`${registryHost}/`)) await docker.getImage(ref).remove({ noprune: true }).catch(() => undefined);
    }
  }
}
