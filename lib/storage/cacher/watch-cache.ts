/**
 * WatchCache: one etcd watch per resource prefix, fanned out to any number of API watchers,
 * plus an in-memory copy of every object for `resourceVersion=0` lists, after Kubernetes'
 * cacher. Encoded JSON is computed once per object version and shared by every watcher and
 * every list.
 *
 * Consistency: the cache holds the state at revision `rv` and the events of the last
 * `capacity` changes. A watch from revision R can be served iff R >= `oldestRV` (no event
 * after R has been evicted); otherwise the caller falls back to a direct etcd watch.
 */
import type { Logger } from 'pino';
import type { KubeObject } from '../../api/index.js';
import type { Storage, StorageEvent, StorageEventType, WatchHandle } from '../interface.js';
import { StorageError } from '../interface.js';

/**
 * An object version with its JSON encoding computed on first use. One the cache took from an
 * etcd event is decoded when first read: an object nobody lists, gets or watches (most Events)
 * never is. When its stored value cannot be decoded, reading `object` throws StorageError
 * InvalidObject (so a read of it fails, as a read from etcd would) and `tryObject()` says
 * undefined (so watchers skip it).
 */
export class CachedObject {
  private encoded?: string;
  private decoded?: KubeObject;
  private decode?: () => KubeObject;
  private decodeError?: unknown;
  constructor(
    readonly key: string,
    object: KubeObject,
  ) {
    this.decoded = object;
  }
  static decodedOnDemand(key: string, decode: () => KubeObject): CachedObject {
    const c = new CachedObject(key, undefined as never);
    c.decode = decode;
    return c;
  }
  get object(): KubeObject {
    if (this.decodeError !== undefined) throw this.decodeError;
    if (this.decode) {
      try {
        this.decoded = this.decode();
      } catch (err) {
        this.decodeError = err;
        throw err;
      } finally {
        this.decode = undefined;
      }
    }
    return this.decoded!;
  }
  /** The object, or undefined when its stored value cannot be decoded. */
  tryObject(): KubeObject | undefined {
    try {
      return this.object;
    } catch {
      return undefined;
    }
  }
  /** Why an attempt to decode it failed; undefined when none did. */
  get decodeFailure(): unknown {
    return this.decodeError;
  }
  get json(): string {
    return (this.encoded ??= JSON.stringify(this.object));
  }
}

export interface CacheEvent {
  type: StorageEventType;
  key: string;
  current: CachedObject;
  prev?: CachedObject;
  revision: number;
}

/** What a watcher is sent: the event type as seen through its filter, and the object. */
export interface FilteredEvent {
  type: StorageEventType;
  object: CachedObject;
  revision: number;
}

export interface CacheWatcherSink {
  /** Called with events in revision order. Return false to stop the watcher (e.g. socket gone). */
  send(events: FilteredEvent[]): boolean;
  /** Called when the cache advances without events for this watcher (for bookmarks). */
  progress?(revision: number): void;
  /** Called once if the cache itself fails (e.g. its etcd watch expired and it is re-listing). */
  close(reason: StorageError): void;
  /**
   * The sink reads only the events' types and revisions, never their objects: with no
   * predicate, objects are not decoded for it (nor left out when they cannot be).
   */
  eventTypesOnly?: boolean;
}

export type Predicate = (obj: KubeObject) => boolean;

interface Watcher {
  id: number;
  predicate?: Predicate;
  sink: CacheWatcherSink;
  /** Only events after this revision are sent. */
  fromRV: number;
}

export class TooOldError extends Error {
  constructor(
    readonly requested: number,
    readonly oldest: number,
  ) {
    super(`too old resource version: ${requested} (${oldest})`);
  }
}

export interface WatchCacheOptions {
  storage: Storage;
  prefix: string;
  log: Logger;
  /** Events kept for watchers that resume from the past. */
  capacity?: number;
}

export class WatchCache {
  private readonly storage: Storage;
  readonly prefix: string;
  private readonly log: Logger;
  private readonly capacity: number;

  private objects = new Map<string, CachedObject>();
  private events: CacheEvent[] = [];
  private eventsStart = 0;
  private watchers = new Map<number, Watcher>();
  private nextWatcherId = 1;
  private handle?: WatchHandle;
  private readyPromise?: Promise<void>;
  private stopped = false;
  private waiters: { rv: number; resolve: () => void }[] = [];

  /** Revision of the state held in memory. */
  rv = 0;
  /** Watches from a revision older than this cannot be served from the buffer. */
  oldestRV = 0;
  ready = false;

  constructor(opts: WatchCacheOptions) {
    this.storage = opts.storage;
    this.prefix = opts.prefix;
    this.log = opts.log;
    this.capacity = opts.capacity ?? 2000;
  }

  /** Lists and starts watching; resolves once the cache holds a consistent state. */
  start(): Promise<void> {
    return (this.readyPromise ??= this.initialize());
  }

  private async initialize(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        const list = await this.storage.list(this.prefix);
        if (this.stopped) return;
        this.objects = new Map(list.items.map((o, i) => [list.keys[i]!, new CachedObject(list.keys[i]!, o)]));
        this.rv = list.revision;
        this.oldestRV = list.revision;
        this.events = [];
        this.eventsStart = 0;
        this.ready = true;
        this.handle = this.storage.watch(this.prefix, list.revision, {
          onEvents: (evs) => this.apply(evs),
          onProgress: (rev) => this.advance(rev),
          onError: (err) => this.restart(err),
          decodeOnDemand: true,
        });
        this.log.debug({ prefix: this.prefix, rv: this.rv, objects: this.objects.size }, 'watch cache ready');
        this.resolveWaiters();
        return;
      } catch (err) {
        this.log.warn({ err, prefix: this.prefix, attempt }, 'watch cache list failed; retrying');
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
      }
    }
  }

  /** The etcd watch failed (compaction while disconnected, etc.): drop watchers and re-list. */
  private restart(err: StorageError) {
    if (this.stopped) return;
    this.log.warn({ err: err.message, prefix: this.prefix }, 'watch cache lost its etcd watch; re-listing');
    this.ready = false;
    this.handle?.stop();
    for (const w of this.watchers.values()) w.sink.close(new StorageError('Expired', this.prefix, 'the watch cache was reset; re-list and watch again'));
    this.watchers.clear();
    this.readyPromise = this.initialize();
  }

  stop(): void {
    this.stopped = true;
    this.handle?.stop();
    for (const w of this.watchers.values()) w.sink.close(new StorageError('Unreachable', this.prefix, 'the API server is shutting down'));
    this.watchers.clear();
  }

  private advance(rev: number) {
    if (rev <= this.rv) return;
    this.rv = rev;
    for (const w of this.watchers.values()) w.sink.progress?.(rev);
    this.resolveWaiters();
  }

  private resolveWaiters() {
    if (this.waiters.length === 0) return;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) (this.ready && this.rv >= w.rv ? w.resolve() : still.push(w));
    this.waiters = still;
  }

  /** Waits until the cache has caught up with `rv`; false on timeout. */
  async waitFor(rv: number, timeoutMs: number): Promise<boolean> {
    await this.start();
    if (this.ready && this.rv >= rv) return true;
    return new Promise((resolve) => {
      const entry = { rv, resolve: () => { clearTimeout(t); resolve(true); } };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== entry);
        resolve(false);
      }, timeoutMs);
      this.waiters.push(entry);
    });
  }

  private apply(evs: StorageEvent[]) {
    const cacheEvents: CacheEvent[] = [];
    for (const ev of evs) {
      if (ev.revision <= this.rv) continue; // already reflected (replay after reconnect)
      const prev = this.objects.get(ev.key);
      const current = ev.decodeObject ? CachedObject.decodedOnDemand(ev.key, ev.decodeObject) : new CachedObject(ev.key, ev.object);
      if (ev.type === 'DELETED') this.objects.delete(ev.key);
      else this.objects.set(ev.key, current);
      const ce: CacheEvent = { type: ev.type, key: ev.key, current, prev, revision: ev.revision };
      cacheEvents.push(ce);
      this.events.push(ce);
      this.rv = ev.revision;
    }
    if (this.events.length - this.eventsStart > this.capacity) {
      const drop = this.events.length - this.eventsStart - this.capacity;
      this.oldestRV = this.events[this.eventsStart + drop - 1]!.revision;
      this.eventsStart += drop;
      if (this.eventsStart > 4096) {
        this.events = this.events.slice(this.eventsStart);
        this.eventsStart = 0;
      }
    }
    if (cacheEvents.length > 0) this.dispatch(cacheEvents);
    this.resolveWaiters();
  }

  private dispatch(events: CacheEvent[]) {
    for (const w of this.watchers.values()) {
      const out = filterEvents(events, w);
      if (out.length === 0) {
        w.sink.progress?.(events[events.length - 1]!.revision);
        continue;
      }
      if (!w.sink.send(out)) this.watchers.delete(w.id);
    }
    for (const ev of events) {
      // Reads of it fail with a 500 naming the key; the watchers that would have seen it saw nothing.
      const err = ev.current.decodeFailure;
      if (err !== undefined) this.log.error({ err, key: ev.key, revision: ev.revision }, 'undecodable value in watch: its watchers skip it');
    }
  }

  /** Current objects matching `predicate`, sorted by key, and the revision they reflect. */
  list(predicate?: Predicate): { items: CachedObject[]; rv: number } {
    const items: CachedObject[] = [];
    for (const o of this.objects.values()) if (!predicate || predicate(o.object)) items.push(o);
    items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { items, rv: this.rv };
  }

  get(key: string): CachedObject | undefined {
    return this.objects.get(key);
  }

  get size(): number {
    return this.objects.size;
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  /**
   * Registers a watcher for events after `fromRV`. With `initial: true`, first sends ADDED for
   * every current object (at `rv`) and then events after it. Throws TooOldError when events
   * after `fromRV` have already been evicted.
   */
  watch(fromRV: number, sink: CacheWatcherSink, opts: { predicate?: Predicate; initial?: boolean } = {}): { stop(): void; startRV: number } {
    if (!this.ready) throw new TooOldError(fromRV, this.oldestRV);
    const w: Watcher = { id: this.nextWatcherId++, predicate: opts.predicate, sink, fromRV };
    let startRV = fromRV;
    if (opts.initial) {
      const { items, rv } = this.list(opts.predicate);
      startRV = rv;
      w.fromRV = rv;
      if (items.length > 0 && !sink.send(items.map((o) => ({ type: 'ADDED' as const, object: o, revision: Number(o.object.metadata.resourceVersion) })))) {
        return { stop: () => {}, startRV };
      }
    } else {
      if (fromRV < this.oldestRV) throw new TooOldError(fromRV, this.oldestRV);
      const backlog: CacheEvent[] = [];
      for (let i = this.eventsStart; i < this.events.length; i++) if (this.events[i]!.revision > fromRV) backlog.push(this.events[i]!);
      if (backlog.length > 0) {
        const out = filterEvents(backlog, w);
        if (out.length > 0 && !sink.send(out)) return { stop: () => {}, startRV };
      }
    }
    this.watchers.set(w.id, w);
    return { stop: () => this.watchers.delete(w.id), startRV };
  }
}

function filterEvents(events: CacheEvent[], w: Watcher): FilteredEvent[] {
  const out: FilteredEvent[] = [];
  for (const ev of events) {
    if (ev.revision <= w.fromRV) continue;
    if (!w.predicate && w.sink.eventTypesOnly) {
      out.push({ type: ev.type, object: ev.current, revision: ev.revision });
      continue;
    }
    const current = ev.current.tryObject();
    if (!current) continue; // undecodable: nothing to send
    if (!w.predicate) {
      out.push({ type: ev.type, object: ev.current, revision: ev.revision });
      continue;
    }
    const cur = ev.type !== 'DELETED' && w.predicate(current);
    const prevObject = ev.prev?.tryObject();
    const prev = prevObject !== undefined && w.predicate(prevObject);
    if (ev.type === 'DELETED') {
      if (prev || w.predicate(current)) out.push({ type: 'DELETED', object: ev.current, revision: ev.revision });
    } else if (cur && prev) out.push({ type: 'MODIFIED', object: ev.current, revision: ev.revision });
    else if (cur) out.push({ type: 'ADDED', object: ev.current, revision: ev.revision });
    else if (prev) out.push({ type: 'DELETED', object: ev.current, revision: ev.revision });
  }
  return out;
}
