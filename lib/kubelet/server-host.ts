/**
 * The kubelet's side of its HTTPS API: a KubeletServerHost (lib/kubelet/server/host.ts) over
 * the kubelet's own state. Pods come from the pod manager (API pods bound to this node and
 * static pods, never mirror pods), each with the latest status the kubelet computed (so that
 * "waiting to start: ContainerCreating" is what the kubelet knows now, not what the API
 * server last stored), and where its sandbox and containers are from the runtime, read
 * through the same RuntimeReader the pod sync uses (its inspect cache is shared).
 *
 * Node usage is left to the server's default (/proc of the machine): stats have one home,
 * lib/kubelet/server/stats.ts.
 */
import type { Pod } from '../api/index.js';
import type { PodStatus } from './api-types.js';
import type { RuntimeReader } from './pod/runtime-state.js';
import type { ContainerRuntime } from './runtime/index.js';
import type { KubeletPodRef, KubeletServerHost } from './server/index.js';

export interface KubeletHostDeps {
  nodeName: string;
  runtime: ContainerRuntime;
  reader: RuntimeReader;
  /** Every pod the kubelet runs (the pod manager's `all()`). */
  pods(): Pod[];
  /** The status the kubelet last computed for a pod uid (the status manager's), if any. */
  status(uid: string): PodStatus | undefined;
  startTime?: Date;
}

export class KubeletHost implements KubeletServerHost {
  readonly nodeName: string;
  readonly runtime: ContainerRuntime;
  readonly startTime?: Date;

  constructor(private readonly d: KubeletHostDeps) {
    this.nodeName = d.nodeName;
    this.runtime = d.runtime;
    this.startTime = d.startTime;
  }

  /** The pod with the kubelet's latest status in place of the stored one. */
  private current(pod: Pod): Pod {
    const status = this.d.status(pod.metadata.uid ?? '');
    return status ? { ...pod, status } : pod;
  }

  async listPods(): Promise<Pod[]> {
    return this.d.pods().map((p) => this.current(p));
  }

  async findPod(namespace: string, name: string, uid?: string): Promise<KubeletPodRef | undefined> {
    const pod = this.d.pods().find((p) => (p.metadata.namespace ?? 'default') === namespace && p.metadata.name === name && (!uid || p.metadata.uid === uid));
    if (!pod) return undefined;
    const state = await this.d.reader.readPod(pod.metadata.uid ?? '');
    const containerIds: Record<string, string> = {};
    const previousContainerIds: Record<string, string> = {};
    // Instances come newest first: the first of a name is the current one, the second the previous.
    for (const c of state.containers) {
      const n = c.metadata.name;
      if (!(n in containerIds)) containerIds[n] = c.id;
      else if (!(n in previousContainerIds)) previousContainerIds[n] = c.id;
    }
    const sandbox = state.sandboxes.find((s) => s.state === 'ready');
    return { pod: this.current(pod), containerIds, previousContainerIds, ...(sandbox ? { sandboxId: sandbox.id } : {}) };
  }
}
