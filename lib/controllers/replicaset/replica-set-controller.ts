/**
 * The ReplicaSet controller, which also runs ReplicationControllers (upstream does the same:
 * an RC is handled as an older form of ReplicaSet). Each sync of `namespace/name`:
 *
 *   1. reads the replica set and every active pod of its namespace from the caches;
 *   2. claims pods: keeps its own, adopts matching orphans, releases those that stopped matching;
 *   3. if its expectations are met (it has seen its own earlier creates and deletes), creates
 *      or deletes pods so that `spec.replicas` are active: creates in slow-start batches,
 *      deletes the least useful first (unscheduled, pending, not ready, ...);
 *   4. writes status (replicas, fullyLabeledReplicas, readyReplicas, availableReplicas,
 *      observedGeneration, the ReplicaFailure condition) when it changed.
 *
 * Pod events only enqueue the owner's key and record what the informer has seen, so that a
 * lagging watch never leads to a second round of creates (expectations, see lib/controller).
 */
import type { Logger } from 'pino';
import type { KubeObject, Pod, PodTemplateSpec, ReplicaSet, ReplicationController } from '../../api/index.js';
import { rfc3339, realClock, silentLogger, type Clock, type Runnable } from '../../base/index.js';
import {
  Resources,
  deepCopy,
  deletedObject,
  splitMetaNamespaceKey,
  type DeletedFinalStateUnknown,
  type EventRecorder,
  type KubeClient,
  type ResourceDescriptor,
  type SharedInformer,
  type SharedInformerFactory,
} from '../../client/index.js';
import { RateLimitingQueue, UIDTrackingControllerExpectations, type ReconcileResult } from '../../controller/index.js';
import { isNotFound, jsonEqual, labelSelectorFromObject, selectorFromSet, type LabelSelector } from '../../machinery/index.js';
import { claimObjects, recheckOwner } from './controller-ref-manager.js';
import { KeyedSerializer, controllerUIDIndex, ensureIndex, errorMessage, indexByControllerUID, isNamespaceTerminating, runController, slowStartBatch, slowStartInitialBatchSize } from './controller-support.js';
import { PodControl } from './pod-control.js';
import { comparePodsForScaleDown, getControllerOf, nextAvailableIn, isPodActive, isPodAvailable, isPodReady, newControllerRef, objectKey, podKey } from './pod-util.js';

/** Most pods created or deleted in one sync (upstream BurstReplicas). */
export const burstReplicas = 500;

type Conditioned = { type: string; status: 'True' | 'False' | 'Unknown'; lastTransitionTime?: string; reason?: string; message?: string };

/** The status both kinds share. */
export interface ReplicaStatus {
  replicas: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: Conditioned[];
}

/** What differs between ReplicaSet and ReplicationController. */
export interface ReplicaKind<T extends KubeObject> {
  kind: string;
  apiVersion: string;
  /** The controller name in logs; the event source is `${name}-controller` style, see `component`. */
  name: string;
  /** Event source component (upstream: replicaset-controller, replication-controller). */
  component: string;
  descriptor: ResourceDescriptor<T>;
  selector(obj: T): LabelSelector;
  replicas(obj: T): number;
  minReadySeconds(obj: T): number;
  template(obj: T): PodTemplateSpec | undefined;
  status(obj: T): ReplicaStatus | undefined;
}

export const replicaSetKind: ReplicaKind<ReplicaSet> = {
  kind: 'ReplicaSet',
  apiVersion: 'apps/v1',
  name: 'replicaset',
  component: 'replicaset-controller',
  descriptor: Resources.replicaSets,
  selector: (rs) => labelSelectorFromObject(rs.spec?.selector),
  replicas: (rs) => rs.spec?.replicas ?? 1,
  minReadySeconds: (rs) => rs.spec?.minReadySeconds ?? 0,
  template: (rs) => rs.spec?.template,
  status: (rs) => rs.status as ReplicaStatus | undefined,
};

export const replicationControllerKind: ReplicaKind<ReplicationController> = {
  kind: 'ReplicationController',
  apiVersion: 'v1',
  name: 'replicationcontroller',
  component: 'replication-controller',
  descriptor: Resources.replicationControllers,
  // An RC without a selector selects by its template's labels (the API server defaults it so).
  selector: (rc) => selectorFromSet(rc.spec?.selector ?? rc.spec?.template?.metadata?.labels ?? {}),
  replicas: (rc) => rc.spec?.replicas ?? 1,
  minReadySeconds: (rc) => rc.spec?.minReadySeconds ?? 0,
  template: (rc) => rc.spec?.template,
  status: (rc) => rc.status as ReplicaStatus | undefined,
};

export interface ReplicaSetControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  recorder: EventRecorder;
  log?: Logger;
  clock?: Clock;
  /** Concurrent syncs (upstream --concurrent-replicaset-syncs, default 5). */
  workers?: number;
  /** Most pods created or deleted per sync (default 500). */
  burstReplicas?: number;
}

export class ReplicaSetController<T extends KubeObject> implements Runnable {
  readonly queue: RateLimitingQueue<string>;
  readonly expectations: UIDTrackingControllerExpectations;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly rsInformer: SharedInformer<T>;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly podControl: PodControl;
  private readonly burst: number;
  private readonly serializer = new KeyedSerializer();

  constructor(
    private readonly k: ReplicaKind<T>,
    private readonly o: ReplicaSetControllerOptions,
  ) {
    this.clock = o.clock ?? realClock;
    this.log = o.log ?? silentLogger();
    this.queue = new RateLimitingQueue<string>({ clock: this.clock });
    this.expectations = new UIDTrackingControllerExpectations({ clock: this.clock, log: this.log });
    this.rsInformer = o.informers.informerFor(k.descriptor);
    this.podInformer = o.informers.informerFor(Resources.pods);
    ensureIndex(this.rsInformer, controllerUIDIndex, indexByControllerUID);
    ensureIndex(this.podInformer, controllerUIDIndex, indexByControllerUID);
    this.podControl = new PodControl(o.client, o.recorder);
    this.burst = o.burstReplicas ?? burstReplicas;
  }

  start(signal: AbortSignal): Promise<void> {
    return runController(signal, {
      name: this.k.name,
      log: this.log,
      queue: this.queue,
      workers: this.o.workers ?? 5,
      informers: [this.rsInformer, this.podInformer],
      reconcile: (key) => this.sync(key),
      register: () => [
        this.rsInformer.addEventHandler({
          onAdd: (rs) => this.enqueue(rs),
          onUpdate: (old, cur) => this.updateRS(old, cur),
          onDelete: (obj) => this.deleteRS(obj),
        }),
        this.podInformer.addEventHandler({
          onAdd: (pod) => this.addPod(pod),
          onUpdate: (old, cur) => this.updatePod(old, cur),
          onDelete: (obj) => this.deletePod(obj),
        }),
      ],
    });
  }

  // ---- event handlers: record what was observed, enqueue keys, nothing else ----------------

  private enqueue(obj: KubeObject): void {
    this.queue.add(objectKey(obj));
  }

  private updateRS(old: T, cur: T): void {
    if (old.metadata.uid !== cur.metadata.uid) {
      // Deleted and recreated under the same name while the watch was down.
      this.deleteRS(old);
    }
    this.enqueue(cur);
  }

  private deleteRS(obj: T | DeletedFinalStateUnknown<T>): void {
    const rs = deletedObject(obj);
    const key = objectKey(rs);
    this.expectations.deleteExpectations(key);
    this.queue.add(key);
  }

  private resolveControllerRef(namespace: string, ref: { kind: string; name: string; uid: string }): T | undefined {
    if (ref.kind !== this.k.kind) return undefined;
    const rs = this.rsInformer.lister().namespace(namespace).get(ref.name);
    return rs && rs.metadata.uid === ref.uid ? rs : undefined;
  }

  /** Replica sets in the pod's namespace whose selector matches it (never an empty selector). */
  private replicaSetsForPod(pod: Pod): T[] {
    return this.rsInformer
      .lister()
      .namespace(pod.metadata.namespace ?? '')
      .list()
      .filter((rs) => {
        const sel = this.k.selector(rs);
        return !sel.isEmpty() && sel.matches(pod.metadata.labels);
      });
  }

  private addPod(pod: Pod): void {
    if (pod.metadata.deletionTimestamp) {
      // Seen for the first time already being deleted (say, after a restart): not a creation.
      this.deletePod(pod);
      return;
    }
    const ref = getControllerOf(pod);
    if (ref) {
      const rs = this.resolveControllerRef(pod.metadata.namespace ?? '', ref);
      if (!rs) return;
      const key = objectKey(rs);
      this.expectations.creationObserved(key);
      this.queue.add(key);
      return;
    }
    // An orphan: whoever matches may adopt it.
    for (const rs of this.replicaSetsForPod(pod)) this.enqueue(rs);
  }

  private updatePod(old: Pod, cur: Pod): void {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    const labelsChanged = !jsonEqual(old.metadata.labels ?? {}, cur.metadata.labels ?? {});
    if (cur.metadata.deletionTimestamp) {
      // A graceful delete: the pod stops counting now, not when the kubelet is done with it.
      this.deletePod(cur);
      if (labelsChanged) this.deletePod(old);
      return;
    }
    const curRef = getControllerOf(cur);
    const oldRef = getControllerOf(old);
    const refChanged = !jsonEqual(curRef, oldRef);
    if (refChanged && oldRef) {
      const rs = this.resolveControllerRef(old.metadata.namespace ?? '', oldRef);
      if (rs) this.enqueue(rs);
    }
    if (curRef) {
      const rs = this.resolveControllerRef(cur.metadata.namespace ?? '', curRef);
      if (!rs) return;
      this.enqueue(rs);
      const minReady = this.k.minReadySeconds(rs);
      // Became ready: check again once it has been ready long enough to count as available.
      if (!isPodReady(old) && isPodReady(cur) && minReady > 0) this.queue.addAfter(objectKey(rs), minReady * 1000 + 1000);
      return;
    }
    if (labelsChanged || refChanged) for (const rs of this.replicaSetsForPod(cur)) this.enqueue(rs);
  }

  private deletePod(obj: Pod | DeletedFinalStateUnknown<Pod>): void {
    const pod = deletedObject(obj);
    const ref = getControllerOf(pod);
    if (!ref) return;
    const rs = this.resolveControllerRef(pod.metadata.namespace ?? '', ref);
    if (!rs) return;
    const key = objectKey(rs);
    this.expectations.deletionObservedOf(key, podKey(pod));
    this.queue.add(key);
  }

  // ---- sync ------------------------------------------------------------------------------------

  /** Reconciles one replica set; idempotent, reads only the caches (and fresh state for adoption). */
  sync(key: string): Promise<ReconcileResult> {
    return this.serializer.run(key, () => this.syncOnce(key));
  }

  private async syncOnce(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const rs = this.rsInformer.lister().namespace(namespace ?? '').get(name);
    if (!rs) {
      this.expectations.deleteExpectations(key);
      return;
    }
    const needsSync = this.expectations.satisfiedExpectations(key);
    const selector = this.k.selector(rs);
    // Every pod of the namespace: ours that stopped matching must be found to be released.
    const all = this.podInformer.lister().namespace(namespace ?? '').list();
    const active = all.filter(isPodActive);
    const pods = await this.claimPods(rs, selector, active);

    let manageErr: unknown;
    if (needsSync && !rs.metadata.deletionTimestamp) {
      try {
        await this.manageReplicas(key, rs, pods);
      } catch (err) {
        manageErr = err;
      }
    }
    const status = this.calculateStatus(rs, pods, manageErr);
    const updated = await this.updateStatus(rs, status);
    if (manageErr) throw manageErr;
    const minReady = this.k.minReadySeconds(rs);
    const st = this.k.status(updated);
    // Ready but not yet available: look again when the first of them will be.
    if (minReady > 0 && (st?.readyReplicas ?? 0) === this.k.replicas(rs) && (st?.availableReplicas ?? 0) !== this.k.replicas(rs)) {
      return { requeueAfterMs: nextAvailableIn(pods, minReady, this.clock.now()) };
    }
  }

  private claimPods(rs: T, selector: LabelSelector, pods: Pod[]): Promise<Pod[]> {
    const ns = rs.metadata.namespace!;
    return claimObjects(pods, {
      owner: rs,
      controllerRef: newControllerRef(rs, this.k.apiVersion, this.k.kind),
      selector,
      canAdopt: recheckOwner(this.k.kind, rs, () => this.o.client.resource(this.k.descriptor, ns).get(rs.metadata.name!)),
      patch: (pod, patch) => this.podControl.patchPod(ns, pod.metadata.name!, patch),
    });
  }

  private async manageReplicas(key: string, rs: T, pods: Pod[]): Promise<void> {
    const ns = rs.metadata.namespace!;
    const want = this.k.replicas(rs);
    const diff = pods.length - want;
    const owner = { obj: rs, apiVersion: this.k.apiVersion, kind: this.k.kind };
    if (diff < 0) {
      const n = Math.min(-diff, this.burst);
      const template = this.k.template(rs);
      if (!template) throw new Error(`${this.k.kind} ${key} has no pod template`);
      // Expect them all before the first create: the informer may report a pod before create() returns.
      this.expectations.expectCreations(key, n);
      this.log.debug({ key, need: want, creating: n }, 'too few replicas');
      const ref = newControllerRef(rs, this.k.apiVersion, this.k.kind);
      const { attempted, error } = await slowStartBatch(n, slowStartInitialBatchSize, async () => {
        try {
          await this.podControl.createPod(ns, template, owner, ref);
        } catch (err) {
          // Not going to be observed: lower the expectation for this one.
          this.expectations.creationObserved(key);
          if (isNamespaceTerminating(err)) return;
          throw err;
        }
      });
      // Creates never attempted after a failed batch will not be observed either.
      for (let i = attempted; i < n; i++) this.expectations.creationObserved(key);
      if (error) throw error;
      return;
    }
    if (diff > 0) {
      const n = Math.min(diff, this.burst);
      const victims = this.podsToDelete(rs, pods, n);
      this.expectations.expectDeletionsOf(key, victims.map(podKey));
      this.log.debug({ key, need: want, deleting: n }, 'too many replicas');
      const results = await Promise.allSettled(
        victims.map(async (pod) => {
          try {
            await this.podControl.deletePod(ns, pod.metadata.name!, owner);
          } catch (err) {
            this.expectations.deletionObservedOf(key, podKey(pod));
            if (!isNotFound(err)) throw err;
          }
        }),
      );
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure) throw failure.reason;
    }
  }

  /**
   * The `n` pods to delete: the least useful first, pods sharing a node with many pods of
   * related replica sets (the same deployment) counting as less useful.
   */
  private podsToDelete(rs: T, pods: Pod[], n: number): Pod[] {
    if (n >= pods.length) return [...pods];
    const related = this.relatedPods(rs);
    const onNode = new Map<string, number>();
    for (const p of related) if (isPodActive(p)) onNode.set(p.spec?.nodeName ?? '', (onNode.get(p.spec?.nodeName ?? '') ?? 0) + 1);
    const now = this.clock.now();
    const ranked = pods.map((pod) => ({ pod, rank: onNode.get(pod.spec?.nodeName ?? '') ?? 0 }));
    ranked.sort((a, b) => comparePodsForScaleDown(a.pod, b.pod, a.rank, b.rank, now));
    return ranked.slice(0, n).map((r) => r.pod);
  }

  /** Pods of every replica set with the same controller as `rs` (its own included). */
  private relatedPods(rs: T): Pod[] {
    const ref = getControllerOf(rs);
    if (!ref) return [];
    const seen = new Set<string>();
    const out: Pod[] = [];
    for (const sibling of this.rsInformer.getIndexer().byIndex(controllerUIDIndex, ref.uid)) {
      if (sibling.metadata.namespace !== rs.metadata.namespace) continue;
      const sel = this.k.selector(sibling);
      for (const pod of this.podInformer.lister().namespace(rs.metadata.namespace ?? '').list(sel)) {
        if (seen.has(pod.metadata.uid!)) continue;
        seen.add(pod.metadata.uid!);
        out.push(pod);
      }
    }
    return out;
  }

  calculateStatus(rs: T, pods: Pod[], manageErr: unknown): ReplicaStatus {
    const prev = this.k.status(rs);
    const status: ReplicaStatus = deepCopy(prev ?? { replicas: 0 });
    const templateLabels = selectorFromSet(this.k.template(rs)?.metadata?.labels ?? {});
    const minReady = this.k.minReadySeconds(rs);
    const now = this.clock.now();
    let fullyLabeled = 0;
    let ready = 0;
    let available = 0;
    for (const pod of pods) {
      if (templateLabels.matches(pod.metadata.labels)) fullyLabeled++;
      if (isPodReady(pod)) {
        ready++;
        if (isPodAvailable(pod, minReady, now)) available++;
      }
    }
    const failure = status.conditions?.find((c) => c.type === 'ReplicaFailure');
    if (manageErr && !failure) {
      const reason = pods.length - this.k.replicas(rs) < 0 ? 'FailedCreate' : 'FailedDelete';
      status.conditions = [...(status.conditions ?? []), { type: 'ReplicaFailure', status: 'True', lastTransitionTime: rfc3339(now), reason, message: errorMessage(manageErr) }];
    } else if (!manageErr && failure) {
      status.conditions = status.conditions!.filter((c) => c.type !== 'ReplicaFailure');
      if (status.conditions.length === 0) delete status.conditions;
    }
    status.replicas = pods.length;
    status.fullyLabeledReplicas = fullyLabeled;
    status.readyReplicas = ready;
    status.availableReplicas = available;
    return status;
  }

  /** Writes the status unless nothing changed; one retry on a fresh copy (upstream statusUpdateRetries). */
  private async updateStatus(rs: T, status: ReplicaStatus): Promise<T> {
    const prev = this.k.status(rs);
    const generation = rs.metadata.generation ?? 0;
    if (
      prev &&
      prev.replicas === status.replicas &&
      (prev.fullyLabeledReplicas ?? 0) === status.fullyLabeledReplicas &&
      (prev.readyReplicas ?? 0) === status.readyReplicas &&
      (prev.availableReplicas ?? 0) === status.availableReplicas &&
      (prev.observedGeneration ?? 0) === generation &&
      jsonEqual(prev.conditions ?? [], status.conditions ?? [])
    ) {
      return rs;
    }
    status.observedGeneration = generation;
    const client = this.o.client.resource(this.k.descriptor, rs.metadata.namespace);
    let current: T = rs;
    for (let attempt = 0; ; attempt++) {
      const copy = deepCopy(current) as T & { status?: ReplicaStatus };
      copy.status = status;
      try {
        return await client.updateStatus(copy);
      } catch (err) {
        if (attempt >= 1) throw err;
        current = await client.get(rs.metadata.name!);
      }
    }
  }
}
