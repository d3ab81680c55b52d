/**
 * One worker per pod UID: every sync of a pod runs in its worker, one at a time, always on the
 * newest state (triggers that arrive while a sync runs coalesce into one more sync). Syncs of
 * different pods run in parallel.
 *
 * A worker's life:
 *
 *   (created on the first trigger)
 *        │
 *        ▼
 *    syncing ──(sync says "terminating": deleted, gone, or done)──► terminating
 *      ▲  │                                                              │
 *      │  └─(sync says "terminated": done and stopped, pod kept)──┐      │ (termination finished)
 *      │                                                          ▼      ▼
 *      │                                                         terminated ──(pod gone: cleanup)──► removed
 *      └────────────────(a terminated pod cannot come back: a new pod has a new UID)
 *
 * The states are decided by the sync function (it returns the state the pod is in after it
 * ran); the worker only keeps the pod's syncs serial, coalesces triggers and owns the pod's
 * resync timer. Timers: each worker owns at most one pending resync timer (the earliest asked
 * for); `stop()` clears all of them and waits for running syncs to finish.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../base/index.js';

export type PodWorkerState = 'syncing' | 'terminating' | 'terminated' | 'removed';

export interface SyncResult {
  /** The state the pod is in after this sync. */
  state: PodWorkerState;
  /** Sync again after this long (backoff expiry, a retry, a wait for a container). */
  resyncAfterMs?: number;
}

/** Runs one sync of a pod; `reason` says what triggered it (for logs). Must not throw for expected failures. */
export type SyncFunc = (uid: string, reason: string) => Promise<SyncResult>;

interface Worker {
  uid: string;
  state: PodWorkerState;
  running?: Promise<void>;
  dirty: boolean;
  reasons: Set<string>;
  timer?: NodeJS.Timeout;
  timerAt?: number;
  lastSyncAt?: number;
}

export interface PodWorkersOptions {
  sync: SyncFunc;
  log: Logger;
  clock: Clock;
  /** A sync that throws is retried after this long (default 5s). */
  errorBackoffMs?: number;
  onSyncDuration?(ms: number, state: PodWorkerState): void;
}

export class PodWorkers {
  private readonly workers = new Map<string, Worker>();
  private stopped = false;

  constructor(private readonly o: PodWorkersOptions) {}

  /** Asks for a sync of the pod (creating its worker). */
  trigger(uid: string, reason: string): void {
    if (this.stopped) return;
    let w = this.workers.get(uid);
    if (!w) {
      w = { uid, state: 'syncing', dirty: false, reasons: new Set() };
      this.workers.set(uid, w);
    }
    if (w.state === 'removed') return;
    w.reasons.add(reason);
    if (w.running) {
      w.dirty = true;
      return;
    }
    this.run(w);
  }

  /** Asks for a sync of the pod after `ms` (keeps the earlier of two requests). */
  resyncAfter(uid: string, ms: number, reason = 'resync'): void {
    const w = this.workers.get(uid);
    if (!w || this.stopped || w.state === 'removed') return;
    const at = this.o.clock.now() + ms;
    if (w.timer && w.timerAt !== undefined && w.timerAt <= at) return;
    if (w.timer) clearTimeout(w.timer);
    w.timerAt = at;
    w.timer = setTimeout(
      () => {
        w.timer = undefined;
        w.timerAt = undefined;
        this.trigger(uid, reason);
      },
      Math.max(0, ms),
    );
    w.timer.unref?.();
  }

  state(uid: string): PodWorkerState | undefined {
    return this.workers.get(uid)?.state;
  }

  /** UIDs of the pods with a worker. */
  uids(): string[] {
    return [...this.workers.keys()];
  }

  /** True while a sync of the pod is running. */
  isBusy(uid: string): boolean {
    return !!this.workers.get(uid)?.running;
  }

  /** Resolves once no sync of any pod is running (tests). */
  async idle(): Promise<void> {
    for (;;) {
      const running = [...this.workers.values()].map((w) => w.running).filter((p): p is Promise<void> => !!p);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  /** Clears every timer and waits for running syncs. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.workers.values()) {
      if (w.timer) clearTimeout(w.timer);
      w.timer = undefined;
      w.dirty = false;
    }
    await Promise.all([...this.workers.values()].map((w) => w.running));
  }

  private run(w: Worker): void {
    w.running = (async () => {
      do {
        w.dirty = false;
        const reasons = [...w.reasons].join(',');
        w.reasons.clear();
        const start = this.o.clock.now();
        let result: SyncResult;
        try {
          result = await this.o.sync(w.uid, reasons);
        } catch (err) {
          this.o.log.error({ err, podUID: w.uid }, 'pod sync failed; retrying');
          result = { state: w.state === 'removed' ? 'syncing' : w.state, resyncAfterMs: this.o.errorBackoffMs ?? 5000 };
        }
        w.lastSyncAt = this.o.clock.now();
        this.o.onSyncDuration?.(w.lastSyncAt - start, result.state);
        w.state = result.state;
        if (result.state === 'removed') {
          if (w.timer) clearTimeout(w.timer);
          this.workers.delete(w.uid);
          return;
        }
        if (result.resyncAfterMs !== undefined && !this.stopped) this.resyncAfter(w.uid, result.resyncAfterMs, 'requeue');
      } while (w.dirty && !this.stopped);
    })().finally(() => {
      w.running = undefined;
      // A trigger that arrived between the last loop check and here.
      if (w.dirty && !this.stopped && this.workers.get(w.uid) === w) this.run(w);
    });
  }
}
