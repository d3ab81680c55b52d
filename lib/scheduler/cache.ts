/**
 * SchedulerCache: every node and every pod placed on one, bound or assumed.
 *
 * Assumed pods are the scheduler's own decisions whose binding has not been seen yet: the pod
 * is counted on its node the moment the node is chosen, so that the next cycle (which may run
 * before the binding is written) sees the room it takes.
 *
 *   assumePod ──► assumed ──binding seen by the informer (addPod)──► bound
 *                    │
 *                    └── binding failed (forgetPod) ──► gone (the pod is queued again)
 *
 * The cache is fed by informer handlers and read synchronously by scheduling cycles; it is
 * the ClusterSnapshot plugins see. Node lists handed out are rebuilt only after a change.
 */
import type { Node } from '../api/index.js';
import type { ClusterSnapshot } from './framework.js';
import { NodeInfo, type ImageStateSummary } from './node-info.js';
import { hasAffinityConstraints, podClaimNames, type PodInfo } from './pod-info.js';
import { normalizedImageName } from './plugins/image-locality.js';

interface PodState {
  pi: PodInfo;
  nodeName: string;
  assumed: boolean;
  bindingFinished: boolean;
}

interface ImageState extends ImageStateSummary {
  nodes: Set<string>;
}

const zoneLabels = ['topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/zone'];
const regionLabels = ['topology.kubernetes.io/region', 'failure-domain.beta.kubernetes.io/region'];

function zoneOf(node: Node): string {
  const l = node.metadata.labels ?? {};
  const region = regionLabels.map((k) => l[k]).find((v) => v !== undefined) ?? '';
  const zone = zoneLabels.map((k) => l[k]).find((v) => v !== undefined) ?? '';
  return `${region}:\u0000:${zone}`;
}

export class SchedulerCache implements ClusterSnapshot {
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly pods = new Map<string, PodState>();
  private readonly images = new Map<string, ImageState>();
  /** `namespace/claim` → pods using it, cluster-wide. */
  private readonly claimUsers = new Map<string, number>();
  private ordered: NodeInfo[] | undefined;
  private withAffinity: NodeInfo[] | undefined;
  private withAntiAffinity: NodeInfo[] | undefined;

  // ---- ClusterSnapshot ----------------------------------------------------------------

  nodeInfos(): readonly NodeInfo[] {
    if (!this.ordered) this.ordered = this.buildOrder();
    return this.ordered;
  }

  get(nodeName: string): NodeInfo | undefined {
    const ni = this.nodes.get(nodeName);
    return ni?.node ? ni : undefined;
  }

  nodesWithAffinityPods(): readonly NodeInfo[] {
    this.withAffinity ??= this.nodeInfos().filter((n) => n.podsWithAffinity.length > 0);
    return this.withAffinity;
  }

  nodesWithRequiredAntiAffinityPods(): readonly NodeInfo[] {
    this.withAntiAffinity ??= this.nodeInfos().filter((n) => n.podsWithRequiredAntiAffinity.length > 0);
    return this.withAntiAffinity;
  }

  isClaimInUse(claimKey: string): boolean {
    return (this.claimUsers.get(claimKey) ?? 0) > 0;
  }

  /**
   * Nodes grouped by zone, then taken one from each zone in turn, so that scoring a fraction of
   * the nodes (percentageOfNodesToScore) still looks at every zone.
   */
  private buildOrder(): NodeInfo[] {
    const zones = new Map<string, NodeInfo[]>();
    for (const ni of this.nodes.values()) {
      if (!ni.node) continue;
      const z = zoneOf(ni.node);
      let list = zones.get(z);
      if (!list) zones.set(z, (list = []));
      list.push(ni);
    }
    if (zones.size <= 1) return [...(zones.values().next().value ?? [])];
    const lists = [...zones.values()];
    const out: NodeInfo[] = [];
    for (let i = 0; out.length < this.countNodes(); i++) for (const l of lists) if (i < l.length) out.push(l[i]!);
    return out;
  }

  private countNodes(): number {
    let n = 0;
    for (const ni of this.nodes.values()) if (ni.node) n++;
    return n;
  }

  private changed(): void {
    this.withAffinity = undefined;
    this.withAntiAffinity = undefined;
  }

  // ---- nodes -------------------------------------------------------------------------

  addNode(node: Node): void {
    const name = node.metadata.name!;
    let ni = this.nodes.get(name);
    const old = ni?.node;
    if (!ni) this.nodes.set(name, (ni = new NodeInfo(name)));
    if (old) this.removeImages(old, ni);
    ni.setNode(node);
    this.addImages(node, ni);
    if (!old || zoneOf(old) !== zoneOf(node)) this.ordered = undefined;
    this.changed();
  }

  updateNode(node: Node): void {
    this.addNode(node);
  }

  removeNode(name: string): void {
    const ni = this.nodes.get(name);
    if (!ni) return;
    if (ni.node) this.removeImages(ni.node, ni);
    // Pods still bound there stay counted until their own deletion arrives.
    if (ni.pods.length === 0) this.nodes.delete(name);
    else ni.clearNode();
    this.ordered = undefined;
    this.changed();
  }

  private addImages(node: Node, ni: NodeInfo): void {
    ni.imageStates = new Map();
    for (const img of node.status?.images ?? []) {
      for (const raw of img.names ?? []) {
        const name = normalizedImageName(raw);
        let st = this.images.get(name);
        if (!st) this.images.set(name, (st = { size: img.sizeBytes ?? 0, numNodes: 0, nodes: new Set() }));
        st.nodes.add(ni.name);
        st.numNodes = st.nodes.size;
        ni.imageStates.set(name, st);
      }
    }
  }

  private removeImages(_node: Node, ni: NodeInfo): void {
    for (const [name, st] of ni.imageStates) {
      const is = st as ImageState;
      is.nodes.delete(ni.name);
      is.numNodes = is.nodes.size;
      if (is.nodes.size === 0) this.images.delete(name);
    }
    ni.imageStates = new Map();
  }

  // ---- pods --------------------------------------------------------------------------

  private place(pi: PodInfo, nodeName: string): void {
    let ni = this.nodes.get(nodeName);
    if (!ni) this.nodes.set(nodeName, (ni = new NodeInfo(nodeName)));
    ni.addPod(pi);
    this.countClaims(pi, 1);
    // Only pods with (anti-)affinity terms change the lists of nodes holding such pods.
    if (hasAffinityConstraints(pi)) this.changed();
  }

  private unplace(key: string, pi: PodInfo, nodeName: string): void {
    const ni = this.nodes.get(nodeName);
    if (ni?.removePod(key)) this.countClaims(pi, -1);
    if (ni && !ni.node && ni.pods.length === 0) this.nodes.delete(nodeName);
    if (hasAffinityConstraints(pi)) this.changed();
  }

  private countClaims(pi: PodInfo, n: number): void {
    const ns = pi.pod.metadata.namespace ?? '';
    for (const claim of podClaimNames(pi.pod)) {
      const k = `${ns}/${claim}`;
      const c = (this.claimUsers.get(k) ?? 0) + n;
      if (c > 0) this.claimUsers.set(k, c);
      else this.claimUsers.delete(k);
    }
  }

  /** Counts the pod on `pi.pod.spec.nodeName` before its binding is confirmed. */
  assumePod(pi: PodInfo): void {
    const nodeName = pi.pod.spec?.nodeName;
    if (!nodeName) throw new Error(`cannot assume pod ${pi.key}: it has no spec.nodeName`);
    if (this.pods.has(pi.key)) throw new Error(`pod ${pi.key} is already in the scheduler cache`);
    this.pods.set(pi.key, { pi, nodeName, assumed: true, bindingFinished: false });
    this.place(pi, nodeName);
  }

  /** The binding request returned (successfully): the pod stays assumed until the informer confirms it. */
  finishBinding(key: string): void {
    const st = this.pods.get(key);
    if (st?.assumed) st.bindingFinished = true;
  }

  /** The binding failed: the assumed pod leaves its node. */
  forgetPod(key: string): void {
    const st = this.pods.get(key);
    if (!st || !st.assumed) return;
    this.unplace(key, st.pi, st.nodeName);
    this.pods.delete(key);
  }

  isAssumed(key: string): boolean {
    return this.pods.get(key)?.assumed ?? false;
  }

  /** The node the pod is counted on (bound or assumed). */
  nodeOf(key: string): string | undefined {
    return this.pods.get(key)?.nodeName;
  }

  /** A bound pod seen by the informer; confirms an assumed one. */
  addPod(pi: PodInfo): void {
    const nodeName = pi.pod.spec?.nodeName;
    if (!nodeName) return;
    const st = this.pods.get(pi.key);
    if (st) {
      // Confirmed (or moved: someone else bound it elsewhere).
      this.unplace(pi.key, st.pi, st.nodeName);
      this.pods.delete(pi.key);
    }
    this.pods.set(pi.key, { pi, nodeName, assumed: false, bindingFinished: true });
    this.place(pi, nodeName);
  }

  updatePod(pi: PodInfo): void {
    this.addPod(pi);
  }

  removePod(key: string): void {
    const st = this.pods.get(key);
    if (!st) return;
    this.unplace(key, st.pi, st.nodeName);
    this.pods.delete(key);
  }

  getPod(key: string): PodInfo | undefined {
    return this.pods.get(key)?.pi;
  }

  /** Counts for metrics and tests. */
  stats(): { nodes: number; pods: number; assumedPods: number } {
    let assumed = 0;
    for (const st of this.pods.values()) if (st.assumed) assumed++;
    return { nodes: this.countNodes(), pods: this.pods.size, assumedPods: assumed };
  }

  /** Keys of pods the cache holds, for tests. */
  podKeys(): string[] {
    return [...this.pods.keys()];
  }
}

