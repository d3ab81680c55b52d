/**
 * Resource arithmetic, as the scheduler counts it: CPU in millicores, memory and ephemeral
 * storage in bytes, extended resources (`example.com/gpu`, `hugepages-2Mi`) as plain numbers.
 *
 * A pod's request is upstream's: the sum over its containers, or the largest init container if
 * that is more (sidecars, init containers with restartPolicy Always, keep running and add to
 * both), plus the pod overhead. Scoring uses "non-zero" requests, where a container that asks
 * for no CPU or memory counts as 100m CPU and 200Mi memory, so that best-effort pods do not all
 * pile onto one node.
 */
import { quantityToNumber, type Container, type Node, type PodSpec } from '../api/index.js';

export interface Resource {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  /** Pods the node takes (`pods` in allocatable); unused in pod requests. */
  allowedPodNumber: number;
  /** Extended and hugepages resources by name. */
  scalar: Record<string, number>;
}

/** The CPU and memory a container without requests is counted with when scoring. */
export const defaultMilliCPURequest = 100;
export const defaultMemoryRequest = 200 * 1024 * 1024;

export function emptyResource(): Resource {
  return { milliCPU: 0, memory: 0, ephemeralStorage: 0, allowedPodNumber: 0, scalar: {} };
}

export function cloneResource(r: Resource): Resource {
  return { milliCPU: r.milliCPU, memory: r.memory, ephemeralStorage: r.ephemeralStorage, allowedPodNumber: r.allowedPodNumber, scalar: { ...r.scalar } };
}

/** Whole units rounded up, as resource.Quantity's Value(); millis for CPU (MilliValue). */
function amount(name: string, q: string | number): number {
  const n = quantityToNumber(q);
  if (!Number.isFinite(n)) return 0;
  // Small epsilon: decimal quantities such as 1.1 are not exact in binary.
  return name === 'cpu' ? Math.ceil(n * 1000 - 1e-9) : Math.ceil(n - 1e-9);
}

/** Names counted as extended ("scalar") resources: everything but cpu, memory, storage and pods. */
export function isScalarResourceName(name: string): boolean {
  return name !== 'cpu' && name !== 'memory' && name !== 'ephemeral-storage' && name !== 'pods' && name !== 'storage';
}

/** A resource list (`{cpu: '500m', memory: '1Gi'}`) as a Resource. */
export function resourceFromList(list: Record<string, string | number> | undefined): Resource {
  const r = emptyResource();
  for (const [name, q] of Object.entries(list ?? {})) addNamed(r, name, amount(name, q));
  return r;
}

function addNamed(r: Resource, name: string, v: number): void {
  switch (name) {
    case 'cpu':
      r.milliCPU += v;
      return;
    case 'memory':
      r.memory += v;
      return;
    case 'ephemeral-storage':
      r.ephemeralStorage += v;
      return;
    case 'pods':
      r.allowedPodNumber += v;
      return;
    default:
      if (isScalarResourceName(name)) r.scalar[name] = (r.scalar[name] ?? 0) + v;
  }
}

export function addResource(into: Resource, r: Resource, sign = 1): void {
  into.milliCPU += sign * r.milliCPU;
  into.memory += sign * r.memory;
  into.ephemeralStorage += sign * r.ephemeralStorage;
  for (const [k, v] of Object.entries(r.scalar)) {
    const next = (into.scalar[k] ?? 0) + sign * v;
    if (next === 0) delete into.scalar[k];
    else into.scalar[k] = next;
  }
}

function maxInto(into: Resource, r: Resource): void {
  into.milliCPU = Math.max(into.milliCPU, r.milliCPU);
  into.memory = Math.max(into.memory, r.memory);
  into.ephemeralStorage = Math.max(into.ephemeralStorage, r.ephemeralStorage);
  for (const [k, v] of Object.entries(r.scalar)) into.scalar[k] = Math.max(into.scalar[k] ?? 0, v);
}

function containerRequests(c: Container, nonZero: boolean): Resource {
  const req = (c.resources?.requests ?? {}) as Record<string, string | number>;
  const r = resourceFromList(req);
  if (nonZero) {
    if (req.cpu === undefined) r.milliCPU = defaultMilliCPURequest;
    if (req.memory === undefined) r.memory = defaultMemoryRequest;
  }
  return r;
}

/**
 * What a pod asks of a node. `nonZero` applies the scoring defaults to containers that leave
 * CPU or memory unset.
 */
export function podRequests(spec: PodSpec | undefined, nonZero = false): Resource {
  const total = emptyResource();
  if (!spec) return total;
  for (const c of spec.containers ?? []) addResource(total, containerRequests(c, nonZero));
  // Init containers run one after another before the app containers; sidecars (restartPolicy
  // Always) start among them and keep running, so they count for everything that follows.
  const initMax = emptyResource();
  const sidecars = emptyResource();
  for (const c of spec.initContainers ?? []) {
    const r = containerRequests(c, nonZero);
    if (c.restartPolicy === 'Always') {
      addResource(sidecars, r);
      maxInto(initMax, sidecars);
    } else {
      const during = cloneResource(sidecars);
      addResource(during, r);
      maxInto(initMax, during);
    }
  }
  addResource(total, sidecars);
  maxInto(total, initMax);
  if (spec.overhead) addResource(total, resourceFromList(spec.overhead as Record<string, string | number>));
  return total;
}

/** What the node offers to pods: status.allocatable, or status.capacity when that is unset. */
export function nodeAllocatable(node: Node | undefined): Resource {
  const list = (node?.status?.allocatable ?? node?.status?.capacity) as Record<string, string | number> | undefined;
  return resourceFromList(list);
}

export function isZeroRequest(r: Resource): boolean {
  return r.milliCPU === 0 && r.memory === 0 && r.ephemeralStorage === 0 && Object.keys(r.scalar).length === 0;
}
