/**
 * A KubeletServerHost that holds its pods in memory: for tests, and for tools that serve a
 * fixed set of pods. The real kubelet implements the interface over its pod manager.
 */
import type { Pod } from '../../api/index.js';
import type { ContainerRuntime } from '../runtime/index.js';
import type { KubeletPodRef, KubeletServerHost, NodeUsage } from './host.js';

export class InMemoryKubeletHost implements KubeletServerHost {
  private readonly pods = new Map<string, KubeletPodRef>();
  nodeUsage?: () => Promise<NodeUsage>;

  constructor(
    readonly nodeName: string,
    readonly runtime: ContainerRuntime,
  ) {}

  /** Adds or replaces a pod (keyed by namespace/name). */
  set(ref: KubeletPodRef): void {
    this.pods.set(`${ref.pod.metadata.namespace ?? 'default'}/${ref.pod.metadata.name}`, ref);
  }

  delete(namespace: string, name: string): void {
    this.pods.delete(`${namespace}/${name}`);
  }

  async listPods(): Promise<Pod[]> {
    return [...this.pods.values()].map((r) => r.pod);
  }

  async findPod(namespace: string, name: string, uid?: string): Promise<KubeletPodRef | undefined> {
    const ref = this.pods.get(`${namespace}/${name}`);
    if (!ref || (uid && ref.pod.metadata.uid !== uid)) return undefined;
    return ref;
  }
}
