/**
 * NodeInfo: one node as the scheduler sees it: the Node object and the pods on it (bound,
 * and assumed: bound in the scheduler's mind while the binding is in flight), with running
 * totals (requests, host ports, claims in use) so that a filter is a few comparisons.
 *
 * A NodeInfo may exist without a Node object: pods bound to a node the informer has not
 * delivered yet (or has deleted) are still counted there.
 */
import type { Node } from '../api/index.js';
import type { HostPort, PodInfo } from './pod-info.js';
import { hasAffinityConstraints, podClaimNames } from './pod-info.js';
import { addResource, cloneResource, emptyResource, nodeAllocatable, type Resource } from './resources.js';

/** Host ports in use: ip → `protocol/port` set. */
export class HostPortInfo {
  private readonly byIP = new Map<string, Map<string, number>>();

  add(p: HostPort): void {
    let m = this.byIP.get(p.ip);
    if (!m) this.byIP.set(p.ip, (m = new Map()));
    const k = `${p.protocol}/${p.port}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  }

  remove(p: HostPort): void {
    const m = this.byIP.get(p.ip);
    if (!m) return;
    const k = `${p.protocol}/${p.port}`;
    const n = (m.get(k) ?? 0) - 1;
    if (n > 0) m.set(k, n);
    else m.delete(k);
    if (m.size === 0) this.byIP.delete(p.ip);
  }

  /** A port on 0.0.0.0 conflicts with the same port on any address, and the other way round. */
  conflicts(p: HostPort): boolean {
    const k = `${p.protocol}/${p.port}`;
    if (p.ip === '0.0.0.0') {
      for (const m of this.byIP.values()) if (m.has(k)) return true;
      return false;
    }
    return !!this.byIP.get(p.ip)?.has(k) || !!this.byIP.get('0.0.0.0')?.has(k);
  }

  get size(): number {
    return this.byIP.size;
  }

  clone(): HostPortInfo {
    const c = new HostPortInfo();
    for (const [ip, m] of this.byIP) c.byIP.set(ip, new Map(m));
    return c;
  }
}

/** An image known on some nodes: its size and on how many nodes it is. */
export interface ImageStateSummary {
  size: number;
  numNodes: number;
}

export class NodeInfo {
  node: Node | undefined;
  readonly name: string;
  pods: PodInfo[] = [];
  /** Pods with any (anti-)affinity term; InterPodAffinity walks only these. */
  podsWithAffinity: PodInfo[] = [];
  podsWithRequiredAntiAffinity: PodInfo[] = [];
  requested: Resource = emptyResource();
  nonZeroRequested: Resource = emptyResource();
  allocatable: Resource = emptyResource();
  usedPorts = new HostPortInfo();
  /** `namespace/claim` → pods on this node using it. */
  pvcRefCounts = new Map<string, number>();
  /** Images on the node by normalized name; the summaries are shared with the cache. */
  imageStates = new Map<string, ImageStateSummary>();
  /** Bumped on every change; lets callers notice a NodeInfo moved on. */
  generation = 0;

  constructor(name: string, node?: Node) {
    this.name = name;
    if (node) this.setNode(node);
  }

  setNode(node: Node): void {
    this.node = node;
    this.allocatable = nodeAllocatable(node);
    this.generation++;
  }

  clearNode(): void {
    this.node = undefined;
    this.allocatable = emptyResource();
    this.generation++;
  }

  addPod(pi: PodInfo): void {
    this.pods.push(pi);
    if (hasAffinityConstraints(pi)) this.podsWithAffinity.push(pi);
    if (pi.requiredAntiAffinityTerms.length > 0) this.podsWithRequiredAntiAffinity.push(pi);
    this.account(pi, 1);
  }

  /** Removes the pod with this key; false if it was not here. */
  removePod(key: string): boolean {
    const i = this.pods.findIndex((p) => p.key === key);
    if (i < 0) return false;
    const pi = this.pods[i]!;
    this.pods.splice(i, 1);
    this.podsWithAffinity = this.podsWithAffinity.filter((p) => p.key !== key);
    this.podsWithRequiredAntiAffinity = this.podsWithRequiredAntiAffinity.filter((p) => p.key !== key);
    this.account(pi, -1);
    return true;
  }

  private account(pi: PodInfo, sign: 1 | -1): void {
    addResource(this.requested, pi.requests, sign);
    this.nonZeroRequested.milliCPU += sign * pi.nonZeroRequests.milliCPU;
    this.nonZeroRequested.memory += sign * pi.nonZeroRequests.memory;
    for (const p of pi.hostPorts) {
      if (sign > 0) this.usedPorts.add(p);
      else this.usedPorts.remove(p);
    }
    const ns = pi.pod.metadata.namespace ?? '';
    for (const claim of podClaimNames(pi.pod)) {
      const k = `${ns}/${claim}`;
      const n = (this.pvcRefCounts.get(k) ?? 0) + sign;
      if (n > 0) this.pvcRefCounts.set(k, n);
      else this.pvcRefCounts.delete(k);
    }
    this.generation++;
  }

  /** A copy to change freely (preemption's what-ifs, nominated pods); pods themselves are shared. */
  clone(): NodeInfo {
    const c = new NodeInfo(this.name);
    c.node = this.node;
    c.pods = [...this.pods];
    c.podsWithAffinity = [...this.podsWithAffinity];
    c.podsWithRequiredAntiAffinity = [...this.podsWithRequiredAntiAffinity];
    c.requested = cloneResource(this.requested);
    c.nonZeroRequested = cloneResource(this.nonZeroRequested);
    c.allocatable = cloneResource(this.allocatable);
    c.usedPorts = this.usedPorts.clone();
    c.pvcRefCounts = new Map(this.pvcRefCounts);
    c.imageStates = this.imageStates;
    c.generation = this.generation;
    return c;
  }
}
