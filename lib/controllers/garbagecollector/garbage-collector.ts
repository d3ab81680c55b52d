/**
 * The garbage collector: deletes objects whose owners are gone, and carries out the cascading
 * deletion policies a client asks for.
 *
 *   informers of every resource (list, watch, delete)
 *        │ add / update / delete
 *        ▼
 *   graph builder (one loop, in event order) ── maintains the owner → dependents graph and
 *        │                                       queues what needs a decision
 *        ├──► attemptToDelete: is this object's every owner gone (or being deleted in the
 *        │    foreground)? then delete it — background, or foreground if its owner waits for
 *        │    it and it has dependents of its own; an owner in foreground deletion whose
 *        │    blocking dependents are all gone loses its foregroundDeletion finalizer
 *        └──► attemptToOrphan: an owner deleted with propagationPolicy Orphan: remove its
 *             reference from every dependent, then its orphan finalizer
 *
 * Background: the owner leaves storage at once; its dependents become dangling and are
 * deleted. Foreground: the API server gives the owner the foregroundDeletion finalizer; the
 * dependents are deleted, and once the ones with blockOwnerDeletion are gone the finalizer is
 * removed. Orphan: the API server adds the orphan finalizer; dependents keep existing without
 * the reference.
 *
 * Owners are always checked against the API server (by uid) before a dependent is deleted: a
 * reference to an object re-created under the same name is dangling.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { KubeObject, OwnerReference } from '../../api/index.js';
import { realClock, silentLogger, type Clock, type Counter, type MetricsRegistry, type Runnable } from '../../base/index.js';
import {
  SharedInformer,
  builtinDescriptors,
  defineResourceDescriptor,
  deletedObject,
  listerWatcherFor,
  type HandlerRegistration,
  type KubeClient,
  type ResourceDescriptor,
  type SharedInformerFactory,
} from '../../client/index.js';
import { RateLimitingQueue, runWorkers } from '../../controller/index.js';
import { isConflict, isNotFound } from '../../machinery/index.js';
import type { DiscoveredResource, ResourceDiscovery } from '../types.js';
import { GraphNode, deletingWith, finalizerDeleteDependents, finalizerOrphan, groupOf, hasFinalizer, referenceDiffs, type ObjectIdentity } from './graph.js';

/** Upstream ignores events: there are many and nothing owns them. */
export const ignoredResources = new Set(['events', 'events.events.k8s.io']);

export interface GarbageCollectorOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  discovery: ResourceDiscovery;
  workers?: number;
  /** How often discovery is read again for new resources (default 30s). */
  discoveryPeriodMs?: number;
  /** How long to wait for the informers before collecting anyway (default 60s). */
  syncTimeoutMs?: number;
  log?: Logger;
  clock?: Clock;
  metrics?: MetricsRegistry;
}

interface GraphEvent {
  type: 'add' | 'update' | 'delete';
  obj: KubeObject;
  old?: KubeObject;
  resource?: DiscoveredResource;
  /** A delete the collector inferred (the owner is absent), not one an informer saw. */
  virtual?: ObjectIdentity;
}

interface Monitor {
  resource: DiscoveredResource;
  informer: SharedInformer<KubeObject>;
  registration: HandlerRegistration;
  /** Set for the collector's own informers (custom resources); built-in ones are shared. */
  stop?: AbortController;
}

class RestMappingError extends Error {
  override readonly name = 'RestMappingError';
}
/** A cluster-scoped object naming a namespaced owner: invalid, and retrying will not help. */
class NamespacedOwnerOfClusterScopedObject extends Error {
  override readonly name = 'NamespacedOwnerOfClusterScopedObject';
}
const virtualDeleteEnqueued = Symbol('virtual delete enqueued');

function grKey(r: { group: string; resource: string }): string {
  return r.group ? `${r.resource}.${r.group}` : r.resource;
}

function apiVersionOf(r: DiscoveredResource): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

export class GarbageCollector implements Runnable {
  readonly attemptToDelete: RateLimitingQueue<string>;
  readonly attemptToOrphan: RateLimitingQueue<string>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly graph = new Map<string, GraphNode>();
  private readonly monitors = new Map<string, Monitor>();
  /** group/kind → resource, from the latest discovery. */
  private mapping = new Map<string, DiscoveredResource>();
  private readonly absentOwners = new Map<string, number>();
  private events: GraphEvent[] = [];
  private wakeGraph?: () => void;
  private signal?: AbortSignal;
  private readonly deletedCounter?: Counter;

  constructor(private readonly o: GarbageCollectorOptions) {
    this.log = (o.log ?? silentLogger()).child({ controller: 'garbagecollector' });
    this.clock = o.clock ?? realClock;
    this.attemptToDelete = new RateLimitingQueue<string>({ clock: o.clock });
    this.attemptToOrphan = new RateLimitingQueue<string>({ clock: o.clock });
    if (o.metrics) this.deletedCounter = o.metrics.counter('garbagecollector_deleted_objects_total', 'Objects the garbage collector deleted, by resource and propagation policy.');
  }

  // ---- monitors ----------------------------------------------------------------------------

  private descriptorFor(r: DiscoveredResource): ResourceDescriptor<KubeObject> {
    const builtin = builtinDescriptors.find((d) => d.group === r.group && d.version === r.version && d.resource === r.resource);
    return builtin ?? defineResourceDescriptor({ group: r.group, version: r.version, resource: r.resource, kind: r.kind, namespaced: r.namespaced });
  }

  /** Reads discovery and starts (or stops) watching resources to match it. */
  async resyncMonitors(): Promise<void> {
    const { resources, failedGroups } = await this.o.discovery.resources(this.signal);
    const mapping = new Map<string, DiscoveredResource>();
    for (const r of resources) mapping.set(`${r.group}/${r.kind}`, r);
    // Keep the mapping of groups that failed this time.
    for (const [k, r] of this.mapping) if (!mapping.has(k) && Object.keys(failedGroups).some((g) => g.startsWith(`${r.group}/`) || g === r.version)) mapping.set(k, r);
    this.mapping = mapping;
    const wanted = resources.filter((r) => ['delete', 'list', 'watch'].every((v) => r.verbs.includes(v)) && !ignoredResources.has(grKey(r)));
    const wantedKeys = new Set(wanted.map(grKey));
    for (const r of wanted) {
      const k = grKey(r);
      if (this.monitors.has(k)) continue;
      this.addMonitor(r);
    }
    for (const [k, m] of this.monitors) {
      if (wantedKeys.has(k) || Object.keys(failedGroups).some((g) => groupOf(g) === m.resource.group || (m.resource.group === '' && g === 'v1'))) continue;
      m.registration.remove();
      m.stop?.abort();
      this.monitors.delete(k);
      this.log.info({ resource: k }, 'stopped watching a resource that is no longer served');
    }
  }

  private addMonitor(r: DiscoveredResource): void {
    const d = this.descriptorFor(r);
    const isBuiltin = builtinDescriptors.includes(d);
    let informer: SharedInformer<KubeObject>;
    let stop: AbortController | undefined;
    if (isBuiltin) {
      informer = this.o.informers.informerFor(d);
    } else {
      informer = new SharedInformer<KubeObject>({ lw: listerWatcherFor(this.o.client.resource(d)), name: grKey(r), log: this.log, clock: this.o.clock });
      stop = new AbortController();
      const s = this.signal;
      if (s) s.addEventListener('abort', () => stop!.abort(), { once: true });
      informer.start(stop.signal).catch((err: unknown) => this.log.warn({ err, resource: grKey(r) }, 'informer failed'));
    }
    const registration = informer.addEventHandler({
      onAdd: (obj) => this.push({ type: 'add', obj, resource: r }),
      onUpdate: (old, obj) => {
        // Re-lists and resyncs report unchanged objects too.
        if (old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
        this.push({ type: 'update', obj, old, resource: r });
      },
      onDelete: (obj) => this.push({ type: 'delete', obj: deletedObject(obj), resource: r }),
    });
    this.monitors.set(grKey(r), { resource: r, informer, registration, stop });
    this.log.debug({ resource: grKey(r) }, 'watching resource');
  }

  // ---- graph builder -------------------------------------------------------------------------

  private push(ev: GraphEvent): void {
    this.events.push(ev);
    this.wakeGraph?.();
  }

  private async runGraph(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (this.events.length === 0) {
        await new Promise<void>((resolve) => {
          const onAbort = () => resolve();
          this.wakeGraph = () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          };
          signal.addEventListener('abort', onAbort, { once: true });
        });
        this.wakeGraph = undefined;
        continue;
      }
      const batch = this.events;
      this.events = [];
      for (const ev of batch) {
        try {
          this.processGraphChange(ev);
        } catch (err) {
          this.log.error({ err }, 'cannot process a graph change');
        }
      }
      // Let the workers run between large batches.
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  private identityOf(obj: KubeObject, r: DiscoveredResource): ObjectIdentity {
    return { apiVersion: apiVersionOf(r), kind: r.kind, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name!, uid: obj.metadata.uid! };
  }

  processGraphChange(ev: GraphEvent): void {
    const uid = ev.virtual?.uid ?? ev.obj.metadata.uid;
    if (!uid) return;
    const existing = this.graph.get(uid);
    if (existing && existing.virtual && !ev.virtual && ev.resource) {
      // The informer sees the owner we only knew by reference: trust its coordinates.
      existing.identity = this.identityOf(ev.obj, ev.resource);
      existing.virtual = false;
    }
    if (ev.type === 'delete') {
      if (!existing) return;
      if (ev.virtual && !existing.virtual) {
        // Proven absent under some coordinates, but an informer sees it: let the dependents look again.
        for (const dep of existing.dependents) this.attemptToDelete.add(dep.uid);
        return;
      }
      this.removeNode(existing);
      if (existing.dependents.size) this.absentOwners.set(uid, this.clock.now());
      for (const dep of existing.dependents) this.attemptToDelete.add(dep.uid);
      for (const ref of existing.owners) {
        const owner = this.graph.get(ref.uid);
        if (owner?.deletingDependents) this.attemptToDelete.add(owner.uid);
      }
      return;
    }
    const obj = ev.obj;
    const refs = obj.metadata.ownerReferences ?? [];
    if (!existing) {
      const node = new GraphNode(this.identityOf(obj, ev.resource!), false);
      node.owners = [...refs];
      node.beingDeleted = !!obj.metadata.deletionTimestamp;
      this.graph.set(uid, node);
      this.addDependentToOwners(node, node.owners);
      this.processTransitions(ev.old, obj, node);
      return;
    }
    const diff = referenceDiffs(existing.owners, refs);
    if (diff.added.length || diff.removed.length || diff.changed.length) {
      // Owners waiting for this dependent may proceed now.
      for (const r of diff.removed) this.enqueueIfDeletingDependents(r.uid);
      for (const c of diff.changed) if (c.old.blockOwnerDeletion && !c.next.blockOwnerDeletion) this.enqueueIfDeletingDependents(c.next.uid);
      existing.owners = [...refs];
      this.addDependentToOwners(existing, diff.added);
      for (const r of diff.removed) this.graph.get(r.uid)?.dependents.delete(existing);
    }
    existing.beingDeleted = !!obj.metadata.deletionTimestamp;
    this.processTransitions(ev.old, obj, existing);
  }

  private enqueueIfDeletingDependents(uid: string): void {
    const owner = this.graph.get(uid);
    if (owner?.deletingDependents) this.attemptToDelete.add(uid);
  }

  private addDependentToOwners(node: GraphNode, refs: OwnerReference[]): void {
    for (const ref of refs) {
      let owner = this.graph.get(ref.uid);
      if (!owner) {
        // Known only by reference so far: verify it exists (or is gone) with the API server.
        owner = new GraphNode({ apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid, namespace: node.identity.namespace }, true);
        this.graph.set(ref.uid, owner);
        this.attemptToDelete.add(ref.uid);
      } else if (owner.deletingDependents) {
        // A new dependent of an owner in foreground deletion goes too.
        this.attemptToDelete.add(node.uid);
      }
      owner.dependents.add(node);
    }
  }

  private removeNode(node: GraphNode): void {
    this.graph.delete(node.uid);
    for (const ref of node.owners) this.graph.get(ref.uid)?.dependents.delete(node);
  }

  private processTransitions(old: KubeObject | undefined, obj: KubeObject, node: GraphNode): void {
    if (deletingWith(obj, finalizerOrphan) && !deletingWith(old, finalizerOrphan)) {
      this.log.debug({ object: node.toString() }, 'owner deleted with orphan propagation');
      this.attemptToOrphan.add(node.uid);
    }
    if (deletingWith(obj, finalizerDeleteDependents) && !(deletingWith(old, finalizerDeleteDependents) && node.deletingDependents)) {
      this.log.debug({ object: node.toString() }, 'owner deleted with foreground propagation');
      node.deletingDependents = true;
      for (const dep of node.dependents) this.attemptToDelete.add(dep.uid);
      this.attemptToDelete.add(node.uid);
    }
    if (!deletingWith(obj, finalizerDeleteDependents)) node.deletingDependents = false;
  }

  // ---- API access ----------------------------------------------------------------------------

  private resourceFor(apiVersion: string, kind: string): DiscoveredResource {
    const r = this.mapping.get(`${groupOf(apiVersion)}/${kind}`);
    if (!r) throw new RestMappingError(`no resource serves ${kind} in ${apiVersion} (yet)`);
    return r;
  }

  private clientFor(id: { apiVersion: string; kind: string; namespace: string }) {
    const r = this.resourceFor(id.apiVersion, id.kind);
    if (r.namespaced && !id.namespace) throw new NamespacedOwnerOfClusterScopedObject(`${id.kind} is namespaced, but is referred to by a cluster-scoped object`);
    return this.o.client.resource(this.descriptorFor(r), r.namespaced ? id.namespace : undefined);
  }

  /** The object as the API server has it, or undefined if it is gone or is another object now. */
  private async getLive(id: ObjectIdentity): Promise<KubeObject | undefined> {
    try {
      const obj = await this.clientFor(id).get(id.name);
      return obj.metadata.uid === id.uid ? obj : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Whether an owner reference of `item` points at nothing (or at a different object now). */
  private async isDangling(ref: OwnerReference, item: GraphNode): Promise<{ dangling: boolean; owner?: KubeObject }> {
    if (this.absentOwners.has(ref.uid)) return { dangling: true };
    const owner = await this.getLive({ apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid, namespace: item.identity.namespace });
    if (!owner) {
      this.absentOwners.set(ref.uid, this.clock.now());
      if (this.absentOwners.size > 500) this.absentOwners.delete(this.absentOwners.keys().next().value!);
      return { dangling: true };
    }
    return { dangling: false, owner };
  }

  private async deleteObject(node: GraphNode, latest: KubeObject, policy: 'Background' | 'Foreground' | 'Orphan'): Promise<void> {
    try {
      await this.clientFor(node.identity).delete(node.identity.name, { propagationPolicy: policy, preconditions: { uid: node.uid, resourceVersion: latest.metadata.resourceVersion } });
      this.deletedCounter?.inc({ kind: node.identity.kind, policy });
      this.log.info({ object: node.toString(), propagationPolicy: policy }, 'deleting object whose owners are gone');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Applies `change` to the object's metadata with a merge patch pinned to its resourceVersion; retries on conflicts. */
  private async patchMetadata(node: GraphNode, change: (obj: KubeObject) => Record<string, unknown> | undefined, latest?: KubeObject): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const obj = attempt === 0 && latest ? latest : await this.getLive(node.identity);
      if (!obj) return;
      const metadata = change(obj);
      if (!metadata) return;
      try {
        await this.clientFor(node.identity).patch(node.identity.name, 'merge', { metadata: { ...metadata, resourceVersion: obj.metadata.resourceVersion } });
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err)) throw err;
      }
    }
    throw new Error(`cannot update ${node.toString()}: it keeps changing`);
  }

  private removeOwnerReferences(node: GraphNode, uids: Set<string>, latest?: KubeObject): Promise<void> {
    return this.patchMetadata(
      node,
      (obj) => {
        const refs = obj.metadata.ownerReferences ?? [];
        const next = refs.filter((r) => !uids.has(r.uid));
        if (next.length === refs.length) return undefined;
        return { ownerReferences: next.length ? next : null };
      },
      latest,
    );
  }

  private removeFinalizer(node: GraphNode, finalizer: string): Promise<void> {
    return this.patchMetadata(node, (obj) => (hasFinalizer(obj, finalizer) ? { finalizers: (obj.metadata.finalizers ?? []).filter((f) => f !== finalizer) } : undefined));
  }

  // ---- workers -------------------------------------------------------------------------------

  private async attemptToDeleteWorker(uid: string): Promise<{ requeue?: boolean } | void> {
    const node = this.graph.get(uid);
    if (!node) return;
    try {
      const r = await this.attemptToDeleteItem(node);
      if (r === virtualDeleteEnqueued) return;
    } catch (err) {
      if (err instanceof NamespacedOwnerOfClusterScopedObject) {
        this.log.warn({ object: node.toString(), err: err.message }, 'invalid owner reference; ignored');
        return;
      }
      if (err instanceof RestMappingError) {
        this.log.debug({ object: node.toString(), err: err.message }, 'owner kind not served (yet); will retry');
        return { requeue: true };
      }
      throw err;
    }
    // A virtual node that exists must be seen by an informer before it leaves the queue.
    if (node.virtual) return { requeue: true };
  }

  private async attemptToDeleteItem(item: GraphNode): Promise<typeof virtualDeleteEnqueued | void> {
    if (item.beingDeleted && !item.deletingDependents) return;
    const latest = await this.getLive(item.identity);
    if (!latest) {
      this.push({ type: 'delete', obj: { metadata: { uid: item.uid, name: item.identity.name } }, virtual: item.identity });
      return virtualDeleteEnqueued;
    }
    if (item.deletingDependents) {
      const blocking = item.blockingDependents();
      if (blocking.length === 0) {
        this.log.info({ object: item.toString() }, 'all blocking dependents are gone; removing the foregroundDeletion finalizer');
        await this.removeFinalizer(item, finalizerDeleteDependents);
        return;
      }
      for (const dep of blocking) if (!dep.deletingDependents) this.attemptToDelete.add(dep.uid);
      return;
    }
    const refs = latest.metadata.ownerReferences ?? [];
    if (refs.length === 0) return;
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of refs) {
      const { dangling: d, owner } = await this.isDangling(ref, item);
      if (d) dangling.push(ref);
      else if (deletingWith(owner, finalizerDeleteDependents)) waiting.push(ref);
      else solid.push(ref);
    }
    if (solid.length) {
      if (dangling.length === 0 && waiting.length === 0) return;
      // Keep the object for its live owners; drop the references that would block or mislead.
      this.log.info({ object: item.toString(), removed: [...dangling, ...waiting].map((r) => r.uid) }, 'removing dangling owner references');
      await this.removeOwnerReferences(item, new Set([...dangling, ...waiting].map((r) => r.uid)), latest);
      return;
    }
    if (waiting.length && item.dependents.size) {
      if ([...item.dependents].some((d) => d.deletingDependents)) {
        // A possible cycle: stop blocking our owners before going foreground ourselves.
        await this.patchMetadata(item, (obj) => {
          const owners = obj.metadata.ownerReferences ?? [];
          if (!owners.some((r) => r.blockOwnerDeletion)) return undefined;
          return { ownerReferences: owners.map((r) => ({ ...r, blockOwnerDeletion: false })) };
        });
      }
      await this.deleteObject(item, latest, 'Foreground');
      return;
    }
    const policy = hasFinalizer(latest, finalizerOrphan) ? 'Orphan' : hasFinalizer(latest, finalizerDeleteDependents) ? 'Foreground' : 'Background';
    await this.deleteObject(item, latest, policy);
  }

  private async attemptToOrphanWorker(uid: string): Promise<void> {
    const owner = this.graph.get(uid);
    if (!owner) return;
    const failures: unknown[] = [];
    await Promise.all(
      [...owner.dependents].map((dep) =>
        this.removeOwnerReferences(dep, new Set([uid])).catch((err: unknown) => {
          failures.push(err);
        }),
      ),
    );
    if (failures.length) throw new AggregateError(failures, `cannot orphan ${failures.length} dependent(s) of ${owner.toString()}`);
    this.log.info({ object: owner.toString(), dependents: owner.dependents.size }, 'dependents orphaned; removing the orphan finalizer');
    await this.removeFinalizer(owner, finalizerOrphan);
  }

  // ---- run -----------------------------------------------------------------------------------

  async start(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    const graph = this.runGraph(signal);
    // Discovery must answer before anything can be watched.
    while (!signal.aborted) {
      try {
        await this.resyncMonitors();
        break;
      } catch (err) {
        this.log.warn({ err }, 'discovery failed; retrying');
        await this.clock.sleep(1000, signal);
      }
    }
    if (signal.aborted) {
      await graph;
      return;
    }
    const timeout = new AbortController();
    setMaxListeners(0, timeout.signal); // one waiter per resource
    const onAbort = () => timeout.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => timeout.abort(), this.o.syncTimeoutMs ?? 60_000);
    const synced = await Promise.all([...this.monitors.values()].map((m) => m.informer.waitForCacheSync(timeout.signal)));
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    if (signal.aborted) {
      await graph;
      return;
    }
    if (!synced.every(Boolean)) this.log.warn('not every resource informer has synced; collecting garbage anyway');
    this.log.info({ resources: this.monitors.size }, 'all resource monitors have synced; collecting garbage');
    const workers = this.o.workers ?? 20;
    const discoveryLoop = (async () => {
      while (!signal.aborted) {
        await this.clock.sleep(this.o.discoveryPeriodMs ?? 30_000, signal);
        if (signal.aborted) break;
        try {
          await this.resyncMonitors();
        } catch (err) {
          this.log.warn({ err }, 'discovery failed; keeping the current monitors');
        }
      }
    })();
    await Promise.all([
      runWorkers(this.attemptToDelete, workers, (uid) => this.attemptToDeleteWorker(uid), signal, { log: this.log, name: 'garbagecollector' }),
      runWorkers(this.attemptToOrphan, workers, (uid) => this.attemptToOrphanWorker(uid), signal, { log: this.log, name: 'garbagecollector-orphan' }),
      discoveryLoop,
      graph,
    ]);
    for (const m of this.monitors.values()) m.stop?.abort();
    this.log.info('stopped');
  }

  /** The graph node of an object, for tests and debugging. */
  nodeFor(uid: string): GraphNode | undefined {
    return this.graph.get(uid);
  }

  /** True once discovery has answered and every resource informer has synced. */
  hasSynced(): boolean {
    return this.monitors.size > 0 && [...this.monitors.values()].every((m) => m.informer.hasSynced());
  }

  get graphSize(): number {
    return this.graph.size;
  }
}
