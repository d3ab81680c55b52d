/**
 * What the runtime holds for one pod, read through the ContainerRuntime: its sandboxes and every
 * container instance (running ones and the dead ones kept for `logs --previous`), newest first.
 * The pod sync decides from this and builds the pod's status from it.
 *
 * RuntimeReader keeps the inspect answer of every container it has seen and asks the runtime
 * again only when a list shows a container in another state: an exited container never
 * changes, so a steady pod costs one list call per read.
 */
import type { ContainerRuntime, ContainerStatus, SandboxSummary } from '../runtime/index.js';
import { isRuntimeNotFound } from '../runtime/index.js';

export interface PodRuntimeState {
  uid: string;
  /** The pod's sandboxes, newest (highest attempt) first. */
  sandboxes: SandboxSummary[];
  /** Every container instance of the pod, newest (highest restart count) first. */
  containers: ContainerStatus[];
}

export function emptyRuntimeState(uid: string): PodRuntimeState {
  return { uid, sandboxes: [], containers: [] };
}

/** The newest sandbox, if any. */
export function latestSandbox(s: PodRuntimeState): SandboxSummary | undefined {
  return s.sandboxes[0];
}

/** The instances of one container of the pod spec, newest first. */
export function instancesOf(s: PodRuntimeState, name: string): ContainerStatus[] {
  return s.containers.filter((c) => c.metadata.name === name);
}

/** The newest instance of a container, if it ever ran. */
export function latestInstance(s: PodRuntimeState, name: string): ContainerStatus | undefined {
  return s.containers.find((c) => c.metadata.name === name);
}

function newestFirst<T extends { createdAt: Date }>(attempt: (x: T) => number) {
  return (a: T, b: T) => attempt(b) - attempt(a) || b.createdAt.getTime() - a.createdAt.getTime();
}

export class RuntimeReader {
  private readonly inspected = new Map<string, ContainerStatus>();

  /**
   * @param labels labels every object of this node carries (the kubelet's node label), so that
   *   a kubelet sharing its Docker engine with others only ever reads its own.
   */
  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly labels: Record<string, string>,
  ) {}

  async readPod(uid: string): Promise<PodRuntimeState> {
    const { sandboxes, containers: summaries } = await this.runtime.listPodObjects({ podUID: uid, labels: this.labels });
    const containers: ContainerStatus[] = [];
    await Promise.all(
      summaries.map(async (s) => {
        const cached = this.inspected.get(s.id);
        // A container that could not run is listed as created and inspected as exited; it
        // never changes again.
        const same = cached && (cached.state === s.state || (s.state === 'created' && cached.reason === 'ContainerCannotRun'));
        if (cached && same && s.state !== 'unknown') {
          containers.push(cached);
          return;
        }
        try {
          const st = await this.runtime.inspectContainer(s.id);
          this.inspected.set(s.id, st);
          containers.push(st);
        } catch (err) {
          // Removed between the list and the inspect: it is simply gone.
          if (!isRuntimeNotFound(err)) throw err;
        }
      }),
    );
    sandboxes.sort(newestFirst<SandboxSummary>((x) => x.metadata.attempt));
    containers.sort(newestFirst<ContainerStatus>((x) => x.metadata.attempt));
    return { uid, sandboxes, containers };
  }

  /** Forgets a container (after removing it) or every container of a pod. */
  forget(ids: Iterable<string>): void {
    for (const id of ids) this.inspected.delete(id);
  }

  /** Drops cached answers for containers not in `live` (called after a full relist). */
  retainOnly(live: Set<string>): void {
    for (const id of this.inspected.keys()) if (!live.has(id)) this.inspected.delete(id);
  }
}
