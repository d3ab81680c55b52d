/**
 * The node's presence in the API: registration, the node status and the heartbeat Lease.
 *
 *   register      create the Node (labels, taints); if it exists, take it over as it is
 *   status loop   every --node-status-update-frequency (10s) compute the status; write it when
 *                 it changed, or when 5 minutes passed since the last report (upstream's
 *                 node-status-report-frequency); `triggerStatusUpdate()` asks for one now
 *   lease loop    renew kube-node-lease/<node> every 10s (a quarter of its 40s duration): the
 *                 node lifecycle controller's cheap heartbeat
 *
 * Ownership: `start(signal)` runs both loops; their timers are the Clock's sleeps on `signal`.
 */
import type { Logger } from 'pino';
import type { Lease, Node, Taint } from '../../api/index.js';
import { rfc3339Micro, type Clock } from '../../base/index.js';
import { Resources, type KubeClient } from '../../client/index.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../machinery/index.js';
import { buildNodeStatus, initialNode, nodeStatusChanged, type NodeStatusInputs } from './node-status.js';

export const leaseNamespace = 'kube-node-lease';
export const leaseDurationSeconds = 40;

export interface NodeManagerOptions {
  client: KubeClient;
  nodeName: string;
  log: Logger;
  clock: Clock;
  labels: Record<string, string>;
  taints: Taint[];
  architecture: string;
  /** Gathers what the status is computed from (everything but `now` and `old`). */
  statusInputs(): Promise<Omit<NodeStatusInputs, 'now' | 'old'>>;
  /** The Node as last seen (an informer's cache), if known. */
  cachedNode(): Node | undefined;
  statusUpdateFrequencyMs: number;
  statusReportFrequencyMs?: number;
  leaseRenewIntervalMs?: number;
}

export class NodeManager {
  private node?: Node;
  private lastReport = 0;
  private lastReported?: NonNullable<Node['status']>;
  private wakeStatus?: () => void;
  private statusWanted = false;
  private registeredResolve?: (n: Node) => void;
  /** Resolves with the Node once it is registered. */
  readonly registered: Promise<Node>;
  readonly stats = { statusWrites: 0, leaseRenewals: 0 };

  constructor(private readonly o: NodeManagerOptions) {
    this.registered = new Promise((r) => (this.registeredResolve = r));
  }

  /** Asks the status loop to compute (and, if changed, write) the status now. */
  triggerStatusUpdate(): void {
    this.statusWanted = true;
    this.wakeStatus?.();
  }

  async start(signal: AbortSignal): Promise<void> {
    await this.register(signal);
    if (signal.aborted) return;
    await Promise.all([this.statusLoop(signal), this.leaseLoop(signal)]);
  }

  private async register(signal: AbortSignal): Promise<void> {
    const nodes = this.o.client.resource(Resources.nodes);
    let delay = 500;
    while (!signal.aborted) {
      try {
        const want = initialNode(this.o.nodeName, this.o.labels, this.o.taints, this.o.architecture);
        try {
          this.node = await nodes.create(want, { signal });
          this.o.log.info({ node: this.o.nodeName }, 'node registered');
        } catch (err) {
          if (!isAlreadyExists(err)) throw err;
          this.node = await nodes.get(this.o.nodeName, { signal });
          this.o.log.info({ node: this.o.nodeName }, 'node already registered; taking it over');
        }
        await this.updateStatus(signal, true);
        this.registeredResolve?.(this.node);
        return;
      } catch (err) {
        if (signal.aborted) return;
        this.o.log.warn({ err: (err as Error).message, retryInMs: delay }, 'registering the node failed; retrying');
        await this.o.clock.sleep(delay, signal);
        delay = Math.min(delay * 2, 7000);
      }
    }
  }

  private async statusLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      // One sleep per round, cut short by triggerStatusUpdate() or by the signal.
      const round = new AbortController();
      const onAbort = () => round.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.wakeStatus = () => round.abort();
      if (!this.statusWanted) await this.o.clock.sleep(this.o.statusUpdateFrequencyMs, round.signal);
      signal.removeEventListener('abort', onAbort);
      this.wakeStatus = undefined;
      this.statusWanted = false;
      if (signal.aborted) break;
      try {
        await this.updateStatus(signal, false);
      } catch (err) {
        if (!signal.aborted) this.o.log.warn({ err: (err as Error).message }, 'updating the node status failed');
      }
    }
  }

  private async updateStatus(signal: AbortSignal, force: boolean): Promise<void> {
    const nodes = this.o.client.resource(Resources.nodes);
    const current = this.o.cachedNode() ?? this.node ?? (await nodes.get(this.o.nodeName, { signal }));
    const inputs = await this.o.statusInputs();
    const now = this.o.clock.now();
    const status = buildNodeStatus({ ...inputs, now, old: current.status });
    const due = now - this.lastReport >= (this.o.statusReportFrequencyMs ?? 300_000);
    if (!force && !due && !nodeStatusChanged(this.lastReported ?? current.status, status)) return;
    this.node = await nodes.patch(this.o.nodeName, 'merge', { status }, { subresource: 'status', signal });
    this.lastReport = now;
    this.lastReported = status;
    this.stats.statusWrites++;
    this.o.log.debug({ node: this.o.nodeName, ready: status.conditions?.find((c) => c.type === 'Ready')?.status }, 'node status written');
  }

  private async leaseLoop(signal: AbortSignal): Promise<void> {
    const interval = this.o.leaseRenewIntervalMs ?? 10_000;
    let delay = 200;
    while (!signal.aborted) {
      try {
        await this.renewLease(signal);
        delay = 200;
        await this.o.clock.sleep(interval, signal);
      } catch (err) {
        if (signal.aborted) return;
        this.o.log.warn({ err: (err as Error).message, retryInMs: delay }, 'renewing the node lease failed');
        await this.o.clock.sleep(delay, signal);
        delay = Math.min(delay * 2, 7000);
      }
    }
  }

  private async renewLease(signal: AbortSignal): Promise<void> {
    const leases = this.o.client.resource(Resources.leases, leaseNamespace);
    const now = rfc3339Micro(this.o.clock.now());
    const owner = this.node?.metadata.uid ? [{ apiVersion: 'v1', kind: 'Node', name: this.o.nodeName, uid: this.node.metadata.uid }] : undefined;
    let lease: Lease | undefined;
    try {
      lease = await leases.get(this.o.nodeName, { signal });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (!lease) {
      await leases.create(
        {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.o.nodeName, namespace: leaseNamespace, ...(owner ? { ownerReferences: owner } : {}) },
          spec: { holderIdentity: this.o.nodeName, leaseDurationSeconds, renewTime: now },
        },
        { signal },
      );
    } else {
      const next: Lease = { ...lease, spec: { ...(lease.spec ?? {}), holderIdentity: this.o.nodeName, leaseDurationSeconds, renewTime: now } };
      if (owner && !lease.metadata.ownerReferences?.length) next.metadata = { ...lease.metadata, ownerReferences: owner };
      try {
        await leases.update(next, { signal });
      } catch (err) {
        if (!isConflict(err)) throw err;
        // Someone else wrote it meanwhile; the next round reads it again.
        return;
      }
    }
    this.stats.leaseRenewals++;
  }
}
