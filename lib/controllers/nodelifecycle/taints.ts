/**
 * Taints and tolerations as the node controllers use them: matching, the tolerations a pod
 * uses for a set of taints, and adding/removing a node's taints with optimistic retries.
 */
import type { Node, Pod, Taint, Toleration } from '../../api/index.js';
import { Resources, deepCopy, type KubeClient, type SharedInformer } from '../../client/index.js';
import { isConflict, jsonEqual } from '../../machinery/index.js';

export const taintNodeNotReady = 'node.kubernetes.io/not-ready';
export const taintNodeUnreachable = 'node.kubernetes.io/unreachable';
export const taintNodeUnschedulable = 'node.kubernetes.io/unschedulable';
export const taintNodeMemoryPressure = 'node.kubernetes.io/memory-pressure';
export const taintNodeDiskPressure = 'node.kubernetes.io/disk-pressure';
export const taintNodePIDPressure = 'node.kubernetes.io/pid-pressure';
export const taintNodeNetworkUnavailable = 'node.kubernetes.io/network-unavailable';
export const taintNodeOutOfService = 'node.kubernetes.io/out-of-service';

export const unreachableNoExecute: Taint = { key: taintNodeUnreachable, effect: 'NoExecute' };
export const notReadyNoExecute: Taint = { key: taintNodeNotReady, effect: 'NoExecute' };

/** Two taints are the same taint when key and effect match (the value may differ). */
export function matchTaint(a: Taint, b: Taint): boolean {
  return a.key === b.key && a.effect === b.effect;
}

export function taintExists(taints: readonly Taint[] | undefined, t: Taint): boolean {
  return (taints ?? []).some((x) => matchTaint(x, t));
}

/** Upstream's Toleration.ToleratesTaint. */
export function toleratesTaint(tol: Toleration, taint: Taint): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (tol.key !== undefined && tol.key !== '' && tol.key !== taint.key) return false;
  const op = tol.operator ?? 'Equal';
  if (op === 'Exists') return true;
  return (tol.value ?? '') === (taint.value ?? '');
}

/**
 * Whether every taint is tolerated, and the tolerations used: for each taint, the first
 * toleration that tolerates it.
 */
export function matchingTolerations(taints: readonly Taint[], tolerations: readonly Toleration[]): { allTolerated: boolean; used: Toleration[] } {
  const used: Toleration[] = [];
  for (const taint of taints) {
    const t = tolerations.find((tol) => toleratesTaint(tol, taint));
    if (!t) return { allTolerated: false, used: [] };
    used.push(t);
  }
  return { allTolerated: true, used };
}

/** The shortest tolerationSeconds among `used`, in ms: 0 for none or non-positive, -1 when all tolerate forever. */
export function minTolerationMs(used: readonly Toleration[]): number {
  if (used.length === 0) return 0;
  let min = Infinity;
  for (const t of used) {
    if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
    if (t.tolerationSeconds <= 0) return 0;
    min = Math.min(min, t.tolerationSeconds);
  }
  return min === Infinity ? -1 : min * 1000;
}

export function noExecuteTaints(node: Node | undefined): Taint[] {
  return (node?.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
}

/**
 * Adds and removes taints of a node (PUT, retried on conflicts with a fresh read). Taints to
 * add replace an existing taint with the same key and effect only if they differ in value;
 * `cached`, when given, saves the first read. Returns whether anything was written.
 */
export async function updateNodeTaints(client: KubeClient, nodeName: string, add: Taint[], remove: Taint[], cached?: Node): Promise<boolean> {
  const nodes = client.resource(Resources.nodes);
  let last: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const node = attempt === 0 && cached ? deepCopy(cached) : await nodes.get(nodeName);
    const before = node.spec?.taints ?? [];
    let next = before.filter((t) => !remove.some((r) => matchTaint(r, t)));
    for (const a of add) {
      const i = next.findIndex((t) => matchTaint(t, a));
      if (i < 0) next.push(a);
      else if ((next[i]!.value ?? '') !== (a.value ?? '')) next[i] = a;
    }
    if (jsonEqual(next, before)) return false;
    node.spec = { ...(node.spec ?? {}) };
    if (next.length) node.spec.taints = next;
    else delete node.spec.taints;
    try {
      await nodes.update(node);
      return true;
    } catch (err) {
      if (!isConflict(err)) throw err;
      last = err;
      next = [];
    }
  }
  throw last;
}

/** The name of the pods-by-node index on the shared pod informer. */
export const podNodeNameIndex = 'spec.nodeName';

/** Adds the pods-by-node index to the pod informer unless another component did already. */
export function ensurePodNodeNameIndex(inf: SharedInformer<Pod>): void {
  try {
    inf.getIndexer().listIndexFuncValues(podNodeNameIndex);
  } catch {
    inf.addIndexers({ [podNodeNameIndex]: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) });
  }
}

export function podsOnNode(inf: SharedInformer<Pod>, node: string): Pod[] {
  return inf.getIndexer().byIndex(podNodeNameIndex, node);
}
