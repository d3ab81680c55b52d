/**
 * Per-key backoff for container restarts (CrashLoopBackOff) and image pulls (ImagePullBackOff),
 * with upstream's rules (client-go flowcontrol.Backoff as the kubelet uses it):
 *
 *   - the first failure of a key is retried at once and starts its backoff at `initial`;
 *   - each further failure inside the window doubles it, up to `max`;
 *   - a key is "in backoff" while less than its current backoff has passed since the event
 *     (a container's finish time, a failed pull);
 *   - an entry whose last update is more than 2 × max before the event has expired: the key
 *     starts over. With max 5 minutes that is upstream's "reset after 10 minutes of clean
 *     running" for containers.
 *
 * The owner of a KeyedBackoff (the pod sync for containers, the image manager for pulls) calls
 * `gc()` now and then; there are no timers here.
 */
import type { Clock } from '../base/index.js';

export interface KeyedBackoffOptions {
  initialMs: number;
  maxMs: number;
  clock: Clock;
}

interface Entry {
  backoffMs: number;
  lastUpdate: number;
}

/** 10s doubling to 5 minutes: upstream's container restart and image pull backoff. */
export const defaultBackoffInitialMs = 10_000;
export const defaultBackoffMaxMs = 300_000;

export class KeyedBackoff {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly o: KeyedBackoffOptions) {}

  private expired(eventTime: number, e: Entry): boolean {
    return eventTime - e.lastUpdate > 2 * this.o.maxMs;
  }

  /** The current backoff of `key` in ms (0 when it has none). */
  get(key: string): number {
    return this.entries.get(key)?.backoffMs ?? 0;
  }

  /** True while `key` must still wait after an event at `eventTime` (ms since the epoch). */
  isInBackOffSince(key: string, eventTime: number): boolean {
    return this.remainingSince(key, eventTime) > 0;
  }

  /** How long `key` must still wait after an event at `eventTime`; 0 when it may go now. */
  remainingSince(key: string, eventTime: number): number {
    const e = this.entries.get(key);
    if (!e || this.expired(eventTime, e)) return 0;
    return Math.max(0, e.backoffMs - (this.o.clock.now() - eventTime));
  }

  /** Like remainingSince, measured from the key's last update (image pulls). */
  remainingSinceUpdate(key: string): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    const now = this.o.clock.now();
    if (this.expired(now, e)) return 0;
    return Math.max(0, e.backoffMs - (now - e.lastUpdate));
  }

  /** Records one more failure of `key` at `eventTime`: start at `initial`, or double up to `max`. */
  next(key: string, eventTime: number = this.o.clock.now()): number {
    const e = this.entries.get(key);
    const entry: Entry = !e || this.expired(eventTime, e) ? { backoffMs: this.o.initialMs, lastUpdate: 0 } : { backoffMs: Math.min(e.backoffMs * 2, this.o.maxMs), lastUpdate: 0 };
    entry.lastUpdate = this.o.clock.now();
    this.entries.set(key, entry);
    return entry.backoffMs;
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Removes keys (of this prefix) that no longer matter. */
  resetPrefix(prefix: string): void {
    for (const k of [...this.entries.keys()]) if (k.startsWith(prefix)) this.entries.delete(k);
  }

  /** Drops expired entries. */
  gc(): void {
    const now = this.o.clock.now();
    for (const [k, e] of this.entries) if (this.expired(now, e)) this.entries.delete(k);
  }

  get size(): number {
    return this.entries.size;
  }
}
