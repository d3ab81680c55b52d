/**
 * The queue of nodes waiting for a NoExecute taint, one per zone: nodes come out in the order
 * they were added, at most `qps` per second (burst 1), which is what --node-eviction-rate
 * limits. A node that could not be handled is retried after the delay its handler returns.
 * A rate of 0 stops the queue (a zone in disruption taints nothing).
 *
 * A node is handled once: after success it leaves the queue but stays known, and `add` refuses
 * it until `remove` forgets it (when the node is healthy again), as upstream's UniqueQueue.
 */
import type { Clock } from '../../base/index.js';

export interface TimedValue {
  value: string;
  uid: string;
  addedAt: number;
  processAt: number;
}

/** A token bucket with burst 1 that accepts nothing when its rate is 0. */
class Limiter {
  private tokens = 1;
  private last: number;
  constructor(
    readonly qps: number,
    private readonly clock: Clock,
  ) {
    this.last = clock.now();
  }
  tryAccept(): boolean {
    if (!(this.qps > 0)) return false;
    const now = this.clock.now();
    this.tokens = Math.min(1, this.tokens + ((now - this.last) * this.qps) / 1000);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
}

export class RateLimitedTimedQueue {
  private items: TimedValue[] = [];
  /** Every node queued or handled since it was last removed. */
  private readonly known = new Set<string>();
  private limiter: Limiter;

  constructor(
    qps: number,
    private readonly clock: Clock,
  ) {
    this.limiter = new Limiter(qps, clock);
  }

  get qps(): number {
    return this.limiter.qps;
  }

  /** Adds a node unless it is queued or was handled already; returns whether it was added. */
  add(value: string, uid: string): boolean {
    if (this.known.has(value)) return false;
    const now = this.clock.now();
    this.items.push({ value, uid, addedAt: now, processAt: now });
    this.known.add(value);
    return true;
  }

  /** Forgets a node (queued or handled), so that it can be added again; returns whether it was known. */
  remove(value: string): boolean {
    if (!this.known.delete(value)) return false;
    this.items = this.items.filter((i) => i.value !== value);
    return true;
  }

  /** Whether the node waits in the queue. */
  has(value: string): boolean {
    return this.items.some((i) => i.value === value);
  }

  get length(): number {
    return this.items.length;
  }

  /** Changes the rate; a new rate starts with a fresh token, as upstream's SwapLimiter. */
  swapLimiter(qps: number): void {
    if (qps === this.limiter.qps) return;
    this.limiter = new Limiter(qps, this.clock);
  }

  /**
   * Hands due nodes to `fn`, as many as the rate allows. `fn` answers [done, retryAfterMs]:
   * done nodes leave the queue, the others wait retryAfterMs before their next turn.
   */
  async try(fn: (v: TimedValue) => Promise<[boolean, number]>): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      const due = this.items.filter((i) => i.processAt <= now).sort((a, b) => a.processAt - b.processAt || a.addedAt - b.addedAt)[0];
      if (!due) return;
      if (!this.limiter.tryAccept()) return;
      const [done, retryAfterMs] = await fn(due);
      if (done) this.items = this.items.filter((i) => i !== due);
      else due.processAt = this.clock.now() + retryAfterMs + 1;
    }
  }
}
