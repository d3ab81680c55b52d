/**
 * The scheduling queue, after kube-scheduler's PriorityQueue: three places a pending pod can be.
 *
 *        add ──► activeQ ──pop──► scheduling cycle ──fits──► done (assumed, binding)
 *                  ▲    ▲                │
 *                  │    │                │ does not fit
 *                  │    │                ▼
 *                  │  backoffQ ◄─── (an event came during the cycle, or an error) ◄──┐
 *                  │    ▲                                                             │
 *                  │    └──── event, still backing off ──── unschedulable pods ◄─────┘
 *                  └───────── event, backoff over ─────────┘   (and after 5 minutes anyway)
 *
 *  - activeQ: ordered by priority (highest first), then creation time, then arrival.
 *  - backoffQ: pods waiting out their backoff (1s, doubling per attempt, at most 10s) before
 *    going back to activeQ.
 *  - unschedulable: pods no node fits. They stay until a cluster event that could help them
 *    happens (each rejecting plugin names the events that can undo its rejection: a node
 *    added, a pod deleted, ...), or until they have waited podMaxInUnschedulablePodsDuration.
 *  - gated: pods with spec.schedulingGates, held until the gates are removed.
 *
 * The queue also keeps the nominator: pods that preempted others and wait for room on their
 * nominated node; filters count them on that node so lower-priority pods do not take the room.
 */
import { jsonEqual } from '../machinery/index.js';
import { realClock, type Clock } from '../base/index.js';
import type { ClusterEvent } from './framework.js';
import { KeyedHeap } from './heap.js';
import type { PodInfo } from './pod-info.js';

export interface QueuedPodInfo {
  podInfo: PodInfo;
  /** When the pod last entered the queue; its backoff counts from here. */
  timestamp: number;
  /** Scheduling attempts so far. */
  attempts: number;
  /** When it was first popped, for the end-to-end latency metric. */
  initialAttemptTimestamp?: number;
  /** Plugins that rejected it last time. */
  unschedulablePlugins: Set<string>;
  /** Events that may help it, derived from unschedulablePlugins; undefined: any event. */
  helpfulEvents?: Set<ClusterEvent>;
  /** Creation time (ms), the second sort key. */
  created: number;
  /** Arrival order, the last tie-breaker. */
  seq: number;
}

export type QueueName = 'active' | 'backoff' | 'unschedulable' | 'gated';

export interface SchedulingQueueOptions {
  clock?: Clock;
  podInitialBackoffMs?: number;
  podMaxBackoffMs?: number;
  podMaxInUnschedulablePodsDurationMs?: number;
  /** Events that may help pods rejected by these plugins (the framework knows). */
  eventsFor?: (plugins: Iterable<string>) => Set<ClusterEvent>;
  /** Called when a pod enters a queue, for the scheduler_queue_incoming_pods_total metric. */
  onIncoming?: (queue: QueueName, event: string) => void;
}

/** Pods waiting for room on a nominated node, by node. */
export class Nominator {
  private readonly byNode = new Map<string, Map<string, PodInfo>>();
  private readonly nodeOf = new Map<string, string>();

  add(pi: PodInfo, nodeName: string): void {
    this.delete(pi.key);
    if (!nodeName) return;
    let m = this.byNode.get(nodeName);
    if (!m) this.byNode.set(nodeName, (m = new Map()));
    m.set(pi.key, pi);
    this.nodeOf.set(pi.key, nodeName);
  }

  delete(key: string): void {
    const node = this.nodeOf.get(key);
    if (node === undefined) return;
    this.nodeOf.delete(key);
    const m = this.byNode.get(node);
    m?.delete(key);
    if (m && m.size === 0) this.byNode.delete(node);
  }

  nominatedNode(key: string): string | undefined {
    return this.nodeOf.get(key);
  }

  forNode(nodeName: string): PodInfo[] {
    const m = this.byNode.get(nodeName);
    return m ? [...m.values()] : [];
  }

  get size(): number {
    return this.nodeOf.size;
  }
}

function activeLess(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
  if (a.podInfo.priority !== b.podInfo.priority) return a.podInfo.priority > b.podInfo.priority;
  if (a.created !== b.created) return a.created < b.created;
  return a.seq < b.seq;
}

function isGated(pi: PodInfo): boolean {
  return (pi.pod.spec?.schedulingGates ?? []).length > 0;
}

/** Whether a change of the pod can change the scheduling answer (status-only changes cannot). */
function podChangedForScheduling(a: PodInfo, b: PodInfo): boolean {
  const x = a.pod;
  const y = b.pod;
  return a.priority !== b.priority || !jsonEqual(x.spec, y.spec) || !jsonEqual(x.metadata.labels ?? {}, y.metadata.labels ?? {}) || !jsonEqual(x.metadata.annotations ?? {}, y.metadata.annotations ?? {});
}

export const flushUnschedulableIntervalMs = 30_000;

export class SchedulingQueue {
  readonly nominator = new Nominator();
  private readonly clock: Clock;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxInUnschedulableMs: number;
  private readonly active = new KeyedHeap<QueuedPodInfo>((q) => q.podInfo.key, activeLess);
  private readonly backoff: KeyedHeap<QueuedPodInfo>;
  private readonly unschedulable = new Map<string, QueuedPodInfo>();
  private readonly gated = new Map<string, QueuedPodInfo>();
  /** Popped and not yet done or requeued; `deleted` marks pods deleted meanwhile. */
  private readonly inFlight = new Map<string, { qpi: QueuedPodInfo; deleted: boolean }>();
  private waiters: ((q: QueuedPodInfo | undefined) => void)[] = [];
  private wakeFlusher?: () => void;
  private wakeScheduled = false;
  private seq = 0;
  private closed = false;
  /** Counts pops; a pod's cycle number is the value when it was popped. */
  schedulingCycle = 0;
  /** The cycle at the last move request: failures of pods popped before it go to backoffQ. */
  private moveRequestCycle = -1;

  constructor(private readonly o: SchedulingQueueOptions = {}) {
    this.clock = o.clock ?? realClock;
    this.initialBackoffMs = o.podInitialBackoffMs ?? 1000;
    this.maxBackoffMs = o.podMaxBackoffMs ?? 10_000;
    this.maxInUnschedulableMs = o.podMaxInUnschedulablePodsDurationMs ?? 5 * 60_000;
    this.backoff = new KeyedHeap<QueuedPodInfo>(
      (q) => q.podInfo.key,
      (a, b) => this.backoffExpiry(a) < this.backoffExpiry(b),
    );
  }

  // ---- backoff --------------------------------------------------------------------

  /** initial * 2^(attempts-1), at most max. */
  backoffDuration(attempts: number): number {
    let d = this.initialBackoffMs;
    for (let i = 1; i < attempts; i++) {
      d *= 2;
      if (d >= this.maxBackoffMs) return this.maxBackoffMs;
    }
    return Math.min(d, this.maxBackoffMs);
  }

  backoffExpiry(q: QueuedPodInfo): number {
    return q.timestamp + this.backoffDuration(q.attempts);
  }

  private isBackingOff(q: QueuedPodInfo): boolean {
    return q.attempts > 0 && this.backoffExpiry(q) > this.clock.now();
  }

  // ---- adding and removing -----------------------------------------------------------

  private newQueued(pi: PodInfo): QueuedPodInfo {
    const t = pi.pod.metadata.creationTimestamp ? Date.parse(pi.pod.metadata.creationTimestamp) : 0;
    return { podInfo: pi, timestamp: this.clock.now(), attempts: 0, unschedulablePlugins: new Set(), created: Number.isFinite(t) ? t : 0, seq: this.seq++ };
  }

  private pushActive(q: QueuedPodInfo, event: string): void {
    this.o.onIncoming?.('active', event);
    this.active.push(q);
    this.wakeWaiter();
  }

  /**
   * Hands the best active pod to a waiting pop, after the current task: pods moved together
   * (one event can move many) all reach the heap first, so the waiter gets the highest priority.
   */
  private wakeWaiter(): void {
    if (this.waiters.length === 0 || this.wakeScheduled) return;
    this.wakeScheduled = true;
    queueMicrotask(() => {
      this.wakeScheduled = false;
      while (this.waiters.length > 0 && this.active.size > 0) {
        const q = this.active.pop()!;
        this.startCycle(q);
        this.waiters.shift()!(q);
      }
    });
  }

  private pushBackoff(q: QueuedPodInfo, event: string): void {
    this.o.onIncoming?.('backoff', event);
    this.backoff.push(q);
    this.wakeFlusher?.();
  }

  private has(key: string): boolean {
    return this.active.has(key) || this.backoff.has(key) || this.unschedulable.has(key) || this.gated.has(key) || this.inFlight.has(key);
  }

  /**
   * Keeps the nominator in step with status.nominatedNodeName. An update without the field,
   * from an object older than the nomination made in memory, keeps the in-memory one; an
   * update that removes the field removes it.
   */
  private trackNomination(pi: PodInfo, old?: PodInfo): void {
    const nnn = pi.pod.status?.nominatedNodeName;
    const current = this.nominator.nominatedNode(pi.key);
    if (nnn) this.nominator.add(pi, nnn);
    else if (old?.pod.status?.nominatedNodeName) this.nominator.delete(pi.key);
    else if (current !== undefined) this.nominator.add(pi, current);
  }

  /** A new pending pod. */
  add(pi: PodInfo): void {
    if (this.closed) return;
    if (this.has(pi.key)) {
      this.update(pi);
      return;
    }
    this.trackNomination(pi);
    const q = this.newQueued(pi);
    if (isGated(pi)) {
      this.gated.set(pi.key, q);
      this.o.onIncoming?.('gated', 'PodAdd');
      return;
    }
    this.pushActive(q, 'PodAdd');
  }

  /** The pending pod changed. Changes that could change the answer send it back to be tried. */
  update(pi: PodInfo, old?: PodInfo): void {
    if (this.closed) return;
    const key = pi.key;
    this.trackNomination(pi, old);
    const fl = this.inFlight.get(key);
    if (fl) {
      fl.qpi.podInfo = pi;
      return;
    }
    const act = this.active.get(key);
    if (act) {
      act.podInfo = pi;
      this.active.push(act);
      return;
    }
    const bo = this.backoff.get(key);
    if (bo) {
      bo.podInfo = pi;
      this.backoff.push(bo);
      return;
    }
    const gq = this.gated.get(key);
    if (gq) {
      gq.podInfo = pi;
      if (!isGated(pi)) {
        this.gated.delete(key);
        this.pushActive(gq, 'PodSchedulingGatesEliminated');
      }
      return;
    }
    const uq = this.unschedulable.get(key);
    if (uq) {
      const changed = podChangedForScheduling(uq.podInfo, pi);
      uq.podInfo = pi;
      if (!changed) return;
      this.unschedulable.delete(key);
      if (this.isBackingOff(uq)) this.pushBackoff(uq, 'PodUpdate');
      else this.pushActive(uq, 'PodUpdate');
      return;
    }
    this.add(pi);
  }

  /** The pod was deleted (or got bound by someone else): forget it everywhere. */
  delete(key: string): void {
    this.active.delete(key);
    this.backoff.delete(key);
    this.unschedulable.delete(key);
    this.gated.delete(key);
    this.nominator.delete(key);
    const fl = this.inFlight.get(key);
    if (fl) fl.deleted = true;
  }

  // ---- popping -------------------------------------------------------------------------

  private startCycle(q: QueuedPodInfo): void {
    this.schedulingCycle++;
    q.attempts++;
    q.initialAttemptTimestamp ??= this.clock.now();
    this.inFlight.set(q.podInfo.key, { qpi: q, deleted: false });
  }

  /** The next pod to schedule; waits while activeQ is empty; undefined once closed. */
  pop(): Promise<QueuedPodInfo | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const q = this.active.pop();
    if (q) {
      this.startCycle(q);
      return Promise.resolve(q);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** A popped pod's cycle is over and it is not coming back (scheduled, or dropped). */
  done(key: string): void {
    this.inFlight.delete(key);
  }

  /**
   * A popped pod did not fit (or failed). It goes to backoffQ if a move request came while it
   * was being scheduled or no plugin rejected it (an error), else to the unschedulable pods.
   */
  addUnschedulableIfNotPresent(q: QueuedPodInfo, podSchedulingCycle: number, rejectors: Iterable<string> = []): void {
    const key = q.podInfo.key;
    const fl = this.inFlight.get(key);
    this.inFlight.delete(key);
    if (this.closed || fl?.deleted) return;
    if (this.active.has(key) || this.backoff.has(key) || this.unschedulable.has(key)) return;
    q.timestamp = this.clock.now();
    q.unschedulablePlugins = new Set(rejectors);
    q.helpfulEvents = q.unschedulablePlugins.size > 0 && this.o.eventsFor ? this.o.eventsFor(q.unschedulablePlugins) : undefined;
    if (this.moveRequestCycle >= podSchedulingCycle || q.unschedulablePlugins.size === 0) {
      this.pushBackoff(q, 'ScheduleAttemptFailure');
    } else {
      this.unschedulable.set(key, q);
      this.o.onIncoming?.('unschedulable', 'ScheduleAttemptFailure');
    }
  }

  /**
   * A cluster event happened: unschedulable pods it may help go back to activeQ (or backoffQ
   * while backing off). `matches` narrows further (e.g. only pods whose affinity selects the
   * pod that was added).
   */
  moveAllToActiveOrBackoffQueue(event: ClusterEvent, matches?: (q: QueuedPodInfo) => boolean): number {
    let moved = 0;
    for (const [key, q] of this.unschedulable) {
      if (q.helpfulEvents && !q.helpfulEvents.has(event)) continue;
      if (matches && !matches(q)) continue;
      this.unschedulable.delete(key);
      if (this.isBackingOff(q)) this.pushBackoff(q, event);
      else this.pushActive(q, event);
      moved++;
    }
    this.moveRequestCycle = this.schedulingCycle;
    return moved;
  }

  /** Moves pods whose backoff is over to activeQ. */
  flushBackoffQCompleted(): void {
    const now = this.clock.now();
    for (;;) {
      const q = this.backoff.peek();
      if (!q || this.backoffExpiry(q) > now) return;
      this.backoff.pop();
      this.pushActive(q, 'BackoffComplete');
    }
  }

  /** Pods unschedulable for longer than podMaxInUnschedulablePodsDuration are tried again. */
  flushUnschedulablePodsLeftover(): void {
    const now = this.clock.now();
    for (const [key, q] of this.unschedulable) {
      if (now - q.timestamp < this.maxInUnschedulableMs) continue;
      this.unschedulable.delete(key);
      if (this.isBackingOff(q)) this.pushBackoff(q, 'UnschedulableTimeout');
      else this.pushActive(q, 'UnschedulableTimeout');
    }
  }

  /** Runs the flushes (backoff as each expires, leftovers every 30s) until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let lastLeftover = this.clock.now();
    while (!signal.aborted) {
      this.flushBackoffQCompleted();
      const now = this.clock.now();
      if (now - lastLeftover >= flushUnschedulableIntervalMs) {
        this.flushUnschedulablePodsLeftover();
        lastLeftover = now;
      }
      const next = this.backoff.peek();
      let wait = lastLeftover + flushUnschedulableIntervalMs - now;
      if (next) wait = Math.min(wait, this.backoffExpiry(next) - now);
      const wake = new AbortController();
      const onAbort = () => wake.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.wakeFlusher = () => wake.abort();
      await this.clock.sleep(Math.max(1, wait), wake.signal);
      this.wakeFlusher = undefined;
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Stops the queue: pending pops resolve undefined. */
  close(): void {
    this.closed = true;
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w(undefined);
  }

  /** Pods per queue, for the scheduler_pending_pods metric. */
  lengths(): Record<QueueName, number> {
    return { active: this.active.size, backoff: this.backoff.size, unschedulable: this.unschedulable.size, gated: this.gated.size };
  }

  /** Where the pod is, for tests and debugging. */
  whereIs(key: string): QueueName | 'inFlight' | undefined {
    if (this.active.has(key)) return 'active';
    if (this.backoff.has(key)) return 'backoff';
    if (this.unschedulable.has(key)) return 'unschedulable';
    if (this.gated.has(key)) return 'gated';
    if (this.inFlight.has(key)) return 'inFlight';
    return undefined;
  }

  /** Every pending pod (not in flight), for tests and preemption's view of the queue. */
  pendingPods(): PodInfo[] {
    return [...this.active.list(), ...this.backoff.list(), ...this.unschedulable.values(), ...this.gated.values()].map((q) => q.podInfo);
  }
}
