/**
 * Pod garbage collection (upstream's PodGC), every 20s:
 *  - terminated pods (Succeeded or Failed) beyond --terminated-pod-gc-threshold, evicted ones
 *    and then the oldest first;
 *  - pods bound to a node that no longer exists (after a 40s quarantine and a live check, in
 *    case the node cache lags) — also those stuck terminating there, since no kubelet will
 *    ever confirm their deletion;
 *  - pods being deleted that were never scheduled;
 *  - pods being deleted on a NotReady node tainted node.kubernetes.io/out-of-service.
 * Each is first marked Failed (with a DisruptionTarget condition for orphans), then deleted
 * with a grace period of 0.
 */
import type { Logger } from 'pino';
import type { Node, Pod, PodCondition } from '../../api/index.js';
import { Counter, realClock, rfc3339, silentLogger, type Clock, type MetricsRegistry, type Runnable } from '../../base/index.js';
import { Resources, waitForCacheSync, type KubeClient, type Lister, type SharedInformerFactory } from '../../client/index.js';
import { isNotFound } from '../../machinery/index.js';
import { taintNodeOutOfService } from '../nodelifecycle/index.js';

export interface PodGCControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  /** --terminated-pod-gc-threshold; 0 or less turns off the collection of terminated pods. */
  terminatedPodThreshold: number;
  gcPeriodMs?: number;
  quarantineMs?: number;
  log?: Logger;
  clock?: Clock;
  metrics?: MetricsRegistry;
}

function isTerminated(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== undefined && phase !== 'Pending' && phase !== 'Running' && phase !== 'Unknown';
}

function isNodeReady(node: Node): boolean {
  return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Evicted pods first, then the oldest, names breaking ties. */
function byEvictionAndCreation(a: Pod, b: Pod): number {
  const ea = a.status?.reason === 'Evicted';
  const eb = b.status?.reason === 'Evicted';
  if (ea !== eb) return ea ? -1 : 1;
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
}

export class PodGCController implements Runnable {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly pods: Lister<Pod>;
  private readonly nodes: Lister<Node>;
  private readonly informers: { waitForCacheSync(signal?: AbortSignal): Promise<boolean> }[];
  /** Nodes missing from the cache, and since when. */
  private readonly missingSince = new Map<string, number>();
  private readonly deleted?: Counter;

  constructor(private readonly o: PodGCControllerOptions) {
    this.log = (o.log ?? silentLogger()).child({ controller: 'podgc' });
    this.clock = o.clock ?? realClock;
    if (o.metrics) this.deleted = o.metrics.counter('pod_gc_collector_force_delete_pods_total', 'Pods deleted by PodGC, by reason.');
    const podInf = o.informers.informerFor(Resources.pods);
    const nodeInf = o.informers.informerFor(Resources.nodes);
    this.pods = podInf.lister();
    this.nodes = nodeInf.lister();
    this.informers = [podInf, nodeInf];
  }

  async start(signal: AbortSignal): Promise<void> {
    if (!(await waitForCacheSync(signal, ...this.informers))) return;
    this.log.info({ terminatedPodThreshold: this.o.terminatedPodThreshold }, 'starting');
    while (!signal.aborted) {
      try {
        await this.gc();
      } catch (err) {
        this.log.error({ err }, 'pod garbage collection pass failed');
      }
      await this.clock.sleep(this.o.gcPeriodMs ?? 20_000, signal);
    }
    this.log.info('stopped');
  }

  /** One pass over all four kinds of garbage. */
  async gc(): Promise<void> {
    const pods = this.pods.list();
    if (this.o.terminatedPodThreshold > 0) await this.gcTerminated(pods);
    await this.gcTerminatingOutOfService(pods);
    await this.gcOrphaned(pods);
    await this.gcUnscheduledTerminating(pods);
  }

  private async gcTerminated(pods: Pod[]): Promise<void> {
    const terminated = pods.filter(isTerminated);
    const excess = terminated.length - this.o.terminatedPodThreshold;
    if (excess <= 0) return;
    this.log.info({ count: excess }, 'deleting terminated pods beyond the threshold');
    await each(terminated.sort(byEvictionAndCreation).slice(0, excess), (p) => this.markFailedAndDelete(p, 'terminated'));
  }

  private async gcTerminatingOutOfService(pods: Pod[]): Promise<void> {
    const victims = pods.filter((p) => {
      if (!p.metadata.deletionTimestamp || !p.spec?.nodeName) return false;
      const node = this.nodes.get(p.spec.nodeName);
      return !!node && !isNodeReady(node) && (node.spec?.taints ?? []).some((t) => t.key === taintNodeOutOfService);
    });
    await each(victims.sort(byEvictionAndCreation), (p) => this.markFailedAndDelete(p, 'terminating-out-of-service'));
  }

  private async gcOrphaned(pods: Pod[]): Promise<void> {
    const now = this.clock.now();
    const missing = new Set<string>();
    for (const p of pods) {
      const node = p.spec?.nodeName;
      if (node && !this.nodes.get(node)) {
        missing.add(node);
        if (!this.missingSince.has(node)) this.missingSince.set(node, now);
      }
    }
    for (const node of [...this.missingSince.keys()]) if (!missing.has(node)) this.missingSince.delete(node);
    const gone = new Set<string>();
    for (const [node, since] of this.missingSince) {
      if (now - since < (this.o.quarantineMs ?? 40_000)) continue;
      try {
        await this.o.client.resource(Resources.nodes).get(node);
        this.missingSince.delete(node); // it exists after all; the cache lags
      } catch (err) {
        if (isNotFound(err)) gone.add(node);
        else this.log.warn({ err, node }, 'cannot check whether a node exists');
      }
    }
    const condition: PodCondition = { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' };
    await each(
      pods.filter((p) => p.spec?.nodeName && gone.has(p.spec.nodeName)),
      (p) => this.markFailedAndDelete(p, 'orphaned', condition),
    );
  }

  private async gcUnscheduledTerminating(pods: Pod[]): Promise<void> {
    await each(
      pods.filter((p) => p.metadata.deletionTimestamp && !p.spec?.nodeName),
      (p) => this.markFailedAndDelete(p, 'terminating-unscheduled'),
    );
  }

  private async markFailedAndDelete(pod: Pod, reason: string, condition?: PodCondition): Promise<void> {
    const client = this.o.client.resource(Resources.pods, pod.metadata.namespace);
    try {
      // A pod whose node is gone would stay Running forever: no kubelet will report its end.
      if (pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed') {
        const status: Record<string, unknown> = { phase: 'Failed' };
        if (condition) status.conditions = [{ ...condition, lastTransitionTime: rfc3339(this.clock.now()) }];
        await client.patch(pod.metadata.name!, 'strategic', { status }, { subresource: 'status' });
      }
      await client.delete(pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
      this.deleted?.inc({ reason });
      this.log.info({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, node: pod.spec?.nodeName, reason }, 'force-deleted pod');
    } catch (err) {
      if (!isNotFound(err)) this.log.warn({ err, pod: `${pod.metadata.namespace}/${pod.metadata.name}`, reason }, 'cannot delete pod');
    }
  }
}

async function each<T>(items: T[], fn: (x: T) => Promise<void>, n = 8): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
