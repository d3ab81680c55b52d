/**
 * Registry: one Store per served resource, their watch caches, and the service allocators.
 * The API server looks stores up by group and resource; CRDs add and remove theirs at runtime.
 */
import type { Logger } from 'pino';
import { builtinResources, type AnyResourceType } from '../api/index.js';
import { WatchCache, type Storage } from '../storage/index.js';
import { noAdmission, type Admission } from './context.js';
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
  private readonly stores = new Map<string, Store>();
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

  /** What every store calls: whatever admission is wired at the time of the request. */
  private readonly delegatingAdmission: Admission = {
    mutate: (a) => this.admission.mutate(a),
    validate: (a) => this.admission.validate(a),
  };

  /** Adds a resource (built-in or from a CRD). */
  add(rt: AnyResourceType, strategy: Strategy, prefix: string): Store {
    const log = this.log.child({ resource: rt.group ? `${rt.resource}.${rt.group}` : rt.resource });
    const cache = this.opts.watchCache === false ? undefined : new WatchCache({ storage: this.storage, prefix, log, capacity: this.opts.watchCacheCapacity });
    const store = new Store({ rt, storage: this.storage, prefix, cache, strategy, log, admission: this.delegatingAdmission });
    this.stores.set(`${rt.group}/${rt.resource}`, store);
    return store;
  }

  remove(group: string, resource: string): void {
    const s = this.stores.get(`${group}/${resource}`);
    s?.cache?.stop();
    this.stores.delete(`${group}/${resource}`);
  }

  get(group: string, resource: string): Store | undefined {
    return this.stores.get(`${group}/${resource}`);
  }

  /** The store of a core/v1 or named-group resource; throws if it is not served. */
  mustGet(group: string, resource: string): Store {
    const s = this.get(group, resource);
    if (!s) throw new Error(`resource ${resource}.${group} is not served`);
    return s;
  }

  all(): Store[] {
    return [...this.stores.values()];
  }

  /** Fills every watch cache and repairs the allocators. */
  async start(): Promise<void> {
    await Promise.all(this.all().map((s) => s.cache?.start()));
    const services = await this.storage.list(`${this.prefix}/services/`);
    await this.allocators.repair(services.items as never);
  }

  stop(): void {
    for (const s of this.stores.values()) s.cache?.stop();
  }
}
