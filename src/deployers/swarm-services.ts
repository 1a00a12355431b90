import type { DockerClient } from '../engines/docker-client.js';
import type { EngineLogs } from './log-frames.js';

/** How often the swarm target asks the manager how its services and tasks are doing. */
export const POLL_MS = 500;

/** The fields of a Swarm task hop3 reads. */
export type Task = {
  ID?: string;
  DesiredState?: string;
  Slot?: number;
  NodeID?: string;
  Status?: { State?: string; Err?: string; Message?: string; ContainerStatus?: { ExitCode?: number } };
  Spec?: { ContainerSpec?: { Labels?: Record<string, string> } };
};

/** Remove a service; one already gone is fine. */
export async function removeService(docker: DockerClient, id: string): Promise<void> {
  await docker
    .getService(id)
    .remove()
    .catch((error: { statusCode?: number }) => {
      if (error.statusCode !== 404) throw error;
    });
}

/** The engine's logs of a service (dockerode types each `follow` its own way). */
export function engineLogsOf(docker: DockerClient): EngineLogs {
  return (id, { follow, ...options }) => (follow ? docker.getService(id).logs({ ...options, follow: true }) : docker.getService(id).logs({ ...options, follow: false }));
}
