/**
 * Registry: one Store per served resource, their watch caches, and the service allocators.
 * The API server looks stores up by group and resource; CRDs add and remove theirs at runtime.
 */
import type { Logger } from 'pino';
import { builtinResources, type AnyResourceType } from '../api/index.js';
import { WatchCache, type Storage } from '../storage/index.js';
import { noAdmission, type Admission, type AdmissionAttributes } from './context.js';
import { Store } from './store.js';
import { strategyFor, ServiceAllocators } from './strategies/index.js';
import type { Strategy } from './strategy.js';

export interface RegistryOptions {
  storage: Storage;
  log: Logger;
  /** Key prefix in etcd, `/registry` by default. */
  prefix: string;
  serviceCIDR: string;
  nodePortRange: string;
  eventTTLSeconds: number;
  admission?: Admission;
  /** Use watch caches (default true). */
  watchCache?: boolean;
  watchCacheCapacity?: number;
}

export class Registry {
  /** group/resource → version → store. Built-ins have one version; custom resources may have several. */
  private readonly stores = new Map<string, Map<string, Store>>();
  /** Storage prefix (`/registry/pods/`) → a store of that resource: what an etcd key belongs to. */
  private readonly byPrefix = new Map<string, Store>();
  readonly storage: Storage;
  readonly allocators: ServiceAllocators;
  readonly prefix: string;
  private readonly log: Logger;
  private admission: Admission;
  private readonly opts: RegistryOptions;

  constructor(opts: RegistryOptions) {
    this.opts = opts;
    this.storage = opts.storage;
    this.log = opts.log;
    this.prefix = opts.prefix.replace(/\/$/, '');
    this.admission = opts.admission ?? noAdmission;
    this.allocators = new ServiceAllocators({ storage: opts.storage, serviceCIDR: opts.serviceCIDR, nodePortRange: opts.nodePortRange, prefix: this.prefix });
    for (const rt of builtinResources) {
      this.add(rt, strategyFor(rt, { allocators: this.allocators, eventTTLSeconds: opts.eventTTLSeconds }), `${this.prefix}/${rt.storageResource ?? rt.resource}/`);
    }
  }

  /** Admission is wired after construction, since plugins read through the registry. */
  setAdmission(admission: Admission): void {
    this.admission = admission;
  }

  /**
   * Admission of a CONNECT request (pods/exec, attach, portforward), which stores nothing: the
   * plugins see the request's options object (PodExecOptions...) and may refuse it.
   */
  async admitConnect(a: AdmissionAttributes): Promise<void> {
    await this.admission.mutate(a);
    await this.admission.validate(a);
  }

  /** What every store calls: whatever admission is wired at the time of the request. */
  private readonly delegatingAdmission: Admission = {
    mutate: (a) => this.admission.mutate(a),
    validate: (a) => this.admission.validate(a),
  };

  /** Adds a resource (built-in or from a CRD). Versions of one resource share storage and cache. */
  add(rt: AnyResourceType, strategy: Strategy, prefix: string): Store {
    const key = `${rt.group}/${rt.resource}`;
    const versions = this.stores.get(key) ?? new Map<string, Store>();
    const log = this.log.child({ resource: rt.group ? `${rt.resource}.${rt.group}` : rt.resource });
    const sibling = [...versions.values()].find((s) => s.prefix === prefix);
    const cache = sibling?.cache ?? (this.opts.watchCache === false ? undefined : new WatchCache({ storage: this.storage, prefix, log, capacity: this.opts.watchCacheCapacity }));
    const store = new Store({ rt, storage: this.storage, prefix, cache, strategy, log, admission: this.delegatingAdmission });
    versions.set(rt.version, store);
    this.stores.set(key, versions);
    if (!this.byPrefix.has(prefix)) this.byPrefix.set(prefix, store);
    return store;
  }

  /** Stops serving every version of a resource. */
  remove(group: string, resource: string): void {
    const versions = this.stores.get(`${group}/${resource}`);
    for (const s of new Set([...(versions?.values() ?? [])].map((x) => x.cache))) s?.stop();
    for (const s of versions?.values() ?? []) if (this.byPrefix.get(s.prefix) === s) this.byPrefix.delete(s.prefix);
    this.stores.delete(`${group}/${resource}`);
  }

  /**
   * The store whose storage prefix holds `key` (prefixes end in "/" and never nest: built-ins
   * are /registry/<resource>/, custom resources /registry/<group with a dot>/<plural>/). A
   * lookup per path segment, as the storage layer asks for every value it reads or writes
   * (encryption at rest picks its provider by resource).
   */
  storeOfKey(key: string): Store | undefined {
    for (let i = key.indexOf('/', 1); i >= 0; i = key.indexOf('/', i + 1)) {
      const s = this.byPrefix.get(key.slice(0, i + 1));
      if (s) return s;
    }
    return undefined;
  }

  /** The store of a resource in `version`, or in its first (preferred) version when none is given. */
  get(group: string, resource: string, version?: string): Store | undefined {
    const versions = this.stores.get(`${group}/${resource}`);
    if (!versions) return undefined;
    return version ? versions.get(version) : versions.values().next().value;
  }

  /** The versions a resource is served in, preferred first. */
  versions(group: string, resource: string): string[] {
    return [...(this.stores.get(`${group}/${resource}`)?.keys() ?? [])];
  }

  /** The store of a served resource; throws if it is not served. */
  mustGet(group: string, resource: string): Store {
    const s = this.get(group, resource);
    if (!s) throw new Error(`resource ${resource}.${group} is not served`);
    return s;
  }

  all(): Store[] {
    return [...this.stores.values()].flatMap((v) => [...v.values()]);
  }

  /** Fills every watch cache and repairs the allocators. */
  async start(): Promise<void> {
    await Promise.all([...new Set(this.all().map((s) => s.cache))].map((c) => c?.start()));
    const services = await this.storage.list(`${this.prefix}/services/`);
    await this.allocators.repair(services.items as never);
  }

  stop(): void {
    for (const c of new Set(this.all().map((s) => s.cache))) c?.stop();
  }
}
