/**
 * The node lifecycle controller: it watches kubelet heartbeats (the Ready condition's
 * lastHeartbeatTime and the node's Lease in kube-node-lease) and acts when they stop.
 *
 *   heartbeat seen ──► probeTimestamp = now
 *   now > probeTimestamp + grace ──► Ready/MemoryPressure/DiskPressure/PIDPressure := Unknown
 *        (NodeStatusUnknown, "Kubelet stopped posting node status."); pods' Ready := False
 *   Ready Unknown ──► queue for node.kubernetes.io/unreachable:NoExecute   ┐ rate-limited per
 *   Ready False   ──► queue for node.kubernetes.io/not-ready:NoExecute     ┘ zone (--node-eviction-rate)
 *   Ready True    ──► NoExecute taints removed at once
 *   any condition ──► matching NoSchedule taints (not-ready, unreachable, pressure, unschedulable)
 *
 * The NoExecute taints are what evicts pods: the taint eviction controller deletes the pods
 * that do not tolerate them. Because the taints are rate-limited, so are evictions. Zones in
 * disruption slow down (partial: --secondary-node-eviction-rate in large zones, none in small
 * ones); when every zone is fully disrupted the controller assumes the problem is its own
 * connectivity, removes the taints and stops tainting until some node is Ready again.
 *
 * Grace: --node-monitor-grace-period for nodes that have posted status, --node-startup-grace-period
 * for nodes that never have. Time is measured by this controller's clock, not the kubelets'.
 */
import type { Logger } from 'pino';
import type { Lease, Node, NodeCondition, Pod } from '../../api/index.js';
import { Counter, Gauge, realClock, rfc3339, silentLogger, type Clock, type MetricsRegistry, type Runnable } from '../../base/index.js';
import {
  Resources,
  deepCopy,
  deletedObject,
  waitForCacheSync,
  type EventRecorder,
  type KubeClient,
  type Lister,
  type SharedInformer,
  type SharedInformerFactory,
} from '../../client/index.js';
import { RateLimitingQueue, WorkQueue, runWorkers } from '../../controller/index.js';
import { isConflict, isNotFound } from '../../machinery/index.js';
import { RateLimitedTimedQueue } from './rate-limited-queue.js';
import {
  ensurePodNodeNameIndex,
  notReadyNoExecute,
  podsOnNode,
  taintExists,
  taintNodeDiskPressure,
  taintNodeMemoryPressure,
  taintNodeNetworkUnavailable,
  taintNodeNotReady,
  taintNodePIDPressure,
  taintNodeUnreachable,
  taintNodeUnschedulable,
  unreachableNoExecute,
  updateNodeTaints,
} from './taints.js';

export const nodeLeaseNamespace = 'kube-node-lease';
/** Nodes with this label do not count when the controller judges a zone's health. */
export const labelNodeDisruptionExclusion = 'node.kubernetes.io/exclude-disruption';

type ZoneState = 'Initial' | 'Normal' | 'FullDisruption' | 'PartialDisruption';

const conditionToTaint: Record<string, Record<string, string>> = {
  Ready: { False: taintNodeNotReady, Unknown: taintNodeUnreachable },
  MemoryPressure: { True: taintNodeMemoryPressure },
  DiskPressure: { True: taintNodeDiskPressure },
  NetworkUnavailable: { True: taintNodeNetworkUnavailable },
  PIDPressure: { True: taintNodePIDPressure },
};
const conditionTaintKeys = new Set([taintNodeNotReady, taintNodeUnreachable, taintNodeMemoryPressure, taintNodeDiskPressure, taintNodeNetworkUnavailable, taintNodePIDPressure]);

export interface NodeLifecycleControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  recorder?: EventRecorder;
  log?: Logger;
  clock?: Clock;
  metrics?: MetricsRegistry;
  /** --node-monitor-period (default 5s). */
  nodeMonitorPeriodMs?: number;
  /** --node-monitor-grace-period (default 40s). */
  nodeMonitorGracePeriodMs?: number;
  /** --node-startup-grace-period (default 60s). */
  nodeStartupGracePeriodMs?: number;
  /** --node-eviction-rate (default 0.1 nodes/s). */
  evictionLimiterQPS?: number;
  /** --secondary-node-eviction-rate (default 0.01). */
  secondaryEvictionLimiterQPS?: number;
  /** --large-cluster-size-threshold (default 50). */
  largeClusterThreshold?: number;
  /** --unhealthy-zone-threshold (default 0.55). */
  unhealthyZoneThreshold?: number;
  /** How often the taint queues are served (upstream's 100ms). */
  taintingPassPeriodMs?: number;
}

interface NodeHealth {
  probeTimestamp: number;
  readyTransitionTimestamp: number;
  /** The Ready condition last seen (undefined: the node never posted one). */
  ready?: NodeCondition;
  leaseRenewTime?: number;
}

function getCondition(node: Node, type: string): NodeCondition | undefined {
  return (node.status?.conditions ?? []).find((c) => c.type === type);
}

/** The zone a node belongs to, as upstream's GetZoneKey: region and zone labels, or "" without them. */
export function zoneKey(node: Node): string {
  const l = node.metadata.labels ?? {};
  const region = l['topology.kubernetes.io/region'] ?? l['failure-domain.beta.kubernetes.io/region'] ?? '';
  const zone = l['topology.kubernetes.io/zone'] ?? l['failure-domain.beta.kubernetes.io/zone'] ?? '';
  return region === '' && zone === '' ? '' : `${region}:\x00:${zone}`;
}

function parseTime(t: string | null | undefined): number | undefined {
  if (!t) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Upstream's ComputeZoneState. */
export function computeZoneState(readyConditions: (NodeCondition | undefined)[], unhealthyZoneThreshold: number): { unhealthy: number; state: ZoneState } {
  let ready = 0;
  let notReady = 0;
  for (const c of readyConditions) {
    if (c?.status === 'True') ready++;
    else notReady++;
  }
  if (ready === 0 && notReady > 0) return { unhealthy: notReady, state: 'FullDisruption' };
  if (notReady > 2 && notReady / (notReady + ready) >= unhealthyZoneThreshold) return { unhealthy: notReady, state: 'PartialDisruption' };
  return { unhealthy: notReady, state: 'Normal' };
}

export class NodeLifecycleController implements Runnable {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly nodes: Lister<Node>;
  private readonly leases: Lister<Lease>;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly informers: { waitForCacheSync(signal?: AbortSignal): Promise<boolean> }[];
  private readonly health = new Map<string, NodeHealth>();
  private readonly knownNodes = new Map<string, Node>();
  private readonly zoneStates = new Map<string, ZoneState>();
  private readonly zoneTainters = new Map<string, RateLimitedTimedQueue>();
  private readonly nodesToRetry = new Set<string>();
  private readonly nodeQueue = new WorkQueue<string>();
  private readonly podQueue: RateLimitingQueue<string>;
  private readonly gracePeriodMs: number;
  private readonly startupGracePeriodMs: number;
  private readonly evictionQPS: number;
  private readonly secondaryQPS: number;
  private readonly largeClusterThreshold: number;
  private readonly unhealthyZoneThreshold: number;
  private readonly evictionsTotal?: Counter;
  private readonly unhealthyNodes?: Gauge;

  constructor(private readonly o: NodeLifecycleControllerOptions) {
    this.log = (o.log ?? silentLogger()).child({ controller: 'nodelifecycle' });
    this.clock = o.clock ?? realClock;
    this.podQueue = new RateLimitingQueue<string>({ clock: o.clock });
    this.gracePeriodMs = o.nodeMonitorGracePeriodMs ?? 40_000;
    this.startupGracePeriodMs = o.nodeStartupGracePeriodMs ?? 60_000;
    this.evictionQPS = o.evictionLimiterQPS ?? 0.1;
    this.secondaryQPS = o.secondaryEvictionLimiterQPS ?? 0.01;
    this.largeClusterThreshold = o.largeClusterThreshold ?? 50;
    this.unhealthyZoneThreshold = o.unhealthyZoneThreshold ?? 0.55;
    if (o.metrics) {
      this.evictionsTotal = o.metrics.counter('node_collector_evictions_total', 'Nodes tainted NoExecute by the node lifecycle controller (each evicts its non-tolerating pods), by zone.');
      this.unhealthyNodes = o.metrics.gauge('node_collector_unhealthy_nodes_in_zone', 'Nodes whose Ready condition is not True, by zone.');
    }

    const nodeInf = o.informers.informerFor(Resources.nodes);
    const leaseInf = o.informers.informerFor(Resources.leases, { namespace: nodeLeaseNamespace });
    this.podInformer = o.informers.informerFor(Resources.pods);
    ensurePodNodeNameIndex(this.podInformer);
    this.nodes = nodeInf.lister();
    this.leases = leaseInf.lister();
    this.informers = [nodeInf, leaseInf, this.podInformer];

    nodeInf.addEventHandler({
      onAdd: (n) => this.nodeQueue.add(n.metadata.name!),
      onUpdate: (_o, n) => this.nodeQueue.add(n.metadata.name!),
      onDelete: (n) => this.nodesToRetry.delete(deletedObject(n).metadata.name!),
    });
    this.podInformer.addEventHandler({
      onAdd: (p) => this.podUpdated(undefined, p),
      onUpdate: (old, p) => this.podUpdated(old, p),
    });
  }

  private podUpdated(oldPod: Pod | undefined, pod: Pod): void {
    const node = pod.spec?.nodeName;
    if (node && (!oldPod || oldPod.spec?.nodeName !== node)) this.podQueue.add(`${pod.metadata.namespace}/${pod.metadata.name}`);
  }

  async start(signal: AbortSignal): Promise<void> {
    if (!(await waitForCacheSync(signal, ...this.informers))) return;
    this.log.info({ gracePeriodMs: this.gracePeriodMs, evictionQPS: this.evictionQPS }, 'starting');
    const onAbort = () => this.nodeQueue.shutDown();
    signal.addEventListener('abort', onAbort, { once: true });
    const loops = [
      runWorkers(this.podQueue, 4, (key) => this.processPod(key), signal, { log: this.log, name: 'nodelifecycle-pods' }),
      this.nodeWorkers(signal),
      this.every(this.o.taintingPassPeriodMs ?? 100, signal, () => this.doNoExecuteTaintingPass()),
      this.every(this.o.nodeMonitorPeriodMs ?? 5000, signal, () => this.monitorNodeHealth()),
    ];
    await Promise.all(loops);
    signal.removeEventListener('abort', onAbort);
    this.log.info('stopped');
  }

  private async nodeWorkers(signal: AbortSignal): Promise<void> {
    const worker = async () => {
      for (;;) {
        const got = await this.nodeQueue.get();
        if (got.shutdown) return;
        try {
          if (!signal.aborted) await this.doNoScheduleTaintingPass(got.item);
        } catch (err) {
          this.log.warn({ err, node: got.item }, 'cannot update the NoSchedule taints of a node');
        } finally {
          this.nodeQueue.done(got.item);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  }

  private async every(periodMs: number, signal: AbortSignal, fn: () => Promise<void>): Promise<void> {
    while (!signal.aborted) {
      try {
        await fn();
      } catch (err) {
        this.log.error({ err }, 'periodic pass failed');
      }
      await this.clock.sleep(periodMs, signal);
    }
  }

  private recordNodeEvent(node: Node, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.o.recorder?.event({ apiVersion: 'v1', kind: 'Node', name: node.metadata.name, uid: node.metadata.uid }, type, reason, message);
  }

  private recordStatusChange(node: Node, status: string): void {
    this.recordNodeEvent(node, 'Normal', status, `Node ${node.metadata.name} status is now: ${status}`);
  }

  // ---- NoSchedule taints -----------------------------------------------------------------

  async doNoScheduleTaintingPass(name: string): Promise<void> {
    const node = this.nodes.get(name);
    if (!node) return;
    const want = new Set<string>();
    for (const c of node.status?.conditions ?? []) {
      const key = conditionToTaint[c.type]?.[c.status];
      if (key) want.add(key);
    }
    if (node.spec?.unschedulable) want.add(taintNodeUnschedulable);
    const have = new Set((node.spec?.taints ?? []).filter((t) => t.effect === 'NoSchedule' && (t.key === taintNodeUnschedulable || conditionTaintKeys.has(t.key))).map((t) => t.key));
    const add = [...want].filter((k) => !have.has(k)).map((key) => ({ key, effect: 'NoSchedule' as const, timeAdded: rfc3339(this.clock.now()) }));
    const remove = [...have].filter((k) => !want.has(k)).map((key) => ({ key, effect: 'NoSchedule' as const }));
    if (add.length === 0 && remove.length === 0) return;
    await updateNodeTaints(this.o.client, name, add, remove, node);
  }

  // ---- NoExecute taints (rate-limited) ---------------------------------------------------

  private tainterFor(node: Node): RateLimitedTimedQueue {
    const zone = zoneKey(node);
    let q = this.zoneTainters.get(zone);
    if (!q) {
      this.zoneStates.set(zone, 'Initial');
      this.zoneTainters.set(zone, (q = new RateLimitedTimedQueue(this.evictionQPS, this.clock)));
      this.log.info({ zone }, 'tracking a new zone');
    }
    return q;
  }

  async doNoExecuteTaintingPass(): Promise<void> {
    for (const [zone, q] of this.zoneTainters) {
      await q.try(async (v) => {
        const node = this.nodes.get(v.value);
        if (!node) return [true, 0];
        const ready = getCondition(node, 'Ready');
        if (!ready) return [false, 50];
        let add, remove;
        if (ready.status === 'False') [add, remove] = [notReadyNoExecute, unreachableNoExecute];
        else if (ready.status === 'Unknown') [add, remove] = [unreachableNoExecute, notReadyNoExecute];
        else return [true, 0];
        try {
          await updateNodeTaints(this.o.client, node.metadata.name!, [{ ...add, timeAdded: rfc3339(this.clock.now()) }], [remove], node);
          this.evictionsTotal?.inc({ zone });
          this.log.info({ node: node.metadata.name, taint: add.key }, 'tainted node NoExecute');
          return [true, 0];
        } catch (err) {
          this.log.warn({ err, node: node.metadata.name }, 'cannot taint node; will retry');
          return [false, 0];
        }
      });
    }
  }

  private markNodeForTainting(node: Node, status: 'False' | 'Unknown'): boolean {
    const q = this.tainterFor(node);
    if (status === 'False' && !taintExists(node.spec?.taints, notReadyNoExecute)) q.remove(node.metadata.name!);
    if (status === 'Unknown' && !taintExists(node.spec?.taints, unreachableNoExecute)) q.remove(node.metadata.name!);
    return q.add(node.metadata.name!, node.metadata.uid ?? '');
  }

  private async markNodeAsReachable(node: Node): Promise<boolean> {
    if (taintExists(node.spec?.taints, unreachableNoExecute) || taintExists(node.spec?.taints, notReadyNoExecute)) {
      await updateNodeTaints(this.o.client, node.metadata.name!, [], [unreachableNoExecute, notReadyNoExecute], node);
    }
    return this.tainterFor(node).remove(node.metadata.name!);
  }

  private async processTaintBaseEviction(node: Node, observedReady: NodeCondition): Promise<void> {
    switch (observedReady.status) {
      case 'False':
        if (taintExists(node.spec?.taints, unreachableNoExecute)) {
          await updateNodeTaints(this.o.client, node.metadata.name!, [{ ...notReadyNoExecute, timeAdded: rfc3339(this.clock.now()) }], [unreachableNoExecute]);
        } else if (this.markNodeForTainting(node, 'False')) {
          this.log.info({ node: node.metadata.name }, 'node is not ready; queued for tainting');
        }
        break;
      case 'Unknown':
        if (taintExists(node.spec?.taints, notReadyNoExecute)) {
          await updateNodeTaints(this.o.client, node.metadata.name!, [{ ...unreachableNoExecute, timeAdded: rfc3339(this.clock.now()) }], [notReadyNoExecute]);
        } else if (this.markNodeForTainting(node, 'Unknown')) {
          this.log.info({ node: node.metadata.name }, 'node is unreachable; queued for tainting');
        }
        break;
      case 'True':
        if (await this.markNodeAsReachable(node)) this.log.info({ node: node.metadata.name }, 'node is healthy again; taints removed');
        break;
    }
  }

  // ---- health monitoring -----------------------------------------------------------------

  async monitorNodeHealth(): Promise<void> {
    const nodes = this.nodes.list();
    const seen = new Set<string>();
    for (const node of nodes) {
      const name = node.metadata.name!;
      seen.add(name);
      if (!this.knownNodes.has(name)) {
        this.recordNodeEvent(node, 'Normal', 'RegisteredNode', `Node ${name} event: Registered Node ${name} in Controller`);
        this.knownNodes.set(name, node);
        this.tainterFor(node);
        try {
          await this.markNodeAsReachable(node);
        } catch (err) {
          this.log.warn({ err, node: name }, 'cannot remove NoExecute taints of a newly seen node');
        }
      } else {
        this.tainterFor(node);
      }
    }
    for (const [name, node] of this.knownNodes) {
      if (seen.has(name)) continue;
      this.recordNodeEvent(node, 'Normal', 'RemovingNode', `Node ${name} event: Removing Node ${name} from Controller`);
      this.knownNodes.delete(name);
      this.health.delete(name);
      this.tainterFor(node).remove(name);
    }

    const zoneConditions = new Map<string, (NodeCondition | undefined)[]>();
    await parallel(nodes, 8, async (cached) => {
      let node = deepCopy(cached);
      let result: { observed: NodeCondition; current?: NodeCondition } | undefined;
      for (let attempt = 0; attempt < 5 && !result; attempt++) {
        try {
          result = await this.tryUpdateNodeHealth(node);
        } catch (err) {
          if (!isConflict(err)) this.log.warn({ err, node: node.metadata.name }, 'cannot update node health');
          try {
            node = await this.o.client.resource(Resources.nodes).get(node.metadata.name!);
          } catch (e) {
            if (!isNotFound(e)) this.log.warn({ err: e, node: node.metadata.name }, 'cannot read node');
            return;
          }
        }
      }
      if (!result) return;
      const { observed, current } = result;
      if (!(node.metadata.labels ?? {})[labelNodeDisruptionExclusion]) {
        const zone = zoneKey(node);
        if (!zoneConditions.has(zone)) zoneConditions.set(zone, []);
        zoneConditions.get(zone)!.push(current);
      }
      if (!current) return;
      const name = node.metadata.name!;
      try {
        await this.processTaintBaseEviction(node, observed);
      } catch (err) {
        this.log.warn({ err, node: name }, 'cannot update NoExecute taints; will retry');
      }
      const needsRetry = this.nodesToRetry.has(name);
      if ((current.status !== 'True' && observed.status === 'True') || (needsRetry && observed.status !== 'True')) {
        if (!needsRetry) this.recordStatusChange(node, 'NodeNotReady');
        try {
          await this.markPodsNotReady(podsOnNode(this.podInformer, name), name);
        } catch (err) {
          this.log.warn({ err, node: name }, 'cannot mark all pods of the node not ready; will retry');
          this.nodesToRetry.add(name);
          return;
        }
      }
      this.nodesToRetry.delete(name);
    });
    this.handleDisruption(zoneConditions, nodes);
  }

  /**
   * Notes the heartbeats of one node and, past its grace period, marks its conditions Unknown.
   * Returns the Ready condition as observed before this pass and as it is now.
   */
  private async tryUpdateNodeHealth(node: Node): Promise<{ observed: NodeCondition; current?: NodeCondition }> {
    const name = node.metadata.name!;
    const now = this.clock.now();
    let h = this.health.get(name);
    const currentReady = getCondition(node, 'Ready');
    let observed: NodeCondition;
    let grace: number;
    const created = parseTime(node.metadata.creationTimestamp) ?? now;
    if (!currentReady) {
      // Never posted: act as if it reported Unknown at creation, and give it the startup grace.
      observed = { type: 'Ready', status: 'Unknown', lastHeartbeatTime: node.metadata.creationTimestamp, lastTransitionTime: node.metadata.creationTimestamp };
      grace = this.startupGracePeriodMs;
      if (!h) h = { probeTimestamp: created, readyTransitionTimestamp: created };
      h.ready = undefined;
    } else {
      observed = { ...currentReady };
      grace = this.gracePeriodMs;
    }
    const saved = h?.ready;
    if (!h) {
      h = { probeTimestamp: now, readyTransitionTimestamp: now, ready: currentReady };
    } else if (!saved && currentReady) {
      h = { probeTimestamp: now, readyTransitionTimestamp: now, ready: currentReady, leaseRenewTime: h.leaseRenewTime };
    } else if (saved && currentReady && saved.lastHeartbeatTime !== currentReady.lastHeartbeatTime) {
      const transition = saved.lastTransitionTime !== currentReady.lastTransitionTime ? now : h.readyTransitionTimestamp;
      h = { probeTimestamp: now, readyTransitionTimestamp: transition, ready: currentReady, leaseRenewTime: h.leaseRenewTime };
    }
    // A renewed lease is a heartbeat too (a node may post status only every few minutes).
    const lease = this.leases.get(`${nodeLeaseNamespace}/${name}`);
    const renew = parseTime(lease?.spec?.renewTime);
    if (renew !== undefined && (h.leaseRenewTime === undefined || h.leaseRenewTime < renew)) {
      h.leaseRenewTime = renew;
      h.probeTimestamp = now;
    }
    this.health.set(name, h);

    if (now > h.probeTimestamp + grace) {
      const stamp = rfc3339(now);
      node.status ??= {};
      node.status.conditions ??= [];
      for (const type of ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure']) {
        const c = node.status.conditions.find((x) => x.type === type);
        if (!c) {
          node.status.conditions.push({ type, status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastHeartbeatTime: node.metadata.creationTimestamp, lastTransitionTime: stamp });
        } else if (c.status !== 'Unknown') {
          c.status = 'Unknown';
          c.reason = 'NodeStatusUnknown';
          c.message = 'Kubelet stopped posting node status.';
          c.lastTransitionTime = stamp;
        }
      }
      const current = getCondition(node, 'Ready')!;
      if (JSON.stringify(current) !== JSON.stringify(observed)) {
        await this.o.client.resource(Resources.nodes).updateStatus(node);
        this.log.info({ node: name, sinceHeartbeatMs: now - h.probeTimestamp }, 'node stopped posting status; marked Unknown');
        this.health.set(name, { probeTimestamp: h.probeTimestamp, readyTransitionTimestamp: now, ready: current, leaseRenewTime: h.leaseRenewTime });
        return { observed, current };
      }
    }
    return { observed, current: currentReady };
  }

  private handleDisruption(zoneConditions: Map<string, (NodeCondition | undefined)[]>, nodes: Node[]): void {
    const newStates = new Map<string, ZoneState>();
    let allAreFullyDisrupted = true;
    for (const [zone, conds] of zoneConditions) {
      const { unhealthy, state } = computeZoneState(conds, this.unhealthyZoneThreshold);
      this.unhealthyNodes?.set({ zone }, unhealthy);
      if (state !== 'FullDisruption') allAreFullyDisrupted = false;
      newStates.set(zone, state);
      if (!this.zoneStates.has(zone)) this.zoneStates.set(zone, 'Initial');
    }
    let allWasFullyDisrupted = true;
    for (const [zone, state] of [...this.zoneStates]) {
      if (!zoneConditions.has(zone)) {
        this.zoneStates.delete(zone);
        continue;
      }
      if (state !== 'FullDisruption') {
        allWasFullyDisrupted = false;
        break;
      }
    }
    if (allAreFullyDisrupted && allWasFullyDisrupted) return;
    if (allAreFullyDisrupted) {
      this.log.warn('every node is not ready: assuming a control-plane connectivity problem; evictions stop');
      for (const n of nodes) {
        this.markNodeAsReachable(n).catch((err: unknown) => this.log.warn({ err, node: n.metadata.name }, 'cannot remove taints from node'));
      }
      for (const zone of this.zoneStates.keys()) {
        this.zoneTainters.get(zone)?.swapLimiter(0);
        this.zoneStates.set(zone, 'FullDisruption');
      }
      return;
    }
    if (allWasFullyDisrupted) {
      this.log.info('some nodes are ready again: evictions resume');
      const now = this.clock.now();
      for (const n of nodes) {
        const h = this.health.get(n.metadata.name!);
        if (h) {
          h.probeTimestamp = now;
          h.readyTransitionTimestamp = now;
        }
      }
      for (const zone of this.zoneStates.keys()) {
        this.setLimiterInZone(zone, zoneConditions.get(zone)?.length ?? 0, newStates.get(zone)!);
        this.zoneStates.set(zone, newStates.get(zone)!);
      }
      return;
    }
    for (const [zone, state] of this.zoneStates) {
      const next = newStates.get(zone)!;
      if (state === next) continue;
      this.log.info({ zone, state: next }, 'zone changed state');
      this.setLimiterInZone(zone, zoneConditions.get(zone)?.length ?? 0, next);
      this.zoneStates.set(zone, next);
    }
  }

  private setLimiterInZone(zone: string, size: number, state: ZoneState): void {
    const q = this.zoneTainters.get(zone);
    if (!q) return;
    if (state === 'Normal' || state === 'FullDisruption') q.swapLimiter(this.evictionQPS);
    else if (state === 'PartialDisruption') q.swapLimiter(size > this.largeClusterThreshold ? this.secondaryQPS : 0);
  }

  // ---- pods ------------------------------------------------------------------------------

  private async processPod(key: string): Promise<void> {
    const pod = this.podInformer.getIndexer().getByKey(key);
    if (!pod) return;
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) return;
    const h = this.health.get(nodeName);
    if (!h?.ready) return;
    if (!this.nodes.get(nodeName)) return;
    if (h.ready.status !== 'True') await this.markPodsNotReady([pod], nodeName);
  }

  /** Sets the Ready condition of these pods to False (the node cannot vouch for them any more). */
  async markPodsNotReady(pods: Pod[], nodeName: string): Promise<void> {
    const errors: unknown[] = [];
    for (const p of pods) {
      if (p.spec?.nodeName !== nodeName) continue;
      const ready = (p.status?.conditions ?? []).find((c) => c.type === 'Ready');
      if (!ready || ready.status === 'False') continue;
      const pod = deepCopy(p);
      const c = pod.status!.conditions!.find((x) => x.type === 'Ready')!;
      c.status = 'False';
      c.lastTransitionTime = rfc3339(this.clock.now());
      try {
        await this.o.client.resource(Resources.pods, pod.metadata.namespace).updateStatus(pod);
        this.o.recorder?.event({ apiVersion: 'v1', kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid }, 'Warning', 'NodeNotReady', 'Node is not ready');
      } catch (err) {
        if (!isNotFound(err)) errors.push(err);
      }
    }
    if (errors.length) throw new AggregateError(errors, `cannot mark ${errors.length} pod(s) on node ${nodeName} not ready`);
  }

  /** For tests and status pages. */
  zoneState(zone = ''): ZoneState | undefined {
    return this.zoneStates.get(zone);
  }
}

async function parallel<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
