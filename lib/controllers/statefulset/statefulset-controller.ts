/**
 * The StatefulSet controller: pods with stable names web-0..web-(n-1), stable hostnames under
 * the set's service, and claims of their own. Each sync:
 *
 *   revisions   the update revision is the current template (a ControllerRevision, reused
 *               and renumbered when the template goes back to an old one); the current
 *               revision is what the pods ran before the update in progress
 *   replicas    for every ordinal in [start, start+replicas): recreate failed pods, create
 *               missing ones (claims first); OrderedReady creates one at a time and waits for
 *               each to be Running and Ready before the next, Parallel creates them all
 *   condemned   ordinals beyond the range are deleted from the highest down, one at a time
 *               with OrderedReady, once every lower pod is healthy
 *   update      RollingUpdate: delete the highest-ordinal pod not at the update revision
 *               (down to the partition), waiting for each replacement to be healthy
 *   status      replicas, ready, available, current and updated counts and revisions
 */
import type { Logger } from 'pino';
import type { ControllerRevision, KubeObject, PersistentVolumeClaim, Pod, StatefulSet } from '../../api/index.js';
import { realClock, silentLogger, type Clock, type Runnable } from '../../base/index.js';
import {
  Resources,
  deepCopy,
  deletedObject,
  findDescriptor,
  splitMetaNamespaceKey,
  type DeletedFinalStateUnknown,
  type EventRecorder,
  type KubeClient,
  type ResourceDescriptor,
  type SharedInformer,
  type SharedInformerFactory,
} from '../../client/index.js';
import { ControllerExpectations, RateLimitingQueue, type ReconcileResult } from '../../controller/index.js';
import { isNotFound, jsonEqual, labelSelectorFromObject } from '../../machinery/index.js';
import {
  KeyedSerializer,
  claimObjects,
  compareRevisions,
  controllerUIDIndex,
  createControllerRevision,
  ensureIndex,
  equalRevisions,
  errorMessage,
  getControllerOf,
  indexByControllerUID,
  isPodAvailable,
  isPodReady,
  newControllerRef,
  newControllerRevision,
  nextAvailableIn,
  objectKey,
  recheckOwner,
  recordEvent,
  runController,
  templateOfRevision,
  templatePatch,
} from '../replicaset/index.js';
import {
  claimsFor,
  identityMatches,
  isMemberOf,
  newStatefulSetPod,
  parentAndOrdinal,
  podRevision,
  setReplicas,
  startOrdinal,
  storageMatches,
  updateIdentity,
  updateStorage,
} from './identity.js';

const kind = 'StatefulSet';
const apiVersion = 'apps/v1';
type StatefulSetStatus = NonNullable<StatefulSet['status']>;

const pvcDescriptor = findDescriptor('persistentvolumeclaims') as ResourceDescriptor<PersistentVolumeClaim> | undefined;

export interface StatefulSetControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  recorder: EventRecorder;
  log?: Logger;
  clock?: Clock;
  workers?: number;
}

/** A slot of the ordinal range: the pod there, or the one that should be created. */
interface Slot {
  pod: Pod;
  created: boolean;
}

const isRunningAndReady = (p: Pod) => p.status?.phase === 'Running' && isPodReady(p);
const isTerminating = (p: Pod) => !!p.metadata.deletionTimestamp;
const isHealthy = (p: Pod) => isRunningAndReady(p) && !isTerminating(p);

export class StatefulSetController implements Runnable {
  readonly queue: RateLimitingQueue<string>;
  readonly expectations: ControllerExpectations;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly setInformer: SharedInformer<StatefulSet>;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly revInformer: SharedInformer<ControllerRevision>;
  private readonly pvcInformer?: SharedInformer<PersistentVolumeClaim>;
  private readonly serializer = new KeyedSerializer();

  constructor(private readonly o: StatefulSetControllerOptions) {
    this.clock = o.clock ?? realClock;
    this.log = o.log ?? silentLogger();
    this.queue = new RateLimitingQueue<string>({ clock: this.clock });
    this.expectations = new ControllerExpectations({ clock: this.clock, log: this.log });
    this.setInformer = o.informers.informerFor(Resources.statefulSets);
    this.podInformer = o.informers.informerFor(Resources.pods);
    this.revInformer = o.informers.informerFor(Resources.controllerRevisions);
    if (pvcDescriptor) this.pvcInformer = o.informers.informerFor(pvcDescriptor);
    ensureIndex(this.podInformer, controllerUIDIndex, indexByControllerUID);
    ensureIndex(this.revInformer, controllerUIDIndex, indexByControllerUID);
  }

  start(signal: AbortSignal): Promise<void> {
    return runController(signal, {
      name: 'statefulset',
      log: this.log,
      queue: this.queue,
      workers: this.o.workers ?? 5,
      informers: [this.setInformer, this.podInformer, this.revInformer, ...(this.pvcInformer ? [this.pvcInformer] : [])],
      reconcile: (key) => this.sync(key),
      register: () => [
        this.setInformer.addEventHandler({
          onAdd: (s) => this.enqueue(s),
          onUpdate: (_o, s) => this.enqueue(s),
          onDelete: (s) => {
            const set = deletedObject(s);
            this.expectations.deleteExpectations(objectKey(set));
            this.enqueue(set);
          },
        }),
        this.podInformer.addEventHandler({
          onAdd: (p) => this.addPod(p),
          onUpdate: (o, p) => this.updatePod(o, p),
          onDelete: (p) => this.deletePod(p),
        }),
      ],
    });
  }

  // ---- event handlers ----------------------------------------------------------------

  private enqueue(obj: KubeObject): void {
    this.queue.add(objectKey(obj));
  }

  private resolve(namespace: string, ref: { kind: string; name: string; uid: string } | undefined): StatefulSet | undefined {
    if (!ref || ref.kind !== kind) return undefined;
    const set = this.setInformer.lister().namespace(namespace).get(ref.name);
    return set && set.metadata.uid === ref.uid ? set : undefined;
  }

  private setsForPod(pod: Pod): StatefulSet[] {
    return this.setInformer
      .lister()
      .namespace(pod.metadata.namespace ?? '')
      .list()
      .filter((s) => {
        const sel = labelSelectorFromObject(s.spec?.selector);
        return !sel.isEmpty() && sel.matches(pod.metadata.labels) && isMemberOf(s, pod);
      });
  }

  private addPod(pod: Pod): void {
    if (pod.metadata.deletionTimestamp) return this.deletePod(pod);
    const set = this.resolve(pod.metadata.namespace ?? '', getControllerOf(pod));
    if (set) {
      this.expectations.creationObserved(objectKey(set));
      this.enqueue(set);
      return;
    }
    if (!getControllerOf(pod)) for (const s of this.setsForPod(pod)) this.enqueue(s);
  }

  private updatePod(old: Pod, cur: Pod): void {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    if (cur.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) {
      const set = this.resolve(cur.metadata.namespace ?? '', getControllerOf(cur));
      if (set) this.expectations.deletionObserved(objectKey(set));
    }
    const curRef = getControllerOf(cur);
    const oldRef = getControllerOf(old);
    if (!jsonEqual(curRef, oldRef) && oldRef) {
      const set = this.resolve(old.metadata.namespace ?? '', oldRef);
      if (set) this.enqueue(set);
    }
    if (curRef) {
      const set = this.resolve(cur.metadata.namespace ?? '', curRef);
      if (!set) return;
      this.enqueue(set);
      const minReady = set.spec?.minReadySeconds ?? 0;
      if (!isPodReady(old) && isPodReady(cur) && minReady > 0) this.queue.addAfter(objectKey(set), minReady * 1000 + 1000);
      return;
    }
    for (const s of this.setsForPod(cur)) this.enqueue(s);
  }

  private deletePod(obj: Pod | DeletedFinalStateUnknown<Pod>): void {
    const pod = deletedObject(obj);
    const set = this.resolve(pod.metadata.namespace ?? '', getControllerOf(pod));
    if (!set) return;
    // A pod seen terminating was counted already.
    if (!pod.metadata.deletionTimestamp) this.expectations.deletionObserved(objectKey(set));
    this.enqueue(set);
  }

  // ---- sync ---------------------------------------------------------------------------------

  sync(key: string): Promise<ReconcileResult> {
    return this.serializer.run(key, () => this.syncOnce(key));
  }

  private event(set: StatefulSet, type: 'Normal' | 'Warning', reason: string, message: string): void {
    recordEvent(this.o.recorder, set, apiVersion, kind, type, reason, message);
  }

  private async syncOnce(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const set = this.setInformer.lister().namespace(namespace ?? '').get(name);
    if (!set) {
      this.expectations.deleteExpectations(key);
      return;
    }
    const ns = set.metadata.namespace!;
    const selector = labelSelectorFromObject(set.spec?.selector);
    const canAdopt = recheckOwner(kind, set, () => this.o.client.resource(Resources.statefulSets, ns).get(set.metadata.name!));
    const revisionsClient = this.o.client.resource(Resources.controllerRevisions, ns);
    const revisions = await claimObjects(this.revInformer.lister().namespace(ns).list(), {
      owner: set,
      controllerRef: newControllerRef(set, apiVersion, kind),
      selector,
      canAdopt,
      patch: (r, patch) => revisionsClient.patch(r.metadata.name!, 'strategic', patch),
    });
    const pods = await claimObjects(this.podInformer.lister().namespace(ns).list(), {
      owner: set,
      controllerRef: newControllerRef(set, apiVersion, kind),
      selector,
      match: (p) => isMemberOf(set, p),
      canAdopt,
      patch: (p, patch) => this.o.client.resource(Resources.pods, ns).patch(p.metadata.name!, 'strategic', patch),
    });

    revisions.sort(compareRevisions);
    const { current, update, collisionCount } = await this.revisionsOf(set, revisions);
    const status: StatefulSetStatus = {
      replicas: 0,
      observedGeneration: set.metadata.generation,
      currentRevision: current.metadata.name,
      updateRevision: update.metadata.name,
      collisionCount,
    };
    countPods(status, pods, set.spec?.minReadySeconds ?? 0, this.clock.now(), current, update);

    let err: unknown;
    if (!set.metadata.deletionTimestamp && this.expectations.satisfiedExpectations(key)) {
      this.expectations.setExpectations(key, 0, 0);
      try {
        await this.updatePods(key, set, pods, current, update, status);
      } catch (e) {
        err = e;
      }
    }
    await this.writeStatus(set, status);
    await this.truncateHistory(set, pods, revisions, current, update);
    if (err) throw err;
    const minReady = set.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && (status.availableReplicas ?? 0) !== setReplicas(set)) return { requeueAfterMs: nextAvailableIn(pods, minReady, this.clock.now()) };
  }

  /**
   * The current and update revisions (upstream getStatefulSetRevisions): the update revision
   * is the set's template; an equal older revision is reused with a new number (a rollback).
   */
  private async revisionsOf(set: StatefulSet, revisions: ControllerRevision[]): Promise<{ current: ControllerRevision; update: ControllerRevision; collisionCount: number }> {
    let collisionCount = set.status?.collisionCount ?? 0;
    const owner = { obj: set, apiVersion, kind };
    const next = revisions.length ? revisions[revisions.length - 1]!.revision + 1 : 1;
    const data = templatePatch(set.spec?.template);
    const candidate = newControllerRevision(owner, set.spec?.template?.metadata?.labels, data, next, collisionCount);
    const equal = revisions.filter((r) => equalRevisions(r, candidate));
    let update: ControllerRevision;
    if (equal.length && equalRevisions(revisions[revisions.length - 1]!, equal[equal.length - 1]!)) {
      update = revisions[revisions.length - 1]!;
    } else if (equal.length) {
      const r = deepCopy(equal[equal.length - 1]!);
      r.revision = next;
      update = await this.o.client.resource(Resources.controllerRevisions, set.metadata.namespace).update(r);
    } else {
      const created = await createControllerRevision(this.o.client, owner, set.spec?.template?.metadata?.labels, data, next, collisionCount, set.metadata.annotations);
      update = created.revision;
      collisionCount = created.collisionCount;
    }
    const current = revisions.find((r) => r.metadata.name === set.status?.currentRevision) ?? update;
    return { current, update, collisionCount };
  }

  /** The set as it was at a revision (upstream ApplyRevision): its template replaced by the revision's. */
  private atRevision(set: StatefulSet, rev: ControllerRevision): StatefulSet {
    const copy = deepCopy(set);
    const t = templateOfRevision(rev);
    if (t) copy.spec = { ...copy.spec!, template: t };
    return copy;
  }

  /** A new pod for `ordinal`, from the current revision if below the partition, else the update revision. */
  private versionedPod(set: StatefulSet, current: ControllerRevision, update: ControllerRevision, ordinal: number): Pod {
    const currentSet = this.atRevision(set, current);
    const strategy = currentSet.spec?.updateStrategy;
    const type = strategy?.type ?? 'RollingUpdate';
    const partition = strategy?.rollingUpdate?.partition;
    const belowPartition = type === 'RollingUpdate' && (partition === undefined ? ordinal < startOrdinal(set) + (set.status?.currentReplicas ?? 0) : ordinal < startOrdinal(set) + partition);
    if (belowPartition) return newStatefulSetPod(set, currentSet.spec?.template, ordinal, current.metadata.name!);
    return newStatefulSetPod(set, set.spec?.template, ordinal, update.metadata.name!);
  }

  private async updatePods(key: string, set: StatefulSet, pods: Pod[], current: ControllerRevision, update: ControllerRevision, status: StatefulSetStatus): Promise<void> {
    const start = startOrdinal(set);
    const count = setReplicas(set);
    const slots: (Slot | undefined)[] = new Array(count).fill(undefined);
    const condemned: Pod[] = [];
    for (const pod of pods) {
      const ord = parentAndOrdinal(pod.metadata.name!).ordinal;
      if (ord < 0) continue;
      if (ord >= start && ord < start + count) slots[ord - start] = { pod, created: true };
      else condemned.push(pod);
    }
    for (let i = 0; i < count; i++) slots[i] ??= { pod: this.versionedPod(set, current, update, start + i), created: false };
    const replicas = slots as Slot[];
    condemned.sort((a, b) => parentAndOrdinal(b.metadata.name!).ordinal - parentAndOrdinal(a.metadata.name!).ordinal);

    let firstUnhealthy: Pod | undefined;
    for (const s of replicas) if (!s.created || !isHealthy(s.pod)) firstUnhealthy ??= s.pod;
    for (let i = condemned.length - 1; i >= 0; i--) if (!isHealthy(condemned[i]!)) firstUnhealthy ??= condemned[i];

    const monotonic = (set.spec?.podManagementPolicy ?? 'OrderedReady') !== 'Parallel';
    const minReady = set.spec?.minReadySeconds ?? 0;
    const now = this.clock.now();
    const ns = set.metadata.namespace!;

    for (let i = 0; i < replicas.length; i++) {
      const slot = replicas[i]!;
      const phase = slot.pod.status?.phase;
      if (slot.created && (phase === 'Failed' || phase === 'Succeeded')) {
        // A pod that ended is replaced under the same name.
        const failed = phase === 'Failed';
        this.event(set, 'Warning', failed ? 'RecreatingFailedPod' : 'RecreatingTerminatedPod', `StatefulSet ${ns}/${set.metadata.name} is recreating ${failed ? 'failed' : 'terminated'} Pod ${slot.pod.metadata.name}`);
        await this.deletePodOf(key, set, slot.pod);
        if (podRevision(slot.pod) === current.metadata.name) status.currentReplicas = (status.currentReplicas ?? 0) - 1;
        if (podRevision(slot.pod) === update.metadata.name) status.updatedReplicas = (status.updatedReplicas ?? 0) - 1;
        status.replicas--;
        replicas[i] = { pod: this.versionedPod(set, current, update, start + i), created: false };
        // The old pod must be gone before its name can be taken again.
        return;
      }
      if (!replicas[i]!.created) {
        await this.createPodOf(key, set, replicas[i]!.pod);
        status.replicas++;
        if (podRevision(replicas[i]!.pod) === current.metadata.name) status.currentReplicas = (status.currentReplicas ?? 0) + 1;
        if (podRevision(replicas[i]!.pod) === update.metadata.name) status.updatedReplicas = (status.updatedReplicas ?? 0) + 1;
        // OrderedReady: one pod at a time; it must be Running and Ready before the next.
        if (monotonic) return;
        continue;
      }
      const pod = replicas[i]!.pod;
      if (pod.status?.phase === 'Pending') await this.createMissingClaims(set, pod);
      if (isTerminating(pod) && monotonic) return;
      if (!isRunningAndReady(pod) && monotonic) return;
      if (!isPodAvailable(pod, minReady, now) && monotonic) return;
      if (identityMatches(set, pod) && storageMatches(set, pod)) continue;
      await this.fixPod(set, pod);
    }

    // Scale down: the highest ordinal first, and with OrderedReady only when all others are healthy.
    for (const pod of condemned) {
      if (isTerminating(pod)) {
        if (monotonic) return;
        continue;
      }
      if (!isRunningAndReady(pod) && monotonic && pod !== firstUnhealthy) return;
      if (!isPodAvailable(pod, minReady, now) && monotonic && pod !== firstUnhealthy) return;
      await this.deletePodOf(key, set, pod);
      if (podRevision(pod) === current.metadata.name) status.currentReplicas = (status.currentReplicas ?? 0) - 1;
      if (podRevision(pod) === update.metadata.name) status.updatedReplicas = (status.updatedReplicas ?? 0) - 1;
      if (monotonic) return;
    }

    if (set.spec?.updateStrategy?.type === 'OnDelete') return;
    // Rolling update: the highest ordinal not at the update revision goes first, down to the partition.
    const partition = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
    for (let target = replicas.length - 1; target >= partition; target--) {
      const pod = replicas[target]!.pod;
      if (podRevision(pod) !== update.metadata.name && !isTerminating(pod)) {
        this.log.debug({ statefulset: key, pod: pod.metadata.name }, 'deleting pod for update');
        await this.deletePodOf(key, set, pod);
        if (podRevision(pod) === current.metadata.name) status.currentReplicas = (status.currentReplicas ?? 0) - 1;
        return;
      }
      // Wait for the replacement to be healthy before touching the next one.
      if (!isHealthy(pod)) return;
    }
  }

  private async createPodOf(key: string, set: StatefulSet, pod: Pod): Promise<void> {
    await this.createClaims(set, pod);
    this.expectations.raiseExpectations(key, 1, 0);
    try {
      await this.o.client.resource(Resources.pods, set.metadata.namespace).create(pod);
    } catch (err) {
      this.expectations.lowerExpectations(key, 1, 0);
      this.event(set, 'Warning', 'FailedCreate', `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${errorMessage(err)}`);
      throw err;
    }
    this.event(set, 'Normal', 'SuccessfulCreate', `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
  }

  private async deletePodOf(key: string, set: StatefulSet, pod: Pod): Promise<void> {
    this.expectations.raiseExpectations(key, 0, 1);
    try {
      await this.o.client.resource(Resources.pods, set.metadata.namespace).delete(pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } });
    } catch (err) {
      this.expectations.lowerExpectations(key, 0, 1);
      if (isNotFound(err)) return;
      this.event(set, 'Warning', 'FailedDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${errorMessage(err)}`);
      throw err;
    }
    this.event(set, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
  }

  /** Restores a pod's identity labels (and claims); what the API server lets change on a running pod. */
  private async fixPod(set: StatefulSet, cached: Pod): Promise<void> {
    const pod = deepCopy(cached);
    updateIdentity(set, pod);
    if (!storageMatches(set, pod)) {
      updateStorage(set, pod);
      await this.createClaims(set, pod);
    }
    try {
      await this.o.client.resource(Resources.pods, set.metadata.namespace).update(pod);
    } catch (err) {
      this.event(set, 'Warning', 'FailedUpdate', `update Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${errorMessage(err)}`);
      throw err;
    }
    this.event(set, 'Normal', 'SuccessfulUpdate', `update Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
  }

  /** Creates the pod's claims that do not exist yet (upstream createPersistentVolumeClaims). */
  private async createClaims(set: StatefulSet, pod: Pod): Promise<void> {
    if (!pvcDescriptor || !this.pvcInformer || !(set.spec?.volumeClaimTemplates ?? []).length) return;
    const client = this.o.client.resource(pvcDescriptor, set.metadata.namespace);
    const errors: string[] = [];
    for (const claim of claimsFor(set, pod).values()) {
      const existing = this.pvcInformer.lister().namespace(set.metadata.namespace ?? '').get(claim.metadata.name!);
      if (existing) {
        if (existing.metadata.deletionTimestamp) errors.push(`pvc ${claim.metadata.name} is being deleted`);
        continue;
      }
      try {
        await client.create(claim);
        this.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${claim.metadata.name} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} success`);
      } catch (err) {
        if (/already exists/i.test(errorMessage(err))) continue;
        this.event(set, 'Warning', 'FailedCreate', `create Claim ${claim.metadata.name} for Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${errorMessage(err)}`);
        errors.push(errorMessage(err));
      }
    }
    if (errors.length) throw new Error(`failed to create claims for pod ${pod.metadata.name}: ${errors.join('; ')}`);
  }

  private createMissingClaims(set: StatefulSet, pod: Pod): Promise<void> {
    return this.createClaims(set, pod);
  }

  // ---- status and history -------------------------------------------------------------------

  private async writeStatus(set: StatefulSet, status: StatefulSetStatus): Promise<void> {
    // A rolling update whose pods are all updated and ready is complete.
    if ((set.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas) {
      status.currentReplicas = status.updatedReplicas;
      status.currentRevision = status.updateRevision;
    }
    if (set.status?.conditions) status.conditions = set.status.conditions;
    if (jsonEqual(normalizeStatus(set.status), normalizeStatus(status))) return;
    const client = this.o.client.resource(Resources.statefulSets, set.metadata.namespace);
    try {
      await client.updateStatus({ ...deepCopy(set), status });
    } catch (err) {
      const fresh = await client.get(set.metadata.name!);
      await client.updateStatus({ ...fresh, status }).catch(() => {
        throw err;
      });
    }
  }

  /** Deletes the oldest revisions beyond revisionHistoryLimit that neither the revisions in use nor any pod needs. */
  private async truncateHistory(set: StatefulSet, pods: Pod[], revisions: ControllerRevision[], current: ControllerRevision, update: ControllerRevision): Promise<void> {
    const live = new Set([current.metadata.name, update.metadata.name, ...pods.map(podRevision)]);
    const history = revisions.filter((r) => !live.has(r.metadata.name));
    const limit = set.spec?.revisionHistoryLimit ?? 10;
    if (history.length <= limit) return;
    const client = this.o.client.resource(Resources.controllerRevisions, set.metadata.namespace);
    for (const r of history.slice(0, history.length - limit)) {
      await client.delete(r.metadata.name!).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
    }
  }
}

function countPods(status: StatefulSetStatus, pods: Pod[], minReady: number, now: number, current: ControllerRevision, update: ControllerRevision): void {
  status.readyReplicas = 0;
  status.availableReplicas = 0;
  status.currentReplicas = 0;
  status.updatedReplicas = 0;
  for (const pod of pods) {
    status.replicas++;
    if (isRunningAndReady(pod)) {
      status.readyReplicas++;
      if (isPodAvailable(pod, minReady, now)) status.availableReplicas++;
    }
    if (!isTerminating(pod)) {
      if (podRevision(pod) === current.metadata.name) status.currentReplicas++;
      if (podRevision(pod) === update.metadata.name) status.updatedReplicas++;
    }
  }
}

function normalizeStatus(s: StatefulSetStatus | undefined): unknown {
  if (!s) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) if (v !== undefined && v !== 0) out[k] = v;
  return out;
}
