/**
 * Work queues with client-go's semantics, the backbone of every controller:
 *
 *  - an item is queued at most once, however often it is added before a worker takes it;
 *  - an item being processed (between get and done) is handed to no other worker; adds made
 *    meanwhile are remembered and the item is queued again when `done` is called;
 *  - items come out in the order they were first added;
 *  - after shutDown, adds are ignored and `get` drains what is queued, then reports shutdown.
 *
 *   add ──► dirty ──► queue ──get──► processing ──done──► (dirty? queue again)
 *
 * DelayingQueue adds `addAfter`; RateLimitingQueue adds `addRateLimited`/`forget` on top of a
 * RateLimiter. Items are compared with `===` (use string keys: `namespace/name`).
 *
 * Ownership: a DelayingQueue owns one wait loop (started by its first delayed add) that sleeps
 * on the Clock until the earliest delayed item is due; shutDown ends it.
 */
import { realClock, type Clock } from '../base/index.js';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiters.js';

export type GetResult<T> = { item: T; shutdown: false } | { item: undefined; shutdown: true };

export class WorkQueue<T> {
  private queue: T[] = [];
  private head = 0;
  private dirty = new Set<T>();
  private processing = new Set<T>();
  private waiters: ((r: GetResult<T>) => void)[] = [];
  private drainWaiters: (() => void)[] = [];
  private shutdownRequested = false;

  /** Queues `item` unless it is queued already; if it is being processed, after its `done`. */
  add(item: T): void {
    if (this.shutdownRequested || this.dirty.has(item)) return;
    this.dirty.add(item);
    if (this.processing.has(item)) return;
    this.push(item);
  }

  private push(item: T): void {
    const w = this.waiters.shift();
    if (w) {
      // A worker is waiting: hand the item over directly.
      this.dirty.delete(item);
      this.processing.add(item);
      w({ item, shutdown: false });
      return;
    }
    this.queue.push(item);
  }

  /** Items waiting (not counting those being processed). */
  len(): number {
    return this.queue.length - this.head;
  }

  /**
   * The next item, once there is one; the caller must call `done(item)` when finished with it.
   * `shutdown: true` once the queue is shut down and empty.
   */
  get(): Promise<GetResult<T>> {
    if (this.len() > 0) {
      const item = this.queue[this.head]!;
      this.queue[this.head] = undefined as T;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      this.dirty.delete(item);
      this.processing.add(item);
      return Promise.resolve({ item, shutdown: false });
    }
    if (this.shutdownRequested) return Promise.resolve({ item: undefined, shutdown: true });
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks `item` finished; if it was added while processing, it is queued again now. */
  done(item: T): void {
    if (!this.processing.delete(item)) return;
    if (this.dirty.has(item)) this.push(item);
    if (this.processing.size === 0) {
      const ws = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of ws) w();
    }
  }

  /** Stops accepting items; waiting `get`s resolve with shutdown once the queue is empty. */
  shutDown(): void {
    if (this.shutdownRequested) return;
    this.shutdownRequested = true;
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w({ item: undefined, shutdown: true });
    this.onShutDown();
  }

  /** shutDown, then waits until every item being processed is done. */
  async shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return;
    await new Promise<void>((r) => this.drainWaiters.push(r));
  }

  shuttingDown(): boolean {
    return this.shutdownRequested;
  }

  /** Items between get and done. */
  processingCount(): number {
    return this.processing.size;
  }

  protected onShutDown(): void {}
}

interface Waiting<T> {
  item: T;
  readyAt: number;
}

export class DelayingQueue<T> extends WorkQueue<T> {
  protected readonly clock: Clock;
  private waiting = new Map<T, Waiting<T>>();
  private loop?: Promise<void>;
  private wake?: AbortController;
  private stopLoop = new AbortController();

  constructor(opts: { clock?: Clock } = {}) {
    super();
    this.clock = opts.clock ?? realClock;
  }

  /** Adds `item` after `delayMs`. A later addAfter of a waiting item keeps the earlier time. */
  addAfter(item: T, delayMs: number): void {
    if (this.shuttingDown()) return;
    if (delayMs <= 0) return this.add(item);
    const readyAt = this.clock.now() + delayMs;
    const cur = this.waiting.get(item);
    if (cur && cur.readyAt <= readyAt) return;
    this.waiting.set(item, { item, readyAt });
    if (!cur || readyAt < cur.readyAt) this.wake?.abort();
    this.loop ??= this.runLoop();
  }

  /** Items waiting for their delay. */
  waitingCount(): number {
    return this.waiting.size;
  }

  private async runLoop(): Promise<void> {
    const stop = this.stopLoop.signal;
    while (!stop.aborted) {
      const now = this.clock.now();
      let next = Infinity;
      for (const w of [...this.waiting.values()]) {
        if (w.readyAt <= now) {
          this.waiting.delete(w.item);
          this.add(w.item);
        } else next = Math.min(next, w.readyAt);
      }
      this.wake = new AbortController();
      const onStop = () => this.wake?.abort();
      stop.addEventListener('abort', onStop, { once: true });
      if (next === Infinity) await new Promise<void>((r) => this.wake!.signal.addEventListener('abort', () => r(), { once: true }));
      else await this.clock.sleep(next - now, this.wake.signal);
      stop.removeEventListener('abort', onStop);
    }
  }

  protected override onShutDown(): void {
    this.stopLoop.abort();
    this.waiting.clear();
  }
}

export class RateLimitingQueue<T> extends DelayingQueue<T> {
  readonly rateLimiter: RateLimiter<T>;

  constructor(opts: { clock?: Clock; rateLimiter?: RateLimiter<T> } = {}) {
    super(opts);
    this.rateLimiter = opts.rateLimiter ?? defaultControllerRateLimiter<T>(this.clock);
  }

  /** Adds `item` after the delay its rate limiter gives (counting one more failure). */
  addRateLimited(item: T): void {
    this.addAfter(item, this.rateLimiter.when(item));
  }

  /** The item succeeded: reset its backoff. */
  forget(item: T): void {
    this.rateLimiter.forget(item);
  }

  numRequeues(item: T): number {
    return this.rateLimiter.numRequeues(item);
  }
}
