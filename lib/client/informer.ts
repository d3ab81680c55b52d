/**
 * SharedInformer: one Reflector (one list + watch) feeding one indexed cache and any number of
 * event handlers. Components share informers through a SharedInformerFactory so that each
 * resource is watched once per process.
 *
 * Objects are immutable: every object put in the cache is deep-frozen (unless `freeze: false`),
 * and the very same objects are handed to handlers and returned by listers. They are shared by
 * every handler and every reader, so code that wants to change one must `deepCopy` it first;
 * a forgotten copy fails loudly (TypeError in strict mode) instead of corrupting the cache.
 *
 * Delivery: handlers run synchronously, in the order events arrive, one at a time; a handler
 * that throws is logged and does not stop the others. Handlers should be quick (enqueue a key,
 * as controllers do) and must not block.
 *
 *   list   → onAdd(obj, true) for new keys, onUpdate(old, new) for keys already cached
 *            (a re-list, like a resync, reports every object; compare resourceVersions to skip
 *            no-ops), onDelete(DeletedFinalStateUnknown) for cached keys the list lacks
 *   ADDED / MODIFIED → onAdd(obj, false) or onUpdate(old, new)
 *   DELETED → onDelete(final object)
 *   resync → onUpdate(obj, obj) for every cached object, per handler period
 */
import type { Logger } from 'pino';
import type { KubeObject } from '../api/index.js';
import { realClock, silentLogger, type Clock, type Runnable } from '../base/index.js';
import type { ListerWatcher } from './interface.js';
import { Lister } from './lister.js';
import { Reflector } from './reflector.js';
import { CacheIndexer, deepFreeze, indexByNamespace, metaNamespaceKey, namespaceIndex, type Indexer, type Indexers, type ReflectorSink } from './store.js';

/**
 * Handed to onDelete when an object disappeared while the watch was down: the informer learned
 * of the deletion from a re-list and `obj` is the last state it saw, which may be stale.
 */
export class DeletedFinalStateUnknown<T> {
  constructor(
    readonly key: string,
    readonly obj: T,
  ) {}
}

export function isTombstone<T>(x: T | DeletedFinalStateUnknown<T>): x is DeletedFinalStateUnknown<T> {
  return x instanceof DeletedFinalStateUnknown;
}

/** The object of an onDelete argument, unwrapping a tombstone. */
export function deletedObject<T>(x: T | DeletedFinalStateUnknown<T>): T {
  return x instanceof DeletedFinalStateUnknown ? x.obj : x;
}

export interface EventHandler<T> {
  /** `isInInitialList`: the object came with a list, not a watch event. */
  onAdd?(obj: T, isInInitialList: boolean): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T | DeletedFinalStateUnknown<T>): void;
}

export interface HandlerRegistration {
  remove(): void;
  /** True once the informer has synced (the handler has then seen every cached object). */
  hasSynced(): boolean;
}

export interface SharedInformerOptions<T extends KubeObject> {
  lw: ListerWatcher<T>;
  /** For logs, e.g. `pods`. */
  name: string;
  log?: Logger;
  clock?: Clock;
  /** Default resync period for handlers (ms); 0: none. */
  resyncPeriodMs?: number;
  /** Extra indexes; `namespace` is always there. */
  indexers?: Indexers<T>;
  /** Deep-freeze cached objects (default true). */
  freeze?: boolean;
  pageSize?: number;
  /** Passed to the Reflector (tests shorten them). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  watchTimeoutSeconds?: () => number;
}

interface Registered<T> {
  handler: EventHandler<T>;
  resyncPeriodMs: number;
  stop?: AbortController;
  removed: boolean;
}

export class SharedInformer<T extends KubeObject> implements Runnable {
  readonly indexer: CacheIndexer<T>;
  private readonly reflector: Reflector<T>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly freeze: boolean;
  private handlers: Registered<T>[] = [];
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private running?: AbortSignal;
  private started = false;
  private resyncLoops = new Set<Promise<void>>();

  constructor(private readonly o: SharedInformerOptions<T>) {
    this.log = o.log ?? silentLogger();
    this.clock = o.clock ?? realClock;
    this.freeze = o.freeze ?? true;
    this.indexer = new CacheIndexer<T>({ [namespaceIndex]: indexByNamespace, ...(o.indexers ?? {}) });
    const sink: ReflectorSink<T> = {
      replace: (items, rv) => this.onReplace(items, rv),
      add: (obj) => this.onUpsert(obj),
      update: (obj) => this.onUpsert(obj),
      delete: (obj) => this.onDeleted(obj),
    };
    this.reflector = new Reflector<T>({
      lw: o.lw,
      sink,
      name: o.name,
      log: this.log,
      clock: this.clock,
      pageSize: o.pageSize,
      backoffInitialMs: o.backoffInitialMs,
      backoffMaxMs: o.backoffMaxMs,
      watchTimeoutSeconds: o.watchTimeoutSeconds,
    });
  }

  get name(): string {
    return this.o.name;
  }

  /** The cache. Read it; never write to it. */
  getIndexer(): Indexer<T> {
    return this.indexer;
  }

  lister(): Lister<T> {
    return new Lister(this.indexer);
  }

  /** Adds indexes; allowed before or after start (existing objects are indexed at once). */
  addIndexers(indexers: Indexers<T>): void {
    this.indexer.addIndexers(indexers);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  get lastSyncResourceVersion(): string {
    return this.reflector.lastSyncResourceVersion;
  }

  /** Reflector counters (lists, watches, events, expired), for tests and status pages. */
  get stats(): Readonly<Reflector<T>['stats']> {
    return this.reflector.stats;
  }

  /** Resolves true once synced, or false if `signal` aborts first. */
  waitForCacheSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (v: boolean) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(v);
      };
      const onAbort = () => {
        this.syncWaiters = this.syncWaiters.filter((w) => w !== waiter);
        done(false);
      };
      const waiter = () => done(true);
      this.syncWaiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Registers a handler. If objects are cached already, it gets onAdd(obj, true) for each of
   * them before this returns. `resyncPeriodMs` overrides the informer's default.
   */
  addEventHandler(handler: EventHandler<T>, opts: { resyncPeriodMs?: number } = {}): HandlerRegistration {
    const reg: Registered<T> = { handler, resyncPeriodMs: opts.resyncPeriodMs ?? this.o.resyncPeriodMs ?? 0, removed: false };
    this.handlers.push(reg);
    for (const obj of this.indexer.list()) this.call(reg, 'onAdd', () => handler.onAdd?.(obj, true));
    if (this.running) this.startResync(reg, this.running);
    return {
      remove: () => {
        reg.removed = true;
        reg.stop?.abort();
        this.handlers = this.handlers.filter((r) => r !== reg);
      },
      hasSynced: () => this.synced,
    };
  }

  /** Runs the list/watch until `signal` aborts. Call once; the factory does it for shared informers. */
  async start(signal: AbortSignal): Promise<void> {
    if (this.started) throw new Error(`informer ${this.o.name} was already started`);
    this.started = true;
    this.running = signal;
    for (const reg of this.handlers) this.startResync(reg, signal);
    await this.reflector.start(signal);
    for (const reg of this.handlers) reg.stop?.abort();
    await Promise.all(this.resyncLoops);
    this.running = undefined;
  }

  private startResync(reg: Registered<T>, signal: AbortSignal): void {
    if (reg.resyncPeriodMs <= 0 || reg.stop) return;
    const ctl = new AbortController();
    reg.stop = ctl;
    const onAbort = () => ctl.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const loop = (async () => {
      while (!ctl.signal.aborted) {
        await this.clock.sleep(reg.resyncPeriodMs, ctl.signal);
        if (ctl.signal.aborted || reg.removed) break;
        if (!this.synced) continue;
        for (const obj of this.indexer.list()) this.call(reg, 'onUpdate', () => reg.handler.onUpdate?.(obj, obj));
      }
      signal.removeEventListener('abort', onAbort);
    })();
    this.resyncLoops.add(loop);
    void loop.finally(() => this.resyncLoops.delete(loop));
  }

  private call(reg: Registered<T>, what: string, fn: () => void): void {
    if (reg.removed) return;
    try {
      fn();
    } catch (err) {
      this.log.error({ err, informer: this.o.name, handler: what }, 'event handler failed');
    }
  }

  private each(what: string, fn: (h: EventHandler<T>) => void): void {
    for (const reg of [...this.handlers]) this.call(reg, what, () => fn(reg.handler));
  }

  private prepare(obj: T): T {
    return this.freeze ? deepFreeze(obj) : obj;
  }

  private onReplace(items: T[], _rv: string): void {
    const seen = new Set<string>();
    const initial = !this.synced;
    for (const raw of items) {
      const obj = this.prepare(raw);
      const key = metaNamespaceKey(obj);
      seen.add(key);
      const old = this.indexer.getByKey(key);
      this.indexer.update(obj);
      if (old) this.each('onUpdate', (h) => h.onUpdate?.(old, obj));
      else this.each('onAdd', (h) => h.onAdd?.(obj, initial));
    }
    for (const key of this.indexer.listKeys()) {
      if (seen.has(key)) continue;
      const old = this.indexer.getByKey(key)!;
      this.indexer.deleteKey(key);
      const tombstone = new DeletedFinalStateUnknown(key, old);
      this.each('onDelete', (h) => h.onDelete?.(tombstone));
    }
    if (initial) {
      this.synced = true;
      const waiters = this.syncWaiters;
      this.syncWaiters = [];
      for (const w of waiters) w();
    }
  }

  private onUpsert(raw: T): void {
    const obj = this.prepare(raw);
    const old = this.indexer.get(obj);
    this.indexer.update(obj);
    if (old) this.each('onUpdate', (h) => h.onUpdate?.(old, obj));
    else this.each('onAdd', (h) => h.onAdd?.(obj, false));
  }

  private onDeleted(raw: T): void {
    const obj = this.prepare(raw);
    this.indexer.delete(obj);
    this.each('onDelete', (h) => h.onDelete?.(obj));
  }
}

/** Waits for every informer to sync; false if `signal` aborts first. */
export async function waitForCacheSync(signal: AbortSignal | undefined, ...informers: { waitForCacheSync(signal?: AbortSignal): Promise<boolean> }[]): Promise<boolean> {
  const results = await Promise.all(informers.map((i) => i.waitForCacheSync(signal)));
  return results.every(Boolean);
}
