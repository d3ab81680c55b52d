/**
 * ControllerExpectations: what a controller expects to see from its own writes, so it does not
 * act twice while its informer lags behind. A ReplicaSet controller that creates 3 pods
 * records "expect 3 creations"; until the informer has shown it 3 new pods (or 5 minutes have
 * passed, in case a watch event was lost), it does not count pods and create more.
 *
 *   sync:     if (!exp.satisfiedExpectations(key)) return;   // wait for our own writes
 *             exp.expectCreations(key, diff); create diff pods; on each failed create: exp.creationObserved(key)
 *   handlers: onAdd(pod)    → exp.creationObserved(ownerKey); enqueue(ownerKey)
 *             onDelete(pod) → exp.deletionObserved(ownerKey); enqueue(ownerKey)
 */
import type { Logger } from 'pino';
import { realClock, silentLogger, type Clock } from '../base/index.js';

/** After this long, expectations count as satisfied whatever was observed (client-go's 5 minutes). */
export const expectationsTimeoutMs = 5 * 60 * 1000;

export interface Expectations {
  add: number;
  del: number;
  /** When they were set (ms since epoch, per the Clock). */
  timestamp: number;
}

export class ControllerExpectations {
  protected readonly clock: Clock;
  protected readonly log: Logger;
  private readonly store = new Map<string, Expectations>();

  constructor(opts: { clock?: Clock; log?: Logger } = {}) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.log ?? silentLogger();
  }

  getExpectations(key: string): Readonly<Expectations> | undefined {
    return this.store.get(key);
  }

  /**
   * True when the controller may act on `key`: nothing is expected, everything expected was
   * observed, or the expectations are older than 5 minutes.
   */
  satisfiedExpectations(key: string): boolean {
    const e = this.store.get(key);
    if (!e) return true;
    if (e.add <= 0 && e.del <= 0) return true;
    if (this.clock.now() - e.timestamp > expectationsTimeoutMs) {
      this.log.info({ key, add: e.add, del: e.del }, 'expectations expired; acting anyway');
      return true;
    }
    return false;
  }

  setExpectations(key: string, add: number, del: number): void {
    this.store.set(key, { add, del, timestamp: this.clock.now() });
  }

  expectCreations(key: string, adds: number): void {
    this.setExpectations(key, adds, 0);
  }

  expectDeletions(key: string, dels: number): void {
    this.setExpectations(key, 0, dels);
  }

  raiseExpectations(key: string, add: number, del: number): void {
    const e = this.store.get(key);
    if (!e) return;
    e.add += add;
    e.del += del;
  }

  lowerExpectations(key: string, add: number, del: number): void {
    const e = this.store.get(key);
    if (!e) return;
    e.add -= add;
    e.del -= del;
  }

  creationObserved(key: string): void {
    this.lowerExpectations(key, 1, 0);
  }

  deletionObserved(key: string): void {
    this.lowerExpectations(key, 0, 1);
  }

  deleteExpectations(key: string): void {
    this.store.delete(key);
  }
}

/**
 * Expectations that track which objects are expected to go, so that a deletion observed twice
 * (a DELETED event, then a tombstone from a re-list) is counted once.
 */
export class UIDTrackingControllerExpectations extends ControllerExpectations {
  private readonly uids = new Map<string, Set<string>>();

  /** Expects the deletion of these objects (their keys, or uids). */
  expectDeletionsOf(key: string, deletedKeys: string[]): void {
    this.uids.set(key, new Set(deletedKeys));
    this.expectDeletions(key, deletedKeys.length);
  }

  /** Observes the deletion of one object; a repeat or an object not expected changes nothing. */
  deletionObservedOf(key: string, deletedKey: string): void {
    const set = this.uids.get(key);
    if (!set || !set.delete(deletedKey)) return;
    this.lowerExpectations(key, 0, 1);
  }

  /** The objects still expected to be deleted. */
  getSet(key: string): ReadonlySet<string> | undefined {
    return this.uids.get(key);
  }

  override deleteExpectations(key: string): void {
    this.uids.delete(key);
    super.deleteExpectations(key);
  }
}
