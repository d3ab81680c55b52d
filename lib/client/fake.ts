/**
 * FakeClient: an in-memory stand-in for the API server behind the KubeClient interface, for
 * unit tests of informers, controllers, the event recorder and leader election.
 *
 * What it does as the real server: resourceVersions from one counter, uid/creationTimestamp/
 * generation, AlreadyExists/NotFound/Conflict (optimistic locking and delete preconditions),
 * label and field selectors, status kept apart from the main resource, finalizers holding a
 * deleted object until they are cleared, merge/strategic/JSON patches, and watches from a
 * resourceVersion with the events since (410 Expired once `compact()` removed them).
 * What it does not: defaults, validation, admission, graceful deletion, list snapshots (paging
 * walks the current state).
 *
 * Faults: `prependReactor(fn)` sees every request as an Action before it runs and may throw to
 * fail it (or wait, to slow it); `closeWatches()` ends open watches as an API server restart
 * would; `expireWatches()` sends them a 410 ERROR event. Every request is recorded in `actions`.
 */
import { randomUUID } from 'node:crypto';
import type { KubeList, KubeObject } from '../api/index.js';
import { builtinResources, schemaNode } from '../api/index.js';
import { rfc3339, realClock, type Clock } from '../base/index.js';
import {
  applyJSONPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  jsonEqual,
  newAlreadyExists,
  newBadRequest,
  newConflict,
  newMethodNotSupported,
  newNotFound,
  newResourceExpired,
  optimisticLockMessage,
  parseFieldSelector,
  parseLabelSelector,
  successStatus,
  type FieldSelector,
  type LabelSelector,
  type Status,
} from '../machinery/index.js';
import {
  selectorString,
  type DeleteOptions,
  type GetOptions,
  type KubeClient,
  type ListAllOptions,
  type ListOptions,
  type PatchOptions,
  type PatchType,
  type RequestOptions,
  type ResourceClient,
  type SelectorOptions,
  type WatchEvent,
  type WatchOptions,
  type WatchStream,
  type WriteOptions,
} from './interface.js';
import { listAllPages } from './pager.js';
import { apiVersionOfDescriptor, groupResourceName, type ResourceDescriptor } from './resources.js';

export type ActionVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

/** One request as the fake saw it. */
export interface Action {
  verb: ActionVerb;
  /** `pods`, `leases.coordination.k8s.io`. */
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  object?: unknown;
  patchType?: PatchType;
  patch?: unknown;
  /** The selectors of a list or watch, as sent. */
  fieldSelector?: string;
  labelSelector?: string;
}

/** Runs before a request; throw (e.g. a StatusError) to fail it. */
export type Reactor = (action: Action) => void | Promise<void>;

interface HistoryEntry {
  rev: number;
  store: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  obj: KubeObject;
  prev?: KubeObject;
}

interface FakeWatcher {
  store: string;
  namespace?: string;
  matches: (o: KubeObject) => boolean;
  bookmarks: boolean;
  push(ev: WatchEvent<KubeObject>): void;
  end(): void;
}

function fieldValue(obj: unknown, path: string): string {
  let cur: unknown = obj;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur === undefined || cur === null ? '' : String(cur);
}

function hasStatusSubresource(d: ResourceDescriptor<any>): boolean {
  return builtinResources.some((r) => r.group === d.group && r.resource === d.resource && r.subresources.includes('status'));
}

function specOf(o: KubeObject): unknown {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
  return rest;
}

export class FakeClient implements KubeClient {
  private readonly stores = new Map<string, Map<string, KubeObject>>();
  private history: HistoryEntry[] = [];
  private compactedRev = 0;
  private rev = 1;
  private watchers = new Set<FakeWatcher>();
  private reactors: Reactor[] = [];
  private nameSeq = 0;
  readonly actions: Action[] = [];

  constructor(private readonly clock: Clock = realClock) {}

  resource<T extends KubeObject>(d: ResourceDescriptor<T>, namespace?: string): ResourceClient<T> {
    return new FakeResourceClient<T>(this, d, d.namespaced ? namespace : undefined);
  }

  /** The revision of the last write. */
  get resourceVersion(): string {
    return String(this.rev);
  }

  /** Forgets history: watches and continues from versions up to now get 410 Expired. */
  compact(): void {
    this.compactedRev = this.rev;
    this.history = [];
  }

  /** Ends every open watch cleanly, as a restarting API server does. */
  closeWatches(): void {
    for (const w of [...this.watchers]) w.end();
  }

  /** Sends every open watch an ERROR 410 Expired event and ends it. */
  expireWatches(): void {
    for (const w of [...this.watchers]) {
      w.push({ type: 'ERROR', object: newResourceExpired('too old resource version').status });
      w.end();
    }
  }

  /** Sends a BOOKMARK at the current revision to watches that asked for bookmarks. */
  sendBookmarks(): void {
    for (const w of this.watchers) if (w.bookmarks) w.push({ type: 'BOOKMARK', object: { metadata: { resourceVersion: String(this.rev) } } });
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  /** Adds a reactor run before every request (most recent first). Returns its removal. */
  prependReactor(fn: Reactor): () => void {
    this.reactors.unshift(fn);
    return () => {
      this.reactors = this.reactors.filter((r) => r !== fn);
    };
  }

  clearActions(): void {
    this.actions.length = 0;
  }

  /** @internal */
  async act(a: Action): Promise<void> {
    this.actions.push(a);
    for (const r of [...this.reactors]) await r(a);
    // Answer asynchronously, as a network would.
    await Promise.resolve();
  }

  /** @internal */
  storeOf(d: ResourceDescriptor<any>): Map<string, KubeObject> {
    const k = groupResourceName(d);
    let s = this.stores.get(k);
    if (!s) this.stores.set(k, (s = new Map()));
    return s;
  }

  /** @internal Records a change, notifies watchers, and returns the stored object's copy. */
  commit(d: ResourceDescriptor<any>, key: string, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject, prev?: KubeObject): KubeObject {
    const store = this.storeOf(d);
    const rev = ++this.rev;
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(rev);
    if (type === 'DELETED') store.delete(key);
    else store.set(key, stored);
    const entry: HistoryEntry = { rev, store: groupResourceName(d), type, obj: stored, prev };
    this.history.push(entry);
    this.dispatch(entry);
    return structuredClone(stored);
  }

  private dispatch(e: HistoryEntry): void {
    for (const w of this.watchers) {
      const ev = this.filtered(e, w);
      if (ev) w.push(ev);
    }
  }

  private filtered(e: HistoryEntry, w: FakeWatcher): WatchEvent<KubeObject> | undefined {
    if (e.store !== w.store) return undefined;
    const cur = e.type !== 'DELETED' && w.matches(e.obj);
    const prev = e.prev !== undefined && w.matches(e.prev);
    const obj = structuredClone(e.obj);
    if (e.type === 'DELETED') return prev || w.matches(e.obj) ? { type: 'DELETED', object: obj } : undefined;
    if (cur && prev) return { type: 'MODIFIED', object: obj };
    if (cur) return { type: 'ADDED', object: obj };
    if (prev) return { type: 'DELETED', object: obj };
    return undefined;
  }

  /** @internal */
  openWatch(d: ResourceDescriptor<any>, namespace: string | undefined, matches: (o: KubeObject) => boolean, o: WatchOptions): WatchStream<KubeObject> {
    const storeName = groupResourceName(d);
    const queue: WatchEvent<KubeObject>[] = [];
    let ended = false;
    let wake: (() => void) | undefined;
    const w: FakeWatcher = {
      store: storeName,
      namespace,
      matches,
      bookmarks: !!o.allowWatchBookmarks,
      push: (ev) => {
        if (ended) return;
        queue.push(ev);
        wake?.();
      },
      end: () => {
        ended = true;
        this.watchers.delete(w);
        wake?.();
      },
    };
    const rv = o.resourceVersion ?? '';
    if (rv === '' || rv === '0') {
      for (const obj of [...this.storeOf(d).values()].filter(matches)) queue.push({ type: 'ADDED', object: structuredClone(obj) });
    } else {
      const from = Number(rv);
      if (!Number.isInteger(from)) throw newBadRequest(`invalid resource version: ${JSON.stringify(rv)}`);
      if (from < this.compactedRev) throw newResourceExpired(`too old resource version: ${from} (${this.compactedRev})`);
      for (const e of this.history) {
        if (e.rev <= from) continue;
        const ev = this.filtered(e, w);
        if (ev) queue.push(ev);
      }
    }
    this.watchers.add(w);
    if (o.signal?.aborted) w.end();
    else o.signal?.addEventListener('abort', () => w.end(), { once: true });
    return {
      stop: () => w.end(),
      async *[Symbol.asyncIterator]() {
        try {
          for (;;) {
            while (queue.length > 0) yield queue.shift()!;
            if (ended) return;
            await new Promise<void>((r) => (wake = r));
            wake = undefined;
          }
        } finally {
          w.end();
        }
      },
    };
  }

  /** @internal */
  newName(prefix: string): string {
    return `${prefix}${(++this.nameSeq).toString(36).padStart(5, '0')}`;
  }

  /** @internal */
  get compacted(): number {
    return this.compactedRev;
  }

  /** @internal */
  now(): string {
    return rfc3339(this.clock.now());
  }
}

function selectorMatcher(namespace: string | undefined, o: SelectorOptions): (obj: KubeObject) => boolean {
  const ls = selectorString(o.labelSelector);
  const fs = selectorString(o.fieldSelector);
  const label: LabelSelector | undefined = ls ? parseLabelSelector(ls) : undefined;
  const field: FieldSelector | undefined = fs ? parseFieldSelector(fs) : undefined;
  return (obj) => {
    if (namespace && obj.metadata.namespace !== namespace) return false;
    if (label && !label.matches(obj.metadata.labels)) return false;
    if (field) {
      const values: Record<string, string> = {};
      for (const r of field.requirements) values[r.field] = fieldValue(obj, r.field);
      if (!field.matches(values)) return false;
    }
    return true;
  };
}

class FakeResourceClient<T extends KubeObject> implements ResourceClient<T> {
  constructor(
    private readonly f: FakeClient,
    readonly descriptor: ResourceDescriptor<T>,
    readonly namespace: string | undefined,
  ) {}

  inNamespace(namespace: string | undefined): ResourceClient<T> {
    return new FakeResourceClient(this.f, this.descriptor, this.descriptor.namespaced ? namespace : undefined);
  }

  private get gr() {
    return { group: this.descriptor.group, resource: this.descriptor.resource };
  }

  private get what(): string {
    return groupResourceName(this.descriptor);
  }

  private nsFor(obj?: KubeObject): string | undefined {
    if (!this.descriptor.namespaced) return undefined;
    const ns = this.namespace ?? obj?.metadata?.namespace;
    if (!ns) throw new Error(`${this.what} is namespaced: scope the client with inNamespace(ns)${obj ? ' or set metadata.namespace' : ''}`);
    return ns;
  }

  private key(ns: string | undefined, name: string): string {
    return ns ? `${ns}/${name}` : name;
  }

  private current(ns: string | undefined, name: string): KubeObject {
    const cur = this.f.storeOf(this.descriptor).get(this.key(ns, name));
    if (!cur) throw newNotFound(this.gr, name);
    return cur;
  }

  async get(name: string, _opts?: GetOptions): Promise<T> {
    const ns = this.nsFor();
    await this.f.act({ verb: 'get', resource: this.what, namespace: ns, name });
    return structuredClone(this.current(ns, name)) as T;
  }

  async list(opts: ListOptions = {}): Promise<KubeList<T>> {
    await this.f.act({ verb: 'list', resource: this.what, namespace: this.namespace, fieldSelector: selectorString(opts.fieldSelector), labelSelector: selectorString(opts.labelSelector) });
    const matches = selectorMatcher(this.namespace, opts);
    const all = [...this.f.storeOf(this.descriptor).entries()].filter(([, o]) => matches(o)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    let start = 0;
    if (opts.continue) {
      const t = JSON.parse(Buffer.from(opts.continue, 'base64').toString()) as { rev: number; after: string };
      if (t.rev < this.f.compacted) throw newResourceExpired('The provided continue parameter is too old to display a consistent list result.');
      start = all.findIndex(([k]) => k > t.after);
      if (start < 0) start = all.length;
    }
    const end = opts.limit ? Math.min(all.length, start + opts.limit) : all.length;
    const page = all.slice(start, end);
    const metadata: KubeList<T>['metadata'] = { resourceVersion: this.f.resourceVersion };
    if (end < all.length) metadata.continue = Buffer.from(JSON.stringify({ rev: Number(this.f.resourceVersion), after: page[page.length - 1]![0] })).toString('base64');
    const d = this.descriptor;
    return { apiVersion: apiVersionOfDescriptor(d), kind: d.listKind, metadata, items: page.map(([, o]) => structuredClone(o) as T) };
  }

  listAll(opts: ListAllOptions = {}): Promise<KubeList<T>> {
    return listAllPages((o) => this.list(o), opts);
  }

  async create(obj: T, opts?: WriteOptions): Promise<T> {
    const ns = this.nsFor(obj);
    await this.f.act({ verb: 'create', resource: this.what, namespace: ns, name: obj.metadata?.name, object: obj });
    const o = structuredClone(obj) as KubeObject;
    o.metadata = { ...(o.metadata ?? {}) };
    if (o.metadata.resourceVersion) throw newBadRequest('resourceVersion should not be set on objects to be created');
    if (!o.metadata.name) {
      if (!o.metadata.generateName) throw newBadRequest(`${this.what}: name or generateName is required`);
      o.metadata.name = this.f.newName(o.metadata.generateName);
    }
    if (ns) o.metadata.namespace = ns;
    const key = this.key(ns, o.metadata.name);
    if (this.f.storeOf(this.descriptor).has(key)) throw newAlreadyExists(this.gr, o.metadata.name);
    o.apiVersion = apiVersionOfDescriptor(this.descriptor);
    o.kind = this.descriptor.kind;
    o.metadata.uid = randomUUID();
    o.metadata.creationTimestamp = this.f.now();
    o.metadata.generation = 1;
    if (opts?.dryRun) return o as T;
    return this.f.commit(this.descriptor, key, 'ADDED', o) as T;
  }

  /** The shared write path of update, updateStatus and patch. */
  private write(ns: string | undefined, name: string, next: KubeObject, mode: 'main' | 'status', dryRun?: boolean): T {
    const store = this.f.storeOf(this.descriptor);
    const key = this.key(ns, name);
    const cur = store.get(key);
    if (!cur) throw newNotFound(this.gr, name);
    const rv = next.metadata?.resourceVersion;
    if (rv && rv !== cur.metadata.resourceVersion) throw newConflict(this.gr, name, optimisticLockMessage);
    let out: KubeObject;
    if (mode === 'status') {
      // As the API server: a status write keeps the metadata it is given (annotations, labels,
      // finalizers) but cannot change identity, deletion, ownership or generation.
      const m = cur.metadata;
      const metadata = { ...structuredClone(next.metadata ?? {}), name, namespace: m.namespace, uid: m.uid, creationTimestamp: m.creationTimestamp, generation: m.generation };
      metadata.deletionTimestamp = m.deletionTimestamp;
      metadata.deletionGracePeriodSeconds = m.deletionGracePeriodSeconds;
      metadata.ownerReferences = m.ownerReferences;
      for (const k of Object.keys(metadata) as (keyof typeof metadata)[]) if (metadata[k] === undefined) delete metadata[k];
      out = { ...structuredClone(cur), metadata, status: structuredClone(next.status) };
    } else {
      out = structuredClone(next);
      out.metadata = { ...out.metadata, uid: cur.metadata.uid, creationTimestamp: cur.metadata.creationTimestamp, namespace: cur.metadata.namespace, name };
      out.metadata.deletionTimestamp = cur.metadata.deletionTimestamp;
      if (hasStatusSubresource(this.descriptor)) out.status = structuredClone(cur.status);
      out.metadata.generation = (cur.metadata.generation ?? 1) + (jsonEqual(specOf(cur), specOf(out)) ? 0 : 1);
    }
    out.apiVersion = cur.apiVersion;
    out.kind = cur.kind;
    if (dryRun) return { ...out, metadata: { ...out.metadata, resourceVersion: cur.metadata.resourceVersion } } as T;
    if (jsonEqual({ ...out, metadata: { ...out.metadata, resourceVersion: undefined } }, { ...cur, metadata: { ...cur.metadata, resourceVersion: undefined } })) {
      return structuredClone(cur) as T;
    }
    // A deleted object whose last finalizer went away leaves now.
    if (out.metadata.deletionTimestamp && !(out.metadata.finalizers ?? []).length) return this.f.commit(this.descriptor, key, 'DELETED', out, cur) as T;
    return this.f.commit(this.descriptor, key, 'MODIFIED', out, cur) as T;
  }

  async update(obj: T, opts?: WriteOptions): Promise<T> {
    const ns = this.nsFor(obj);
    const name = obj.metadata?.name ?? '';
    await this.f.act({ verb: 'update', resource: this.what, namespace: ns, name, object: obj });
    return this.write(ns, name, obj, 'main', opts?.dryRun);
  }

  async updateStatus(obj: T, opts?: WriteOptions): Promise<T> {
    const ns = this.nsFor(obj);
    const name = obj.metadata?.name ?? '';
    await this.f.act({ verb: 'update', resource: this.what, namespace: ns, name, subresource: 'status', object: obj });
    return this.write(ns, name, obj, 'status', opts?.dryRun);
  }

  async patch(name: string, type: PatchType, patch: unknown, opts: PatchOptions = {}): Promise<T> {
    const ns = this.nsFor();
    await this.f.act({ verb: 'patch', resource: this.what, namespace: ns, name, subresource: opts.subresource, patchType: type, patch });
    if (opts.subresource && opts.subresource !== 'status') throw newMethodNotSupported(this.gr, `patch ${opts.subresource}`);
    const store = this.f.storeOf(this.descriptor);
    const cur = store.get(this.key(ns, name));
    if (!cur) {
      if (type === 'apply') return this.create({ ...(patch as T), metadata: { ...(patch as T).metadata, namespace: ns } }, opts);
      throw newNotFound(this.gr, name);
    }
    const rt = builtinResources.find((r) => r.group === this.descriptor.group && r.resource === this.descriptor.resource);
    let next: KubeObject;
    switch (type) {
      case 'json':
        next = applyJSONPatch(cur, patch) as KubeObject;
        break;
      case 'merge':
        next = applyMergePatch(cur, patch) as KubeObject;
        break;
      default:
        next = applyStrategicMergePatch(cur, patch, rt ? schemaNode(rt.schema) : undefined) as KubeObject;
    }
    // A patch applies to the latest state unless it carries a resourceVersion itself.
    const patchRV = (patch as KubeObject | undefined)?.metadata?.resourceVersion;
    next.metadata = { ...next.metadata, resourceVersion: patchRV ?? cur.metadata.resourceVersion };
    return this.write(ns, name, next, opts.subresource === 'status' ? 'status' : 'main', opts.dryRun);
  }

  apply(obj: T, opts: PatchOptions & { fieldManager: string }): Promise<T> {
    return this.inNamespace(this.namespace ?? obj.metadata.namespace).patch(obj.metadata.name ?? '', 'apply', obj, opts);
  }

  async delete(name: string, opts: DeleteOptions = {}): Promise<T | Status> {
    const ns = this.nsFor();
    await this.f.act({ verb: 'delete', resource: this.what, namespace: ns, name, object: opts });
    return this.deleteNow(ns, name, opts);
  }

  private deleteNow(ns: string | undefined, name: string, opts: DeleteOptions): T {
    const cur = this.current(ns, name);
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== cur.metadata.uid) throw newConflict(this.gr, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cur.metadata.uid}`);
    if (pre?.resourceVersion && pre.resourceVersion !== cur.metadata.resourceVersion)
      throw newConflict(this.gr, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cur.metadata.resourceVersion}`);
    if (opts.dryRun) return structuredClone(cur) as T;
    const key = this.key(ns, name);
    if ((cur.metadata.finalizers ?? []).length > 0) {
      if (cur.metadata.deletionTimestamp) return structuredClone(cur) as T;
      const next = structuredClone(cur);
      next.metadata.deletionTimestamp = this.f.now();
      next.metadata.deletionGracePeriodSeconds = 0;
      return this.f.commit(this.descriptor, key, 'MODIFIED', next, cur) as T;
    }
    return this.f.commit(this.descriptor, key, 'DELETED', cur, cur) as T;
  }

  async deleteCollection(opts: ListOptions = {}, deleteOpts: DeleteOptions = {}): Promise<KubeList<T>> {
    await this.f.act({ verb: 'deletecollection', resource: this.what, namespace: this.namespace });
    const matches = selectorMatcher(this.namespace, opts);
    const items: T[] = [];
    for (const o of [...this.f.storeOf(this.descriptor).values()]) {
      if (!matches(o)) continue;
      items.push(this.deleteNow(o.metadata.namespace, o.metadata.name!, { ...deleteOpts, preconditions: undefined }));
    }
    const d = this.descriptor;
    return { apiVersion: apiVersionOfDescriptor(d), kind: d.listKind, metadata: {}, items };
  }

  async watch(opts: WatchOptions = {}): Promise<WatchStream<T>> {
    await this.f.act({ verb: 'watch', resource: this.what, namespace: this.namespace, fieldSelector: selectorString(opts.fieldSelector), labelSelector: selectorString(opts.labelSelector) });
    return this.f.openWatch(this.descriptor, this.namespace, selectorMatcher(this.namespace, opts), opts) as WatchStream<T>;
  }

  async getSubresource<R = unknown>(name: string, subresource: string, _opts?: RequestOptions): Promise<R> {
    const ns = this.nsFor();
    await this.f.act({ verb: 'get', resource: this.what, namespace: ns, name, subresource });
    if (subresource !== 'status') throw newMethodNotSupported(this.gr, `get ${subresource}`);
    return structuredClone(this.current(ns, name)) as R;
  }

  async updateSubresource<R = T>(name: string, subresource: string, body: unknown, opts?: WriteOptions): Promise<R> {
    if (subresource !== 'status') throw newMethodNotSupported(this.gr, `update ${subresource}`);
    return (await this.updateStatus({ ...(body as T), metadata: { ...(body as T).metadata, name } }, opts)) as unknown as R;
  }

  async createSubresource<R = unknown>(name: string, subresource: string, body: unknown, _opts?: WriteOptions): Promise<R> {
    const ns = this.nsFor();
    await this.f.act({ verb: 'create', resource: this.what, namespace: ns, name, subresource, object: body });
    const cur = this.current(ns, name);
    if (this.descriptor.resource === 'pods' && subresource === 'binding') {
      const target = (body as { target?: { name?: string } }).target?.name;
      const spec = (cur.spec ?? {}) as { nodeName?: string };
      if (spec.nodeName) throw newConflict(this.gr, name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
      const next = structuredClone(cur);
      next.spec = { ...(next.spec as object), nodeName: target };
      this.f.commit(this.descriptor, this.key(ns, name), 'MODIFIED', next, cur);
      return { ...successStatus(), code: 201 } as R;
    }
    if (this.descriptor.resource === 'pods' && subresource === 'eviction') {
      this.deleteNow(ns, name, {});
      return { ...successStatus(), code: 201 } as R;
    }
    throw newMethodNotSupported(this.gr, `create ${subresource}`);
  }
}
