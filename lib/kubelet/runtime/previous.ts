import { RuntimeError } from './errors.js';
import { containerNameLabel } from './labels.js';
import type { ContainerRuntime, ContainerSummary } from './runtime.js';

/**
 * The instance before `containerId`: same pod, same container name, the highest restart count
 * below its own, still present (kubectl logs --previous). NotFound when there is none.
 */
export async function findPreviousContainer(rt: ContainerRuntime, containerId: string): Promise<ContainerSummary> {
  const cur = await rt.inspectContainer(containerId);
  const same = await rt.listContainers({ podUID: cur.podUID, labels: { [containerNameLabel]: cur.metadata.name } });
  const before = same.filter((c) => c.metadata.attempt < cur.metadata.attempt).sort((a, b) => b.metadata.attempt - a.metadata.attempt);
  if (!before[0]) {
    throw new RuntimeError(
      'NotFound',
      `previous terminated container "${cur.metadata.name}" in pod "${cur.podNamespace}/${cur.podName}" not found (restart count ${cur.metadata.attempt})`,
    );
  }
  return before[0];
}
