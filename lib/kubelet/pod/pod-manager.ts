/**
 * The pods this node should run, from both sources: the API server (pods bound to this node,
 * from the pod informer's cache) and the manifest folder (static pods). Mirror pods, the API
 * server's copies of static pods, are not pods to run: they are how a static pod's status is
 * published, found here by namespace and name.
 */
import type { Pod } from '../../api/index.js';
import type { Indexer } from '../../client/index.js';
import { isMirrorPod } from '../static-pods.js';

export const podUIDIndex = 'uid';

export class PodManager {
  private staticPods = new Map<string, Pod>();

  /** `indexer`: the pod informer's cache, with the `uid` index. */
  constructor(private readonly indexer: Indexer<Pod>) {}

  setStaticPods(pods: readonly Pod[]): void {
    this.staticPods = new Map(pods.map((p) => [p.metadata.uid!, p]));
  }

  /** The pod to run with this uid (an API pod or a static pod). */
  get(uid: string): Pod | undefined {
    const s = this.staticPods.get(uid);
    if (s) return s;
    const api = this.indexer.byIndex(podUIDIndex, uid)[0];
    return api && !isMirrorPod(api) ? api : undefined;
  }

  isStatic(uid: string): boolean {
    return this.staticPods.has(uid);
  }

  /** Every pod to run. */
  all(): Pod[] {
    return [...this.indexer.list().filter((p) => !isMirrorPod(p)), ...this.staticPods.values()];
  }

  static(): Pod[] {
    return [...this.staticPods.values()];
  }

  /** The API pod with this namespace and name, mirror or not. */
  apiPod(namespace: string, name: string): Pod | undefined {
    return this.indexer.getByKey(`${namespace}/${name}`);
  }

  /** The mirror pod of a static pod, if the API server has one. */
  mirrorOf(staticPod: Pod): Pod | undefined {
    const p = this.apiPod(staticPod.metadata.namespace ?? 'default', staticPod.metadata.name ?? '');
    return p && isMirrorPod(p) ? p : undefined;
  }

  /** The static pod a mirror pod stands for. */
  staticFor(mirror: Pod): Pod | undefined {
    return [...this.staticPods.values()].find((s) => s.metadata.namespace === mirror.metadata.namespace && s.metadata.name === mirror.metadata.name);
  }

  /** Where a pod's status is written: the pod itself, or a static pod's mirror. */
  statusTarget(uid: string): Pod | undefined {
    const s = this.staticPods.get(uid);
    if (s) return this.mirrorOf(s);
    const api = this.indexer.byIndex(podUIDIndex, uid)[0];
    return api && !isMirrorPod(api) ? api : undefined;
  }
}
