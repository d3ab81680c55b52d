/**
 * The informer cache: objects keyed `namespace/name` (or `name` for cluster-scoped kinds), with
 * named secondary indexes (`namespace` built in; callers add e.g. by owner UID or by
 * spec.nodeName).
 *
 * Concurrency: JavaScript runs one piece of code at a time and every method here is
 * synchronous, so each call sees and leaves a consistent store and indexes; there is no lock.
 * What readers get back are the stored objects themselves: see SharedInformer for why they are
 * frozen and must not be changed.
 */
import type { KubeObject } from '../api/index.js';

export type KeyFunc<T> = (obj: T) => string;
/** Values under which an object is indexed; an object may have several or none. */
export type IndexFunc<T> = (obj: T) => string[];
export type Indexers<T> = Record<string, IndexFunc<T>>;

/** `namespace/name`, or `name` for objects without a namespace. */
export function metaNamespaceKey(obj: KubeObject): string {
  const m = obj.metadata;
  if (!m?.name) throw new Error(`object has no metadata.name: ${JSON.stringify(obj).slice(0, 200)}`);
  return m.namespace ? `${m.namespace}/${m.name}` : m.name;
}

export function splitMetaNamespaceKey(key: string): { namespace: string | undefined; name: string } {
  const i = key.indexOf('/');
  if (i < 0) return { namespace: undefined, name: key };
  if (key.indexOf('/', i + 1) >= 0) throw new Error(`unexpected key format: ${JSON.stringify(key)}`);
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export const namespaceIndex = 'namespace';
export const indexByNamespace: IndexFunc<KubeObject> = (obj) => [obj.metadata.namespace ?? ''];

/** Owner UIDs; a common index for controllers finding their dependents. */
export const ownerUIDIndex = 'ownerUID';
export const indexByOwnerUID: IndexFunc<KubeObject> = (obj) => (obj.metadata.ownerReferences ?? []).map((r) => r.uid);

/** Freezes an object and everything it holds, so a mutation throws (in strict mode code). */
export function deepFreeze<T>(obj: T): T {
  if (obj === null || typeof obj !== 'object' || Object.isFrozen(obj)) return obj;
  Object.freeze(obj);
  for (const v of Object.values(obj as object)) deepFreeze(v);
  return obj;
}

/** A deep copy to modify (e.g. before an update): objects from informers are frozen. */
export function deepCopy<T>(obj: T): T {
  return structuredClone(obj);
}

/** What a Reflector writes into. */
export interface ReflectorSink<T> {
  /** The complete state at `resourceVersion`, from a list. */
  replace(items: T[], resourceVersion: string): void;
  add(obj: T): void;
  update(obj: T): void;
  delete(obj: T): void;
}

export interface Store<T> extends ReflectorSink<T> {
  get(obj: T): T | undefined;
  getByKey(key: string): T | undefined;
  list(): T[];
  listKeys(): string[];
  readonly size: number;
}

export interface Indexer<T> extends Store<T> {
  /** Adds indexes; existing objects are indexed at once. Names must be new. */
  addIndexers(indexers: Indexers<T>): void;
  /** Objects indexed under `value`. */
  byIndex(indexName: string, value: string): T[];
  indexKeys(indexName: string, value: string): string[];
  /** Every value the index holds. */
  listIndexFuncValues(indexName: string): string[];
  /** Objects sharing an index value with `obj`. */
  index(indexName: string, obj: T): T[];
}

export class CacheIndexer<T extends KubeObject> implements Indexer<T> {
  private items = new Map<string, T>();
  private indexers = new Map<string, IndexFunc<T>>();
  /** indexName → value → keys */
  private indices = new Map<string, Map<string, Set<string>>>();

  constructor(
    indexers: Indexers<T> = {},
    private readonly keyFunc: KeyFunc<T> = metaNamespaceKey,
  ) {
    this.addIndexers(indexers);
  }

  get size(): number {
    return this.items.size;
  }

  addIndexers(indexers: Indexers<T>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      if (this.indexers.has(name)) throw new Error(`indexer "${name}" already exists`);
      this.indexers.set(name, fn);
      const index = new Map<string, Set<string>>();
      this.indices.set(name, index);
      for (const [key, obj] of this.items) for (const v of fn(obj)) addTo(index, v, key);
    }
  }

  private indexObject(key: string, oldObj: T | undefined, newObj: T | undefined): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name)!;
      const oldValues = oldObj ? fn(oldObj) : [];
      const newValues = newObj ? fn(newObj) : [];
      if (oldValues.length === newValues.length && oldValues.every((v, i) => v === newValues[i])) continue;
      for (const v of oldValues) removeFrom(index, v, key);
      for (const v of newValues) addTo(index, v, key);
    }
  }

  add(obj: T): void {
    const key = this.keyFunc(obj);
    const old = this.items.get(key);
    this.items.set(key, obj);
    this.indexObject(key, old, obj);
  }

  update(obj: T): void {
    this.add(obj);
  }

  delete(obj: T): void {
    this.deleteKey(this.keyFunc(obj));
  }

  deleteKey(key: string): void {
    const old = this.items.get(key);
    if (old === undefined) return;
    this.items.delete(key);
    this.indexObject(key, old, undefined);
  }

  replace(items: T[], _resourceVersion: string): void {
    this.items = new Map();
    for (const index of this.indices.values()) index.clear();
    for (const obj of items) this.add(obj);
  }

  get(obj: T): T | undefined {
    return this.items.get(this.keyFunc(obj));
  }

  getByKey(key: string): T | undefined {
    return this.items.get(key);
  }

  list(): T[] {
    return [...this.items.values()];
  }

  listKeys(): string[] {
    return [...this.items.keys()];
  }

  private indexNamed(name: string): Map<string, Set<string>> {
    const index = this.indices.get(name);
    if (!index) throw new Error(`index "${name}" does not exist (indexes: ${[...this.indices.keys()].join(', ') || 'none'})`);
    return index;
  }

  byIndex(indexName: string, value: string): T[] {
    return this.indexKeys(indexName, value).map((k) => this.items.get(k)!);
  }

  indexKeys(indexName: string, value: string): string[] {
    return [...(this.indexNamed(indexName).get(value) ?? [])];
  }

  listIndexFuncValues(indexName: string): string[] {
    return [...this.indexNamed(indexName).keys()];
  }

  index(indexName: string, obj: T): T[] {
    const index = this.indexNamed(indexName);
    const keys = new Set<string>();
    for (const v of this.indexers.get(indexName)!(obj)) for (const k of index.get(v) ?? []) keys.add(k);
    return [...keys].map((k) => this.items.get(k)!);
  }
}

function addTo(index: Map<string, Set<string>>, value: string, key: string): void {
  let set = index.get(value);
  if (!set) index.set(value, (set = new Set()));
  set.add(key);
}

function removeFrom(index: Map<string, Set<string>>, value: string, key: string): void {
  const set = index.get(value);
  if (!set) return;
  set.delete(key);
  if (set.size === 0) index.delete(value);
}
