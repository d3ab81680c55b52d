/** Binders: how a decision reaches the API server. The default posts to pods/binding. */
import type { Binding, Pod } from '../api/index.js';
import { Resources, type KubeClient } from '../client/index.js';

export interface Binder {
  /** Binds the pod to the node; rejects with the server's StatusError when refused. */
  bind(pod: Pod, nodeName: string, signal?: AbortSignal): Promise<void>;
}

/**
 * POST /api/v1/namespaces/<ns>/pods/<name>/binding, with the pod's UID as a precondition so
 * that a pod deleted and recreated under the same name is not bound by an old decision.
 */
export class DefaultBinder implements Binder {
  constructor(private readonly client: KubeClient) {}

  async bind(pod: Pod, nodeName: string, signal?: AbortSignal): Promise<void> {
    const ns = pod.metadata.namespace ?? 'default';
    const name = pod.metadata.name!;
    const binding: Binding = {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name, namespace: ns, ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}) },
      target: { kind: 'Node', name: nodeName },
    };
    await this.client.resource(Resources.pods, ns).createSubresource(name, 'binding', binding, { signal });
  }
}
