/**
 * The generic store: create, get, list, watch, update, delete and deletecollection for any
 * kind over Storage, after Kubernetes' registry/generic/registry/store.go. Kinds differ only
 * by their ResourceType (lib/api) and Strategy; no kind has its own copy of this code.
 */
import type { Logger } from 'pino';
import { rfc3339 } from '../base/index.js';
import { decodeObject, dropEmptyFields, type AnyResourceType, type DeleteOptions, type KubeObject } from '../api/index.js';
import {
  FieldSelector,
  LabelSelector,
  newAlreadyExists,
  newBadRequest,
  newConflict,
  newInternalError,
  newInvalid,
  newNotFound,
  newResourceExpired,
  newRequestEntityTooLarge,
  newServiceUnavailable,
  optimisticLockMessage,
  StatusError,
  fieldPath,
  jsonEqual,
  type FieldError,
  type GroupResource,
} from '../machinery/index.js';
import {
  CachedObject,
  DELETE,
  NOCHANGE,
  TooOldError,
  isStorageError,
  StorageError,
  type CacheWatcherSink,
  type FilteredEvent,
  type Storage,
  type WatchCache,
} from '../storage/index.js';
import { noAdmission, type Admission, type AdmissionAttributes, type Operation, type RequestContext } from './context.js';
import { trackUpdate } from './field-manager.js';
import { generateName, newUID, validateObjectMeta, validateObjectMetaUpdate } from './object-meta.js';
import type { Strategy } from './strategy.js';

export interface ListParams {
  labelSelector?: LabelSelector;
  fieldSelector?: FieldSelector;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface ListOutcome {
  items: CachedObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface WatchParams extends ListParams {
  sendInitialEvents?: boolean;
}

/**
 * The new state of an object for an update, computed from the current one: a PUT body
 * ignores `current`; a patch applies itself to it. `current` is null when the object is
 * missing (then the result is a create, if the kind allows that).
 */
export type UpdatedObject = (current: KubeObject | null) => Promise<KubeObject> | KubeObject;

export interface StoreOptions {
  rt: AnyResourceType;
  storage: Storage;
  /** e.g. `/registry/pods/`; objects are stored at prefix + ns/name or prefix + name. */
  prefix: string;
  cache?: WatchCache;
  strategy?: Strategy;
  log: Logger;
  /** Delivery of Admission to every mutating call. */
  admission?: Admission;
  /** Waiting this long for the watch cache to reach a requested resourceVersion. */
  cacheWaitMs?: number;
}

export interface DeleteOutcome {
  object: KubeObject;
  /** False when the object was only marked for deletion (grace period or finalizers). */
  deleted: boolean;
}

function continueToken(rv: number, key: string, prefix: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: key.slice(prefix.length) })).toString('base64url');
}

function parseContinue(token: string, prefix: string): { rv: number; startKey: string } {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: string; rv?: number; start?: string };
    if (t.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string' || t.start.includes('..')) throw new Error('bad');
    return { rv: t.rv, startKey: prefix + t.start };
  } catch {
    throw newBadRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
}

const tooOldContinueMessage =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue value from the response to get a consistent list result.';

export class Store {
  readonly rt: AnyResourceType;
  readonly prefix: string;
  readonly gr: GroupResource;
  private readonly storage: Storage;
  readonly cache?: WatchCache;
  private readonly strategy: Strategy;
  private readonly log: Logger;
  private readonly admission: Admission;
  private readonly cacheWaitMs: number;
  /** apiVersion objects are stored in, and the one clients of this store see. */
  private readonly storageAPIVersion: string;
  private readonly servedAPIVersion: string;

  constructor(opts: StoreOptions) {
    this.rt = opts.rt;
    this.prefix = opts.prefix;
    this.storage = opts.storage;
    this.cache = opts.cache;
    this.strategy = opts.strategy ?? {};
    this.log = opts.log;
    this.admission = opts.admission ?? noAdmission;
    this.gr = { group: opts.rt.group, resource: opts.rt.resource };
    this.cacheWaitMs = opts.cacheWaitMs ?? 3000;
    const gv = (v: string) => (opts.rt.group ? `${opts.rt.group}/${v}` : v);
    this.storageAPIVersion = gv(opts.rt.storageVersion ?? opts.rt.version);
    this.servedAPIVersion = gv(opts.rt.version);
  }

  /**
   * An object as clients of this store's version see it. Versions of a custom resource differ
   * only in apiVersion (conversion strategy None).
   */
  present(obj: KubeObject): KubeObject {
    if (this.storageAPIVersion === this.servedAPIVersion || obj.apiVersion === this.servedAPIVersion) return obj;
    if (this.rt.convert) return this.rt.convert.fromStorage(obj);
    return { ...obj, apiVersion: this.servedAPIVersion };
  }

  /** A client's object in the stored shape (only built-ins with `convert` differ by more than apiVersion). */
  private toStorage(obj: KubeObject): KubeObject {
    return this.rt.convert && obj.apiVersion !== this.storageAPIVersion ? this.rt.convert.toStorage(obj) : obj;
  }

  private presentCached(c: CachedObject): CachedObject {
    if (this.storageAPIVersion === this.servedAPIVersion) return c;
    return new CachedObject(c.key, this.present(c.object));
  }

  private presentingSink(sink: CacheWatcherSink): CacheWatcherSink {
    if (this.storageAPIVersion === this.servedAPIVersion) return sink;
    return {
      send: (evs) => sink.send(evs.map((e) => ({ ...e, object: this.presentCached(e.object) }))),
      progress: sink.progress && ((rv) => sink.progress!(rv)),
      close: (r) => sink.close(r),
    };
  }

  keyFor(namespace: string, name: string): string {
    if (!name || name.includes('/') || name === '.' || name === '..') throw newBadRequest(`invalid resource name ${JSON.stringify(name)}: may not contain '/' and may not be '.' or '..'`);
    if (this.rt.namespaced) {
      if (!namespace) throw newBadRequest('namespace is required for namespaced resources');
      return `${this.prefix}${namespace}/${name}`;
    }
    return `${this.prefix}${name}`;
  }

  private namespacePrefix(namespace: string): string {
    return this.rt.namespaced && namespace ? `${this.prefix}${namespace}/` : this.prefix;
  }

  /** Turns storage errors into API errors for this resource. */
  private toAPIError(err: unknown, name: string): Error {
    if (err instanceof StatusError) return err;
    if (isStorageError(err)) {
      switch (err.code) {
        case 'KeyNotFound':
          return newNotFound(this.gr, name);
        case 'KeyExists':
          return newAlreadyExists(this.gr, name);
        case 'Conflict':
          return newConflict(this.gr, name, optimisticLockMessage);
        case 'Expired':
          return newResourceExpired(err.message);
        case 'TooLarge':
          return newRequestEntityTooLarge(1.5 * 1024 * 1024);
        case 'Unreachable':
          return newServiceUnavailable(`storage is unavailable: ${err.message}`);
        default:
          return newInternalError(err);
      }
    }
    return newInternalError(err);
  }

  private attrs(op: Operation, ctx: RequestContext, name: string, obj?: KubeObject, old?: KubeObject, options?: unknown): AdmissionAttributes {
    return {
      operation: op,
      group: this.rt.group,
      version: this.rt.version,
      resource: this.rt.resource,
      kind: this.rt.kind,
      subresource: ctx.subresource,
      namespace: this.rt.namespaced ? ctx.namespace : '',
      name,
      object: obj,
      oldObject: old,
      user: ctx.user,
      dryRun: ctx.dryRun,
      options,
      warnings: ctx.warnings,
    };
  }

  /**
   * Checks an object about to be stored. First it takes the form upstream stores: the empty
   * lists and maps of optional fields go (Go's omitempty and protobuf storage drop them), so an
   * object written with `labels: {}`, or left with `finalizers: []`, reads back without them.
   * Custom resources keep what they were given, as upstream.
   */
  private validate(obj: KubeObject, old: KubeObject | undefined, ctx: RequestContext): void {
    if (!this.rt.custom && !this.rt.convert) dropEmptyFields(this.rt.schema, obj);
    const errs: FieldError[] = [...validateObjectMeta(this.rt, obj)];
    if (old) errs.push(...validateObjectMetaUpdate(obj, old));
    // Status updates validate only what they may change; so do subresources whose strategy says so.
    if (!old || (ctx.subresource !== 'status' && !this.strategy.validatesUpdateAlone?.(ctx))) errs.push(...(this.rt.validate?.(obj, old) ?? []));
    errs.push(...(this.strategy.validate?.(obj, old, ctx) ?? []));
    if (errs.length) throw newInvalid(this.rt.group, this.rt.kind, obj.metadata.name ?? '', errs);
  }

  private setTypeMeta(obj: KubeObject) {
    obj.apiVersion = this.storageAPIVersion;
    obj.kind = this.rt.kind;
  }

  /** Applies the URL namespace to the object, refusing a mismatch. */
  private setNamespace(obj: KubeObject, ctx: RequestContext) {
    if (!this.rt.namespaced) {
      delete obj.metadata.namespace;
      return;
    }
    if (obj.metadata.namespace && ctx.namespace && obj.metadata.namespace !== ctx.namespace) {
      throw newBadRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    obj.metadata.namespace = ctx.namespace || obj.metadata.namespace;
    if (!obj.metadata.namespace) throw newBadRequest('namespace is required for namespaced resources');
  }

  /**
   * Records the write in managedFields (operation Update) under the request's field manager.
   * Binding is not recorded, as upstream: it does not carry the pod.
   */
  private trackFields(live: KubeObject | null, obj: KubeObject, ctx: RequestContext): void {
    if (ctx.subresource === 'binding') return;
    trackUpdate(this.rt, live, obj, { manager: ctx.fieldManager ?? '', apiVersion: this.servedAPIVersion, subresource: ctx.subresource });
  }

  // ---- create ---------------------------------------------------------------

  /** Creates a decoded, defaulted object. */
  async create(ctx: RequestContext, input: KubeObject, options?: unknown): Promise<KubeObject> {
    const obj = this.toStorage(input);
    this.setTypeMeta(obj);
    this.setNamespace(obj, ctx);
    const m = obj.metadata;
    if (m.resourceVersion) throw newBadRequest('resourceVersion should not be set on objects to be created');
    const generated = !m.name && !!m.generateName;
    for (let attempt = 0; ; attempt++) {
      if (generated) m.name = generateName(m.generateName!);
      try {
        return this.present(await this.createOnce(ctx, obj, options));
      } catch (err) {
        if (generated && err instanceof StatusError && err.reason === 'AlreadyExists' && attempt < 7) continue;
        throw err;
      }
    }
  }

  private async createOnce(ctx: RequestContext, input: KubeObject, options?: unknown): Promise<KubeObject> {
    const obj = input;
    const m = obj.metadata;
    m.uid = newUID();
    m.creationTimestamp = rfc3339();
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    delete m.selfLink;
    this.strategy.prepareForCreate?.(obj, ctx);
    // As upstream: the field manager records what the client sent, before mutating admission;
    // what a plugin adds (a service account's token volume) belongs to no manager.
    this.trackFields(null, obj, ctx);
    await this.admission.mutate(this.attrs('CREATE', ctx, m.name ?? '', obj, undefined, options));
    this.setNamespace(obj, ctx);
    this.validate(obj, undefined, ctx);
    await this.admission.validate(this.attrs('CREATE', ctx, m.name ?? '', obj, undefined, options));
    const key = this.keyFor(m.namespace ?? '', m.name!);
    if (ctx.dryRun) {
      if (await this.storage.get(key).catch(() => null)) throw newAlreadyExists(this.gr, m.name!);
      return obj;
    }
    const undo = await this.strategy.beforeCreate?.(obj, ctx);
    try {
      return await this.storage.create(key, obj, { ttlSeconds: this.strategy.ttlSeconds?.(obj) });
    } catch (err) {
      if (undo) await undo().catch((e: unknown) => this.log.error({ err: e }, 'rollback after failed create failed'));
      throw this.toAPIError(err, m.name!);
    }
  }

  // ---- read -----------------------------------------------------------------

  async get(ctx: RequestContext, name: string, opts: { resourceVersion?: string } = {}): Promise<KubeObject> {
    const key = this.keyFor(ctx.namespace, name);
    if (opts.resourceVersion === '0' && this.cache?.ready) {
      const c = this.cache.get(key);
      if (!c) throw newNotFound(this.gr, name);
      return this.present(structuredClone(c.object));
    }
    let obj: KubeObject | null;
    try {
      obj = await this.storage.get(key);
    } catch (err) {
      throw this.toAPIError(err, name);
    }
    if (!obj) throw newNotFound(this.gr, name);
    return this.present(obj);
  }

  /** Fields a field selector may name for this kind. */
  fieldsOf(obj: KubeObject): Record<string, string> {
    return {
      'metadata.name': obj.metadata.name ?? '',
      'metadata.namespace': obj.metadata.namespace ?? '',
      ...(this.rt.selectableFields?.(obj) ?? {}),
    };
  }

  /**
   * Builds the filter for a list or watch; refuses field selectors on unknown fields. The
   * namespace is part of the filter only when `namespace` is given (reads from a
   * namespace's key prefix need no namespace check).
   */
  predicate(namespace: string, params: ListParams): ((o: KubeObject) => boolean) | undefined {
    const ls = params.labelSelector && !params.labelSelector.isEmpty() ? params.labelSelector : undefined;
    const fs = params.fieldSelector && !params.fieldSelector.isEmpty() ? params.fieldSelector : undefined;
    if (fs) {
      const known = new Set(['metadata.name', 'metadata.namespace', ...Object.keys(this.rt.selectableFields?.({ metadata: {} } as KubeObject) ?? {})]);
      for (const r of fs.requirements) if (!known.has(r.field)) throw newBadRequest(`field label not supported: ${r.field}`);
    }
    const ns = this.rt.namespaced && namespace ? namespace : undefined;
    if (!ls && !fs && !ns) return undefined;
    return (o) => (!ns || o.metadata.namespace === ns) && (!ls || ls.matches(o.metadata.labels)) && (!fs || fs.matches(this.fieldsOf(o)));
  }

  async list(ctx: RequestContext, params: ListParams = {}): Promise<ListOutcome> {
    const pred = this.predicate(ctx.namespace, params);
    const rv = params.resourceVersion ?? '';
    const match = params.resourceVersionMatch ?? '';
    if (match && match !== 'NotOlderThan' && match !== 'Exact') throw newBadRequest(`resourceVersionMatch: Unsupported value: ${JSON.stringify(match)}: supported values: "Exact", "NotOlderThan"`);
    if (match && rv === '') throw newBadRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
    if (rv !== '' && !/^\d+$/.test(rv)) throw newBadRequest(`invalid resource version: ${JSON.stringify(rv)}`);
    if (params.continue && rv !== '' && rv !== '0') throw newBadRequest('specifying resource version is not allowed when using continue');
    if (match === 'Exact' && rv === '0') throw newBadRequest('resourceVersionMatch "Exact" is forbidden for resourceVersion "0"');

    // Served from memory: resourceVersion=0 (any), or NotOlderThan N when the cache has reached N.
    if (this.cache && !params.continue && match !== 'Exact' && rv !== '' && !(params.limit && rv !== '0')) {
      const want = Number(rv);
      if (await this.cache.waitFor(want, rv === '0' ? this.cacheWaitMs : Math.min(this.cacheWaitMs, 250))) {
        const { items, rv: at } = this.cache.list(this.namespaceFilter(ctx.namespace, pred));
        return { items: items.map((c) => this.presentCached(c)), resourceVersion: String(at) };
      }
    }
    // Otherwise a consistent read from etcd, paged.
    let startKey: string | undefined;
    let revision = 0;
    if (params.continue) {
      const t = parseContinue(params.continue, this.prefix);
      startKey = t.startKey;
      revision = t.rv;
    } else if (match === 'Exact') revision = Number(rv);
    const prefix = this.namespacePrefix(ctx.namespace);
    if (startKey && !startKey.startsWith(prefix)) throw newBadRequest('continue key is not valid: it does not belong to this list');
    try {
      const res = await this.storage.list(prefix, { revision, limit: params.limit, startKey, predicate: this.predicate('', params) });
      return {
        items: res.items.map((o, i) => new CachedObject(res.keys[i]!, this.present(o))),
        resourceVersion: String(res.revision),
        continue: res.nextKey ? continueToken(res.revision, res.nextKey, this.prefix) : undefined,
        remainingItemCount: res.nextKey ? res.remaining : undefined,
      };
    } catch (err) {
      if (isStorageError(err, 'Expired')) throw newResourceExpired(params.continue ? tooOldContinueMessage : `too old resource version: ${revision}`);
      throw this.toAPIError(err, '');
    }
  }

  private namespaceFilter(namespace: string, pred?: (o: KubeObject) => boolean) {
    if (pred || !this.rt.namespaced || !namespace) return pred;
    return (o: KubeObject) => o.metadata.namespace === namespace;
  }

  // ---- watch ----------------------------------------------------------------

  /**
   * Streams changes to `sink`. resourceVersion unset: ADDED for the current state (read from
   * etcd), then changes; "0": the same from the cache; N: every change after N. Throws a 410
   * StatusError when N is older than etcd's history.
   */
  async watch(ctx: RequestContext, params: WatchParams, clientSink: CacheWatcherSink): Promise<{ stop(): void }> {
    const sink = this.presentingSink(clientSink);
    const pred = this.namespaceFilter(ctx.namespace, this.predicate(ctx.namespace, params));
    const rv = params.resourceVersion ?? '';
    if (rv !== '' && !/^\d+$/.test(rv)) throw newBadRequest(`invalid resource version: ${JSON.stringify(rv)}`);
    const cache = this.cache;
    if (cache) await cache.start();
    if (rv === '0' && cache) return cache.watch(0, sink, { predicate: pred, initial: true });
    if (rv === '') {
      const list = await this.list(ctx, { labelSelector: params.labelSelector, fieldSelector: params.fieldSelector });
      const at = Number(list.resourceVersion);
      if (list.items.length && !sink.send(list.items.map((o) => ({ type: 'ADDED' as const, object: o, revision: Number(o.object.metadata.resourceVersion) })))) {
        return { stop: () => {} };
      }
      return this.watchFrom(at, pred, sink);
    }
    return this.watchFrom(Number(rv), pred, sink);
  }

  private watchFrom(from: number, pred: ((o: KubeObject) => boolean) | undefined, sink: CacheWatcherSink): { stop(): void } {
    if (this.cache?.ready) {
      try {
        return this.cache.watch(from, sink, { predicate: pred });
      } catch (err) {
        if (!(err instanceof TooOldError)) throw err;
      }
    }
    // Older than the cache's buffer: watch etcd directly from that revision.
    const handle = this.storage.watch(this.prefix, from, {
      onEvents: (evs) => {
        const out: FilteredEvent[] = [];
        for (const ev of evs) {
          const cur = ev.type !== 'DELETED' && (!pred || pred(ev.object));
          const prev = ev.prevObject !== undefined && (!pred || pred(ev.prevObject));
          const object = new CachedObject(ev.key, ev.object);
          if (ev.type === 'DELETED') {
            if (prev) out.push({ type: 'DELETED', object, revision: ev.revision });
          } else if (cur && prev && ev.type === 'MODIFIED') out.push({ type: 'MODIFIED', object, revision: ev.revision });
          else if (cur) out.push({ type: 'ADDED', object, revision: ev.revision });
          else if (prev) out.push({ type: 'DELETED', object, revision: ev.revision });
        }
        if (out.length && !sink.send(out)) handle.stop();
      },
      onProgress: (rev) => sink.progress?.(rev),
      onError: (err) => sink.close(err),
    });
    return handle;
  }

  // ---- update ---------------------------------------------------------------

  /**
   * Updates (or, where allowed, creates) an object. `updated` computes the new object from
   * the current one inside a compare-and-swap loop, so a patch is re-applied to the latest
   * state if another writer got in first; a resourceVersion in the new object makes the
   * update conditional (409 Conflict when stale). `applied` marks a server-side apply, whose
   * managedFields `updated` has already computed.
   */
  async update(
    ctx: RequestContext,
    name: string,
    updated: UpdatedObject,
    opts: { forceAllowCreate?: boolean; options?: unknown; applied?: boolean } = {},
  ): Promise<{ object: KubeObject; created: boolean }> {
    const key = this.keyFor(ctx.namespace, name);
    // The caller works on the served shape; storage keeps the stored one.
    const convert = this.rt.convert;
    if (convert) {
      const served = updated;
      updated = async (current) => this.toStorage(await served(current && this.present(current)));
    }
    let created = false;
    const pending: { undo?: (() => Promise<void>) | void } = {};
    let oldForAfter: KubeObject | undefined;
    let dryRunResult: KubeObject | undefined;
    try {
      const { object, deleted } = await this.storage.guaranteedUpdate(
        key,
        async (current) => {
          if (pending.undo) {
            await pending.undo();
            pending.undo = undefined;
          }
          created = false;
          if (!current) {
            if (!this.strategy.allowCreateOnUpdate && !opts.forceAllowCreate) throw newNotFound(this.gr, name);
            const obj = await updated(null);
            this.setTypeMeta(obj);
            this.setNamespace(obj, ctx);
            if (obj.metadata.name !== name) throw newBadRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
            if (obj.metadata.resourceVersion) throw newConflict(this.gr, name, optimisticLockMessage);
            created = true;
            const m = obj.metadata;
            m.uid = newUID();
            m.creationTimestamp = rfc3339();
            this.strategy.prepareForCreate?.(obj, ctx);
            if (!opts.applied) this.trackFields(null, obj, ctx);
            await this.admission.mutate(this.attrs('CREATE', ctx, name, obj));
            this.validate(obj, undefined, ctx);
            await this.admission.validate(this.attrs('CREATE', ctx, name, obj));
            if (ctx.dryRun) {
              dryRunResult = obj;
              return NOCHANGE;
            }
            pending.undo = await this.strategy.beforeCreate?.(obj, ctx);
            return obj;
          }
          const obj = await updated(structuredClone(current));
          this.setTypeMeta(obj);
          if (this.rt.namespaced && !obj.metadata.namespace) obj.metadata.namespace = current.metadata.namespace;
          if (obj.metadata.name !== undefined && obj.metadata.name !== name)
            throw newBadRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
          obj.metadata.name = name;
          const rv = obj.metadata.resourceVersion;
          if (rv && rv !== current.metadata.resourceVersion) throw newConflict(this.gr, name, optimisticLockMessage);
          obj.metadata.resourceVersion = current.metadata.resourceVersion;
          // Server-owned metadata carries over.
          obj.metadata.uid ??= current.metadata.uid;
          obj.metadata.creationTimestamp = current.metadata.creationTimestamp;
          obj.metadata.deletionTimestamp = current.metadata.deletionTimestamp;
          obj.metadata.deletionGracePeriodSeconds = current.metadata.deletionGracePeriodSeconds;
          if (obj.metadata.deletionTimestamp === undefined) delete obj.metadata.deletionTimestamp;
          if (obj.metadata.deletionGracePeriodSeconds === undefined) delete obj.metadata.deletionGracePeriodSeconds;
          this.strategy.prepareForUpdate?.(obj, current, ctx);
          if (!opts.applied) this.trackFields(current, obj, ctx);
          await this.admission.mutate(this.attrs('UPDATE', ctx, name, obj, current, opts.options));
          this.validate(obj, current, ctx);
          await this.admission.validate(this.attrs('UPDATE', ctx, name, obj, current, opts.options));
          // The last finalizer of an object being deleted is gone: remove it.
          if (obj.metadata.deletionTimestamp && (obj.metadata.finalizers ?? []).length === 0 && !this.gracefulPending(obj) && !this.strategy.holdOnDelete?.(obj)) {
            if (ctx.dryRun) {
              dryRunResult = obj;
              return NOCHANGE;
            }
            oldForAfter = current;
            return DELETE;
          }
          if (jsonEqual(obj, current)) return NOCHANGE;
          if (ctx.dryRun) {
            dryRunResult = obj;
            return NOCHANGE;
          }
          pending.undo = await this.strategy.beforeUpdate?.(obj, current, ctx);
          oldForAfter = current;
          return obj;
        },
        { ttlSeconds: undefined },
      );
      if (dryRunResult) return { object: this.present(dryRunResult), created };
      if (deleted) {
        await this.strategy.afterDelete?.(object).catch((err: unknown) => this.log.error({ err }, 'after-delete hook failed'));
        return { object: this.present(object), created: false };
      }
      if (oldForAfter && !created) await this.strategy.afterUpdate?.(object, oldForAfter).catch((err: unknown) => this.log.error({ err }, 'after-update hook failed'));
      return { object: this.present(object), created };
    } catch (err) {
      if (pending.undo) await pending.undo().catch(() => {});
      // A dry run of a create through update stored nothing, which storage reports as not found.
      if (created && dryRunResult && isStorageError(err, 'KeyNotFound')) return { object: this.present(dryRunResult), created };
      throw this.toAPIError(err, name);
    }
  }

  /** A graceful deletion whose time has not come: the kubelet confirms it with grace 0. */
  private gracefulPending(obj: KubeObject): boolean {
    return (obj.metadata.deletionGracePeriodSeconds ?? 0) > 0;
  }

  // ---- delete ---------------------------------------------------------------

  async delete(ctx: RequestContext, name: string, options: DeleteOptions = {}): Promise<DeleteOutcome> {
    const key = this.keyFor(ctx.namespace, name);
    let outcome: DeleteOutcome | undefined;
    let removedObject: KubeObject | undefined;
    if (options.gracePeriodSeconds !== undefined && options.gracePeriodSeconds < 0) options.gracePeriodSeconds = 1;
    const policy = options.propagationPolicy ?? (options.orphanDependents === true ? 'Orphan' : options.orphanDependents === false ? 'Background' : undefined);
    try {
      const res = await this.storage.guaranteedUpdate(key, async (current) => {
        if (!current) throw newNotFound(this.gr, name);
        const pre = options.preconditions;
        if (pre?.uid && pre.uid !== current.metadata.uid)
          throw newConflict(this.gr, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`);
        if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion)
          throw newConflict(this.gr, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`);
        await this.admission.validate(this.attrs('DELETE', ctx, name, undefined, current, options));

        const obj = structuredClone(current);
        const m = obj.metadata;
        // Propagation policy becomes a finalizer the garbage collector acts on.
        let finalizers = [...(m.finalizers ?? [])];
        if (policy === 'Orphan') finalizers = [...finalizers.filter((f) => f !== 'foregroundDeletion'), ...(finalizers.includes('orphan') ? [] : ['orphan'])];
        else if (policy === 'Foreground') finalizers = [...finalizers.filter((f) => f !== 'orphan'), ...(finalizers.includes('foregroundDeletion') ? [] : ['foregroundDeletion'])];
        else if (policy === 'Background') finalizers = finalizers.filter((f) => f !== 'orphan' && f !== 'foregroundDeletion');
        // A policy only matters when there is something to cascade to; upstream adds the
        // finalizer regardless, and the garbage collector removes it.
        const alreadyDeleting = !!m.deletionTimestamp;
        let grace: number | undefined;
        if (alreadyDeleting) {
          // A second delete may shorten the grace period, never lengthen it.
          const curGrace = m.deletionGracePeriodSeconds ?? 0;
          const want = options.gracePeriodSeconds;
          if (want !== undefined && want < curGrace) grace = want;
          else grace = curGrace > 0 ? curGrace : undefined;
        } else {
          grace = this.strategy.gracePeriod?.(obj, options);
        }
        const finalizersChanged = JSON.stringify(finalizers) !== JSON.stringify(m.finalizers ?? []);
        const hold = this.strategy.holdOnDelete?.(obj) ?? false;
        if (finalizers.length > 0 || (grace !== undefined && grace > 0) || hold) {
          this.strategy.prepareForDelete?.(obj);
          const now = Date.now();
          if (!alreadyDeleting) {
            m.deletionTimestamp = rfc3339(now + (grace ?? 0) * 1000);
            m.deletionGracePeriodSeconds = grace ?? 0;
          } else if (grace !== undefined && grace < (m.deletionGracePeriodSeconds ?? 0)) {
            m.deletionTimestamp = rfc3339(now + grace * 1000);
            m.deletionGracePeriodSeconds = grace;
          } else if (!finalizersChanged) {
            outcome = { object: current, deleted: false };
            return NOCHANGE;
          }
          if (finalizers.length) m.finalizers = finalizers;
          else delete m.finalizers;
          if (ctx.dryRun) {
            outcome = { object: obj, deleted: false };
            return NOCHANGE;
          }
          if ((m.deletionGracePeriodSeconds ?? 0) === 0 && finalizers.length === 0 && !hold) {
            removedObject = obj;
            return DELETE;
          }
          outcome = { object: obj, deleted: false };
          return obj;
        }
        if (ctx.dryRun) {
          outcome = { object: current, deleted: true };
          return NOCHANGE;
        }
        removedObject = current;
        return DELETE;
      });
      if (outcome) return { object: this.present(outcome.object), deleted: outcome.deleted };
      if (res.deleted) {
        await this.strategy.afterDelete?.(removedObject ?? res.object).catch((err: unknown) => this.log.error({ err }, 'after-delete hook failed'));
      }
      return { object: this.present(res.object), deleted: res.deleted };
    } catch (err) {
      throw this.toAPIError(err, name);
    }
  }

  async deleteCollection(ctx: RequestContext, params: ListParams, options: DeleteOptions = {}): Promise<KubeObject[]> {
    const list = await this.list(ctx, { labelSelector: params.labelSelector, fieldSelector: params.fieldSelector });
    const out: KubeObject[] = [];
    // Upstream deletes with a small pool of workers; a few at a time keeps etcd busy but not flooded.
    const items = list.items.map((c) => c.object);
    const workers = Math.min(8, items.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (next < items.length) {
          const o = items[next++]!;
          try {
            const r = await this.delete({ ...ctx, namespace: o.metadata.namespace ?? '' }, o.metadata.name!, { ...options });
            out.push(r.object);
          } catch (err) {
            if (!(err instanceof StatusError && err.reason === 'NotFound')) throw err;
          }
        }
      }),
    );
    return out;
  }

  /** Decodes and defaults a request body as this kind. */
  decode(raw: unknown): KubeObject {
    const obj = decodeObject<KubeObject>(this.rt, raw);
    if (!obj.metadata) throw newInvalid(this.rt.group, this.rt.kind, '', [fieldPath('metadata').required()]);
    this.rt.defaults?.(obj);
    return obj;
  }

  /** Counts stored objects (for metrics and tests). */
  count(): Promise<number> {
    return this.storage.count(this.prefix);
  }
}

export { StorageError };
