/**
 * MemoryStorage: an in-memory Storage with etcd's semantics (a global revision, compare-and-swap,
 * ordered watches, compaction), for unit tests of the registry and the API server.
 */
import type { KubeObject } from '../../api/index.js';
import {
  DELETE,
  NOCHANGE,
  StorageError,
  type ListOptions,
  type ListResult,
  type Storage,
  type StorageEvent,
  type WatchHandle,
  type WatchHandler,
} from '../interface.js';

interface Entry {
  value: string;
  modRevision: number;
  createRevision: number;
}

export class MemoryStorage implements Storage {
  private data = new Map<string, Entry>();
  private history: StorageEvent[] = [];
  private revision = 1;
  private compacted = 0;
  private watchers = new Set<{ prefix: string; handler: WatchHandler }>();

  private decode(e: Entry, rev = e.modRevision): KubeObject {
    const o = JSON.parse(e.value) as KubeObject;
    o.metadata.resourceVersion = String(rev);
    return o;
  }

  private encode(obj: KubeObject): string {
    const copy = structuredClone(obj);
    delete copy.metadata.resourceVersion;
    return JSON.stringify(copy);
  }

  private emit(ev: StorageEvent) {
    this.history.push(ev);
    for (const w of this.watchers) if (ev.key.startsWith(w.prefix)) queueMicrotask(() => w.handler.onEvents([ev]));
  }

  async create(key: string, obj: KubeObject): Promise<KubeObject> {
    if (this.data.has(key)) throw new StorageError('KeyExists', key, `key ${key} already exists`);
    const rev = ++this.revision;
    const e = { value: this.encode(obj), modRevision: rev, createRevision: rev };
    this.data.set(key, e);
    this.emit({ type: 'ADDED', key, object: this.decode(e), revision: rev });
    return this.decode(e);
  }

  async get(key: string): Promise<KubeObject | null> {
    const e = this.data.get(key);
    return e ? this.decode(e) : null;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    if (opts.revision && opts.revision < this.compacted) throw new StorageError('Expired', prefix, 'mvcc: required revision has been compacted');
    if (opts.revision && opts.revision !== this.revision) {
      // Rebuild the state at that revision from history.
      const state = new Map<string, KubeObject>();
      for (const ev of this.history) {
        if (ev.revision > opts.revision) break;
        if (!ev.key.startsWith(prefix)) continue;
        if (ev.type === 'DELETED') state.delete(ev.key);
        else state.set(ev.key, ev.object);
      }
      return this.page([...state.entries()], opts, opts.revision);
    }
    const entries = [...this.data.entries()].filter(([k]) => k.startsWith(prefix)).map(([k, e]) => [k, this.decode(e)] as [string, KubeObject]);
    return this.page(entries, opts, this.revision);
  }

  private page(entries: [string, KubeObject][], opts: ListOptions, revision: number): ListResult {
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const items: KubeObject[] = [];
    const keys: string[] = [];
    for (const [k, o] of entries) {
      if (opts.startKey && k < opts.startKey) continue;
      if (opts.predicate && !opts.predicate(o)) continue;
      if (opts.limit && items.length === opts.limit) return { items, keys, revision, nextKey: k };
      items.push(o);
      keys.push(k);
    }
    return { items, keys, revision };
  }

  async guaranteedUpdate(
    key: string,
    tryUpdate: (current: KubeObject | null) => Promise<KubeObject | typeof DELETE | typeof NOCHANGE> | KubeObject | typeof DELETE | typeof NOCHANGE,
    opts: { expectedRevision?: number } = {},
  ): Promise<{ object: KubeObject; deleted: boolean }> {
    for (;;) {
      const e = this.data.get(key);
      if (opts.expectedRevision && (e?.modRevision ?? 0) !== opts.expectedRevision) throw new StorageError('Conflict', key, 'changed');
      const current = e ? this.decode(e) : null;
      const next = await tryUpdate(current);
      if (this.data.get(key) !== e) continue; // lost a race while tryUpdate awaited
      if (next === NOCHANGE) {
        if (!current) throw new StorageError('KeyNotFound', key, `key ${key} not found`);
        return { object: current, deleted: false };
      }
      const rev = ++this.revision;
      if (next === DELETE) {
        if (!e || !current) throw new StorageError('KeyNotFound', key, `key ${key} not found`);
        this.data.delete(key);
        const obj = this.decode(e, rev);
        this.emit({ type: 'DELETED', key, object: obj, prevObject: obj, revision: rev });
        return { object: obj, deleted: true };
      }
      const ne = { value: this.encode(next), modRevision: rev, createRevision: e?.createRevision ?? rev };
      this.data.set(key, ne);
      this.emit({ type: e ? 'MODIFIED' : 'ADDED', key, object: this.decode(ne), prevObject: current ?? undefined, revision: rev });
      return { object: this.decode(ne), deleted: false };
    }
  }

  async delete(key: string, opts: { expectedRevision?: number } = {}): Promise<KubeObject> {
    const r = await this.guaranteedUpdate(
      key,
      (cur) => {
        if (!cur) throw new StorageError('KeyNotFound', key, `key ${key} not found`);
        return DELETE;
      },
      opts,
    );
    return r.object;
  }

  watch(prefix: string, fromRevision: number, handler: WatchHandler): WatchHandle {
    const w = { prefix, handler };
    if (fromRevision > 0 && fromRevision < this.compacted) {
      queueMicrotask(() => handler.onError(new StorageError('Expired', prefix, `too old resource version: ${fromRevision} (${this.compacted})`)));
      return { stop: () => {} };
    }
    const from = fromRevision > 0 ? fromRevision : this.revision;
    queueMicrotask(() => {
      const backlog = this.history.filter((e) => e.revision > from && e.key.startsWith(prefix));
      if (backlog.length) handler.onEvents(backlog);
      this.watchers.add(w);
    });
    return { stop: () => this.watchers.delete(w) };
  }

  async currentRevision(): Promise<number> {
    return this.revision;
  }

  async count(prefix: string): Promise<number> {
    let n = 0;
    for (const k of this.data.keys()) if (k.startsWith(prefix)) n++;
    return n;
  }

  async compact(revision: number): Promise<void> {
    this.compacted = revision;
    this.history = this.history.filter((e) => e.revision >= revision);
  }

  async close(): Promise<void> {
    this.watchers.clear();
  }
}
