/**
 * NodeResourcesFit. Filter: the pod's requests must fit in what the node's allocatable leaves
 * after the pods already there (bound or assumed), and the node must take one more pod. Every
 * shortfall is a reason of its own ("Insufficient cpu", "Insufficient memory", "Too many pods").
 *
 * Score (the LeastAllocated strategy, upstream's default): per resource, the share left free
 * after placing the pod, on 0..100, averaged over cpu and memory with weight 1 each. Requests
 * count with the non-zero defaults, so best-effort pods spread too.
 */
import type { CycleState, ClusterEvent, FilterPlugin, ScorePlugin, Status } from '../framework.js';
import { maxNodeScore, unschedulable } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';
import { isZeroRequest, type Resource } from '../resources.js';

export interface InsufficientResource {
  resource: string;
  reason: string;
  requested: number;
  used: number;
  capacity: number;
}

/** Whether `req` fits, without building the reasons (the common case, on hundreds of nodes per pod). */
export function fitsResources(req: Resource, nodeInfo: NodeInfo): boolean {
  const alloc = nodeInfo.allocatable;
  const used = nodeInfo.requested;
  if (nodeInfo.pods.length + 1 > alloc.allowedPodNumber) return false;
  if (req.milliCPU > 0 && req.milliCPU > alloc.milliCPU - used.milliCPU) return false;
  if (req.memory > 0 && req.memory > alloc.memory - used.memory) return false;
  if (req.ephemeralStorage > 0 && req.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage) return false;
  for (const name in req.scalar) {
    const q = req.scalar[name]!;
    if (q !== 0 && q > (alloc.scalar[name] ?? 0) - (used.scalar[name] ?? 0)) return false;
  }
  return true;
}

/** What the node lacks for `req`; empty when the pod fits. */
export function insufficientResources(req: Resource, nodeInfo: NodeInfo): InsufficientResource[] {
  const out: InsufficientResource[] = [];
  const alloc = nodeInfo.allocatable;
  const used = nodeInfo.requested;
  if (nodeInfo.pods.length + 1 > alloc.allowedPodNumber) {
    out.push({ resource: 'pods', reason: 'Too many pods', requested: 1, used: nodeInfo.pods.length, capacity: alloc.allowedPodNumber });
  }
  if (isZeroRequest(req)) return out;
  if (req.milliCPU > 0 && req.milliCPU > alloc.milliCPU - used.milliCPU) {
    out.push({ resource: 'cpu', reason: 'Insufficient cpu', requested: req.milliCPU, used: used.milliCPU, capacity: alloc.milliCPU });
  }
  if (req.memory > 0 && req.memory > alloc.memory - used.memory) {
    out.push({ resource: 'memory', reason: 'Insufficient memory', requested: req.memory, used: used.memory, capacity: alloc.memory });
  }
  if (req.ephemeralStorage > 0 && req.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage) {
    out.push({ resource: 'ephemeral-storage', reason: 'Insufficient ephemeral-storage', requested: req.ephemeralStorage, used: used.ephemeralStorage, capacity: alloc.ephemeralStorage });
  }
  for (const [name, q] of Object.entries(req.scalar)) {
    if (q === 0) continue;
    const a = alloc.scalar[name] ?? 0;
    const u = used.scalar[name] ?? 0;
    if (q > a - u) out.push({ resource: name, reason: `Insufficient ${name}`, requested: q, used: u, capacity: a });
  }
  return out;
}

/** (capacity - requested) * 100 / capacity, 0 when over capacity. */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * maxNodeScore) / capacity);
}

export class NodeResourcesFit implements FilterPlugin, ScorePlugin {
  static readonly pluginName = 'NodeResourcesFit';
  readonly name = NodeResourcesFit.pluginName;
  readonly events: readonly ClusterEvent[] = ['NodeAdd', 'NodeAllocatableChange', 'AssignedPodDelete', 'AssignedPodUpdate'];

  filter(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    if (fitsResources(pod.requests, nodeInfo)) return undefined;
    const missing = insufficientResources(pod.requests, nodeInfo);
    if (missing.length === 0) return undefined;
    return unschedulable(this.name, ...missing.map((m) => m.reason));
  }

  score(_state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): number {
    const alloc = nodeInfo.allocatable;
    let total = 0;
    let weights = 0;
    if (alloc.milliCPU > 0) {
      total += leastRequestedScore(nodeInfo.nonZeroRequested.milliCPU + pod.nonZeroRequests.milliCPU, alloc.milliCPU);
      weights++;
    }
    if (alloc.memory > 0) {
      total += leastRequestedScore(nodeInfo.nonZeroRequested.memory + pod.nonZeroRequests.memory, alloc.memory);
      weights++;
    }
    return weights === 0 ? 0 : Math.trunc(total / weights);
  }
}
