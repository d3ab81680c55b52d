/**
 * Writes pod statuses to the API server (pods/status), as few times as it can: the pod sync
 * hands over every status it computes; a write happens only when it differs from what the API
 * server holds (compared without lastProbeTime), several changes while a write is in flight
 * make one more write, and a periodic pass (every 10s) repairs what a failed write left behind.
 * Static pods' statuses go to their mirror pods.
 *
 * The patch is a JSON merge patch of `status` carrying `metadata.uid` (a pod recreated under the
 * same name has another uid, and the API server refuses to change it): fields the kubelet owns
 * and no longer sets are sent as null; fields of other writers (nominatedNodeName, conditions of
 * readiness gates) are left alone.
 *
 * Ownership: `start(signal)` runs the writer; timers and in-flight writes end with it.
 */
import type { Logger } from 'pino';
import type { Pod } from '../api/index.js';
import type { Clock } from '../base/index.js';
import { Resources, type KubeClient } from '../client/index.js';
import { isConflict, isInvalid, isNotFound, jsonEqual } from '../machinery/index.js';
import type { PodStatus } from './api-types.js';

/** The status fields the kubelet writes. */
const ownedFields = ['phase', 'conditions', 'message', 'reason', 'hostIP', 'hostIPs', 'podIP', 'podIPs', 'startTime', 'initContainerStatuses', 'containerStatuses', 'ephemeralContainerStatuses', 'qosClass'] as const;

export interface StatusManagerOptions {
  client: KubeClient;
  log: Logger;
  clock: Clock;
  /** The API object a pod's status goes to: the pod itself (current cache state), or a static pod's mirror; undefined when there is none (yet). */
  apiPodFor(uid: string): Pod | undefined;
  /** Writes in flight at once (default 8). */
  concurrency?: number;
  /** Period of the repair pass (default 10s). */
  reconcilePeriodMs?: number;
  onWrite?(): void;
}

interface Desired {
  status: PodStatus;
  /** Namespace and name to write to. */
  namespace: string;
  name: string;
}

/** A status without what changes on every computation and means nothing (probe times). */
function comparable(s: PodStatus | undefined): unknown {
  if (!s) return {};
  const out: Record<string, unknown> = {};
  for (const k of ownedFields) if (s[k] !== undefined) out[k] = s[k];
  if (Array.isArray(out.conditions)) out.conditions = (out.conditions as Array<Record<string, unknown>>).map(({ lastProbeTime: _p, ...c }) => c).sort((a, b) => String(a.type).localeCompare(String(b.type)));
  return out;
}

/** True when writing `next` over `current` would change nothing the kubelet owns. */
export function statusEqual(current: PodStatus | undefined, next: PodStatus): boolean {
  return jsonEqual(comparable(current), comparable(next));
}

/** The merge patch that turns `current` into `next` for the fields the kubelet owns. */
export function statusPatch(uid: string, current: PodStatus | undefined, next: PodStatus): { metadata: { uid: string }; status: Record<string, unknown> } {
  const status: Record<string, unknown> = {};
  for (const k of ownedFields) {
    if (next[k] !== undefined) status[k] = next[k];
    else if (current?.[k] !== undefined) status[k] = null;
  }
  return { metadata: { uid }, status };
}

export class StatusManager {
  private readonly desired = new Map<string, Desired>();
  /** What was last written per pod, so that a lagging cache does not cause a second write. */
  private readonly written = new Map<string, PodStatus>();
  private readonly queue = new Set<string>();
  private readonly inflight = new Set<string>();
  private wake?: () => void;
  private idleWaiters: Array<() => void> = [];
  /** Counters for tests and metrics. */
  readonly stats = { writes: 0, failures: 0 };

  constructor(private readonly o: StatusManagerOptions) {}

  /** Records the status the kubelet computed for a pod; writes it if it changes anything. */
  setPodStatus(uid: string, target: { namespace: string; name: string }, status: PodStatus): void {
    this.desired.set(uid, { status, namespace: target.namespace, name: target.name });
    if (this.needsWrite(uid)) this.enqueue(uid);
  }

  /** The last status computed for a pod. */
  getPodStatus(uid: string): PodStatus | undefined {
    return this.desired.get(uid)?.status;
  }

  /** Forgets a pod (it is gone). */
  removePod(uid: string): void {
    this.desired.delete(uid);
    this.written.delete(uid);
    this.queue.delete(uid);
  }

  /** Writes a pod's status now (before a deletion is confirmed); resolves when done. */
  async writeNow(uid: string): Promise<void> {
    this.queue.delete(uid);
    while (this.inflight.has(uid)) await new Promise((r) => setTimeout(r, 10));
    await this.write(uid);
  }

  /**
   * Confirms a graceful deletion: DELETE with grace 0 and the pod's uid as precondition, so that
   * a new pod of the same name is never deleted by mistake.
   */
  async confirmDeletion(pod: Pod): Promise<void> {
    const ns = pod.metadata.namespace ?? 'default';
    try {
      await this.o.client.resource(Resources.pods, ns).delete(pod.metadata.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
      this.o.log.info({ pod: `${ns}/${pod.metadata.name}`, podUID: pod.metadata.uid }, 'pod deletion confirmed');
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
  }

  /** Resolves once nothing is queued or being written (tests). */
  flush(): Promise<void> {
    if (this.queue.size === 0 && this.inflight.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  async start(signal: AbortSignal): Promise<void> {
    const period = this.o.reconcilePeriodMs ?? 10_000;
    let lastReconcile = this.o.clock.now();
    const onAbort = () => this.wake?.();
    signal.addEventListener('abort', onAbort, { once: true });
    const writes = new Set<Promise<void>>();
    try {
      while (!signal.aborted) {
        const limit = this.o.concurrency ?? 8;
        for (const uid of [...this.queue]) {
          if (writes.size >= limit) break;
          if (this.inflight.has(uid)) continue;
          this.queue.delete(uid);
          const p = this.write(uid).finally(() => {
            writes.delete(p);
            this.wake?.();
          });
          writes.add(p);
        }
        if (this.o.clock.now() - lastReconcile >= period) {
          lastReconcile = this.o.clock.now();
          for (const uid of this.desired.keys()) if (this.needsWrite(uid, true)) this.queue.add(uid);
        }
        if (this.queue.size === 0 && writes.size === 0) this.notifyIdle();
        if (signal.aborted) break;
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          timer = setTimeout(resolve, Math.max(50, period - (this.o.clock.now() - lastReconcile)));
        });
        clearTimeout(timer);
        this.wake = undefined;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      await Promise.allSettled([...writes]);
      this.notifyIdle(true);
    }
  }

  private enqueue(uid: string): void {
    this.queue.add(uid);
    this.wake?.();
  }

  private notifyIdle(force = false): void {
    if (!force && (this.queue.size > 0 || this.inflight.size > 0)) return;
    const ws = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of ws) w();
  }

  /** `againstServer`: compare with the API object only (the repair pass), not with what was written. */
  private needsWrite(uid: string, againstServer = false): boolean {
    const d = this.desired.get(uid);
    if (!d) return false;
    const api = this.o.apiPodFor(uid);
    if (!api) return false;
    if (statusEqual(api.status, d.status)) return false;
    if (!againstServer) {
      const w = this.written.get(uid);
      if (w && statusEqual(w, d.status)) return false;
    }
    return true;
  }

  private async write(uid: string): Promise<void> {
    const d = this.desired.get(uid);
    const api = this.o.apiPodFor(uid);
    if (!d || !api?.metadata.uid) return;
    const status = d.status;
    if (statusEqual(api.status, status)) return;
    this.inflight.add(uid);
    try {
      const patch = statusPatch(api.metadata.uid, api.status, status);
      await this.o.client.resource(Resources.pods, d.namespace).patch(d.name, 'merge', patch, { subresource: 'status' });
      this.written.set(uid, status);
      this.stats.writes++;
      this.o.onWrite?.();
      this.o.log.debug({ pod: `${d.namespace}/${d.name}`, phase: status.phase }, 'pod status written');
    } catch (err) {
      this.stats.failures++;
      if (isNotFound(err) || isInvalid(err) || isConflict(err)) {
        // The pod is gone or was replaced: nothing to write to.
        this.o.log.debug({ err: (err as Error).message, pod: `${d.namespace}/${d.name}` }, 'pod status not written');
      } else {
        this.o.log.warn({ err: (err as Error).message, pod: `${d.namespace}/${d.name}` }, 'writing pod status failed; will retry');
        setTimeout(() => this.enqueue(uid), 1000).unref?.();
      }
    } finally {
      this.inflight.delete(uid);
    }
  }
}
