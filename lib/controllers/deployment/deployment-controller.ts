/**
 * The Deployment controller: a deployment owns one ReplicaSet per pod template it has had;
 * the one whose template is the deployment's is "new", the others "old". Each sync:
 *
 *   claim replica sets by selector ─┬─ being deleted ─────────► status only
 *                                   ├─ paused or scaled ──────► scale (proportionally), clean up, status
 *                                   ├─ Recreate ──────────────► old → 0, wait for old pods to go, new → all
 *                                   └─ RollingUpdate ─────────► new ↑ within maxSurge,
 *                                                               old ↓ within maxUnavailable,
 *                                                               clean up history when complete
 *
 * and writes status with the Available and Progressing conditions that `kubectl rollout
 * status` reads. Replica sets are named `<deployment>-<pod-template-hash>`; every scale is
 * an event (ScalingReplicaSet) on the deployment.
 */
import type { Logger } from 'pino';
import type { Deployment, KubeObject, Pod, ReplicaSet } from '../../api/index.js';
import { realClock, silentLogger, type Clock, type Runnable } from '../../base/index.js';
import {
  Resources,
  deepCopy,
  deletedObject,
  splitMetaNamespaceKey,
  type DeletedFinalStateUnknown,
  type EventRecorder,
  type KubeClient,
  type SharedInformer,
  type SharedInformerFactory,
} from '../../client/index.js';
import { RateLimitingQueue, type ReconcileResult } from '../../controller/index.js';
import { isAlreadyExists, jsonEqual, labelSelectorFromObject } from '../../machinery/index.js';
import {
  KeyedSerializer,
  claimObjects,
  computeHash,
  controllerUIDIndex,
  ensureIndex,
  errorMessage,
  getControllerOf,
  indexByControllerUID,
  isNamespaceTerminating,
  newControllerRef,
  objectKey,
  recheckOwner,
  recordEvent,
  runController,
} from '../replicaset/index.js';
import * as u from './util.js';

const kind = 'Deployment';
const apiVersion = 'apps/v1';
type DeploymentStatus = NonNullable<Deployment['status']>;

export interface DeploymentControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  recorder: EventRecorder;
  log?: Logger;
  clock?: Clock;
  /** Concurrent syncs (upstream --concurrent-deployment-syncs, default 5). */
  workers?: number;
}

/** One sync's view of the deployment: a private copy, and the resourceVersion of our last write. */
interface Working {
  d: Deployment;
  /** The revision annotation as stored, to know when it must be written. */
  storedRevision: string | undefined;
}

export class DeploymentController implements Runnable {
  readonly queue: RateLimitingQueue<string>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly dInformer: SharedInformer<Deployment>;
  private readonly rsInformer: SharedInformer<ReplicaSet>;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly serializer = new KeyedSerializer();

  constructor(private readonly o: DeploymentControllerOptions) {
    this.clock = o.clock ?? realClock;
    this.log = o.log ?? silentLogger();
    this.queue = new RateLimitingQueue<string>({ clock: this.clock });
    this.dInformer = o.informers.informerFor(Resources.deployments);
    this.rsInformer = o.informers.informerFor(Resources.replicaSets);
    this.podInformer = o.informers.informerFor(Resources.pods);
    ensureIndex(this.rsInformer, controllerUIDIndex, indexByControllerUID);
    ensureIndex(this.podInformer, controllerUIDIndex, indexByControllerUID);
  }

  start(signal: AbortSignal): Promise<void> {
    return runController(signal, {
      name: 'deployment',
      log: this.log,
      queue: this.queue,
      workers: this.o.workers ?? 5,
      informers: [this.dInformer, this.rsInformer, this.podInformer],
      reconcile: (key) => this.sync(key),
      register: () => [
        this.dInformer.addEventHandler({
          onAdd: (d) => this.enqueue(d),
          onUpdate: (_old, d) => this.enqueue(d),
          onDelete: (d) => this.enqueue(deletedObject(d)),
        }),
        this.rsInformer.addEventHandler({
          onAdd: (rs) => this.addReplicaSet(rs),
          onUpdate: (old, cur) => this.updateReplicaSet(old, cur),
          onDelete: (rs) => this.deleteReplicaSet(rs),
        }),
        this.podInformer.addEventHandler({ onDelete: (pod) => this.deletePod(pod) }),
      ],
    });
  }

  // ---- event handlers -----------------------------------------------------------------

  private enqueue(obj: KubeObject): void {
    this.queue.add(objectKey(obj));
  }

  private resolve(namespace: string, ref: { kind: string; name: string; uid: string } | undefined): Deployment | undefined {
    if (!ref || ref.kind !== kind) return undefined;
    const d = this.dInformer.lister().namespace(namespace).get(ref.name);
    return d && d.metadata.uid === ref.uid ? d : undefined;
  }

  private deploymentsForReplicaSet(rs: ReplicaSet): Deployment[] {
    return this.dInformer
      .lister()
      .namespace(rs.metadata.namespace ?? '')
      .list()
      .filter((d) => {
        const sel = labelSelectorFromObject(d.spec?.selector);
        return !sel.isEmpty() && sel.matches(rs.metadata.labels);
      });
  }

  private addReplicaSet(rs: ReplicaSet): void {
    if (rs.metadata.deletionTimestamp) return this.deleteReplicaSet(rs);
    const ref = getControllerOf(rs);
    if (ref) {
      const d = this.resolve(rs.metadata.namespace ?? '', ref);
      if (d) this.enqueue(d);
      return;
    }
    for (const d of this.deploymentsForReplicaSet(rs)) this.enqueue(d);
  }

  private updateReplicaSet(old: ReplicaSet, cur: ReplicaSet): void {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    const curRef = getControllerOf(cur);
    const oldRef = getControllerOf(old);
    const refChanged = !jsonEqual(curRef, oldRef);
    if (refChanged && oldRef) {
      const d = this.resolve(old.metadata.namespace ?? '', oldRef);
      if (d) this.enqueue(d);
    }
    if (curRef) {
      const d = this.resolve(cur.metadata.namespace ?? '', curRef);
      if (d) this.enqueue(d);
      return;
    }
    if (refChanged || !jsonEqual(old.metadata.labels ?? {}, cur.metadata.labels ?? {})) for (const d of this.deploymentsForReplicaSet(cur)) this.enqueue(d);
  }

  private deleteReplicaSet(obj: ReplicaSet | DeletedFinalStateUnknown<ReplicaSet>): void {
    const rs = deletedObject(obj);
    const d = this.resolve(rs.metadata.namespace ?? '', getControllerOf(rs));
    if (d) this.enqueue(d);
  }

  /** Recreate waits for old pods to be gone: their deletion is worth a look. */
  private deletePod(obj: Pod | DeletedFinalStateUnknown<Pod>): void {
    const pod = deletedObject(obj);
    const ref = getControllerOf(pod);
    if (!ref || ref.kind !== 'ReplicaSet') return;
    const rs = this.rsInformer.lister().namespace(pod.metadata.namespace ?? '').get(ref.name);
    if (!rs || rs.metadata.uid !== ref.uid) return;
    const d = this.resolve(rs.metadata.namespace ?? '', getControllerOf(rs));
    if (d && d.spec?.strategy?.type === 'Recreate') this.enqueue(d);
  }

  // ---- sync ------------------------------------------------------------------------------

  sync(key: string): Promise<ReconcileResult> {
    return this.serializer.run(key, () => this.syncOnce(key));
  }

  private async syncOnce(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const cached = this.dInformer.lister().namespace(namespace ?? '').get(name);
    if (!cached) return;
    const w: Working = { d: deepCopy(cached), storedRevision: cached.metadata.annotations?.[u.revisionAnnotation] };
    const d = w.d;
    const selector = labelSelectorFromObject(d.spec?.selector);
    if (selector.isEmpty()) {
      this.event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((d.status?.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) {
        d.status = { ...(d.status ?? {}), observedGeneration: d.metadata.generation };
        await this.writeStatus(w);
      }
      return;
    }
    const rsList = await this.claimReplicaSets(d);
    const podMap = this.podMap(d, rsList);

    if (d.metadata.deletionTimestamp) return this.syncStatusOnly(w, rsList);
    await this.checkPausedConditions(w);
    if (d.spec?.paused) return this.syncScale(w, rsList);
    if (await this.isScalingEvent(w, rsList)) return this.syncScale(w, rsList);
    if (d.spec?.strategy?.type === 'Recreate') return this.rolloutRecreate(w, rsList, podMap);
    return this.rolloutRolling(w, rsList);
  }

  private event(d: Deployment, type: 'Normal' | 'Warning', reason: string, message: string): void {
    recordEvent(this.o.recorder, d, apiVersion, kind, type, reason, message);
  }

  private claimReplicaSets(d: Deployment): Promise<ReplicaSet[]> {
    const ns = d.metadata.namespace!;
    const rsClient = this.o.client.resource(Resources.replicaSets, ns);
    return claimObjects(this.rsInformer.lister().namespace(ns).list(), {
      owner: d,
      controllerRef: newControllerRef(d, apiVersion, kind),
      selector: labelSelectorFromObject(d.spec?.selector),
      canAdopt: recheckOwner(kind, d, () => this.o.client.resource(Resources.deployments, ns).get(d.metadata.name!)),
      patch: (rs, patch) => rsClient.patch(rs.metadata.name!, 'strategic', patch),
    });
  }

  /** Pods of each claimed replica set, finished ones included (Recreate must see every old pod gone). */
  private podMap(d: Deployment, rsList: ReplicaSet[]): Map<string, Pod[]> {
    const m = new Map<string, Pod[]>(rsList.map((rs) => [rs.metadata.uid!, []]));
    for (const pod of this.podInformer.lister().namespace(d.metadata.namespace ?? '').list(labelSelectorFromObject(d.spec?.selector))) {
      const ref = getControllerOf(pod);
      if (ref) m.get(ref.uid)?.push(pod);
    }
    return m;
  }

  // ---- writes ---------------------------------------------------------------------------------

  /**
   * Writes the working copy's status, its revision annotation with it (a status write keeps the
   * annotations it is given, as upstream's UpdateStatus of the revision: the deployment
   * controller's role has update on deployments/status but no patch of deployments), carrying
   * the new resourceVersion forward so that a second write in the same sync does not conflict
   * with the first.
   */
  private async writeStatus(w: Working): Promise<void> {
    const res = await this.o.client.resource(Resources.deployments, w.d.metadata.namespace).updateStatus(w.d);
    w.storedRevision = res.metadata.annotations?.[u.revisionAnnotation];
    w.d.metadata.resourceVersion = res.metadata.resourceVersion;
  }

  /** Scales a replica set (and refreshes its replicas annotations); records ScalingReplicaSet. */
  private async scaleReplicaSet(rs: ReplicaSet, newScale: number, d: Deployment, op: 'up' | 'down' | ''): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    const sizeChanged = u.specReplicas(rs) !== newScale;
    const desired = u.specReplicas(d);
    const max = desired + u.maxSurge(d);
    if (!sizeChanged && !u.replicasAnnotationsNeedUpdate(rs, desired, max)) return { scaled: false, rs };
    const oldScale = u.specReplicas(rs);
    const copy = deepCopy(rs);
    copy.spec = { ...copy.spec!, replicas: newScale };
    u.setReplicasAnnotations(copy, desired, max);
    const updated = await this.o.client.resource(Resources.replicaSets, rs.metadata.namespace).update(copy);
    if (sizeChanged) this.event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${op} replica set ${rs.metadata.name} to ${newScale} from ${oldScale}`);
    return { scaled: sizeChanged, rs: updated };
  }

  private async scaleAndRecord(rs: ReplicaSet, newScale: number, d: Deployment): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    if (u.specReplicas(rs) === newScale) return { scaled: false, rs };
    return this.scaleReplicaSet(rs, newScale, d, u.specReplicas(rs) < newScale ? 'up' : 'down');
  }

  // ---- the new replica set and revisions -------------------------------------------------------

  /**
   * Finds (or creates) the new replica set and syncs revisions (upstream
   * getAllReplicaSetsAndSyncRevision): the new one gets max(old revisions)+1, and the
   * deployment records the new one's revision.
   */
  private async newAndOld(w: Working, rsList: ReplicaSet[], createIfMissing: boolean): Promise<{ newRS?: ReplicaSet; oldRSs: ReplicaSet[] }> {
    const oldRSs = u.findOldReplicaSets(w.d, rsList);
    const newRS = await this.getNewReplicaSet(w, rsList, oldRSs, createIfMissing);
    return { newRS, oldRSs };
  }

  private async getNewReplicaSet(w: Working, rsList: ReplicaSet[], oldRSs: ReplicaSet[], createIfMissing: boolean): Promise<ReplicaSet | undefined> {
    const d = w.d;
    const existing = u.findNewReplicaSet(d, rsList);
    const newRevision = u.maxRevision(oldRSs) + 1;
    const now = this.clock.now();
    if (existing) {
      const copy = deepCopy(existing);
      const annotationsChanged = u.setNewReplicaSetAnnotations(d, copy, newRevision, true);
      const minReadyChanged = (copy.spec?.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0);
      if (annotationsChanged || minReadyChanged) {
        copy.spec = { ...copy.spec!, minReadySeconds: d.spec?.minReadySeconds };
        if (copy.spec.minReadySeconds === undefined) delete copy.spec.minReadySeconds;
        const updated = await this.o.client.resource(Resources.replicaSets, copy.metadata.namespace).update(copy);
        // Later steps of this sync must see what was written, not the cached copy.
        rsList[rsList.findIndex((x) => x.metadata.uid === updated.metadata.uid)] = updated;
        return updated;
      }
      let needsUpdate = u.setDeploymentRevision(d, copy.metadata.annotations?.[u.revisionAnnotation] ?? '');
      if (u.hasProgressDeadline(d) && !u.getCondition(d.status, 'Progressing')) {
        d.status ??= {};
        u.setCondition(d.status, u.newCondition('Progressing', 'True', u.Reason.FoundNewReplicaSet, `Found new replica set "${copy.metadata.name}"`, now));
        needsUpdate = true;
      }
      if (needsUpdate) await this.writeStatus(w);
      return copy;
    }
    if (!createIfMissing) return undefined;

    const template = deepCopy(d.spec!.template);
    const hash = computeHash(template, d.status?.collisionCount);
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [u.podTemplateHashLabel]: hash } };
    const selector = deepCopy(d.spec!.selector);
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [u.podTemplateHashLabel]: hash };
    const newRS: ReplicaSet = {
      apiVersion,
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        ownerReferences: [newControllerRef(d, apiVersion, kind)],
        labels: { ...template.metadata.labels },
      },
      spec: { replicas: 0, selector, template },
    };
    if (d.spec?.minReadySeconds) newRS.spec!.minReadySeconds = d.spec.minReadySeconds;
    const count = u.newRSNewReplicas(d, [...oldRSs, newRS], newRS);
    newRS.spec!.replicas = count;
    u.setNewReplicaSetAnnotations(d, newRS, newRevision, false);

    let created: ReplicaSet;
    let alreadyExists = false;
    try {
      created = await this.o.client.resource(Resources.replicaSets, d.metadata.namespace).create(newRS);
    } catch (err) {
      if (isAlreadyExists(err)) {
        // A slow cache, or a hash collision with a replica set of another template.
        const rs = this.rsInformer.lister().namespace(d.metadata.namespace ?? '').get(newRS.metadata.name!);
        if (!rs) throw err;
        const ref = getControllerOf(rs);
        if (ref?.uid === d.metadata.uid && u.equalIgnoreHash(d.spec?.template, rs.spec?.template)) {
          created = rs;
          alreadyExists = true;
        } else {
          d.status = { ...(d.status ?? {}), collisionCount: (d.status?.collisionCount ?? 0) + 1 };
          await this.writeStatus(w);
          this.log.info({ deployment: objectKey(d), collisionCount: d.status.collisionCount }, 'hash collision; bumped collisionCount');
          throw err;
        }
      } else if (isNamespaceTerminating(err)) {
        throw err;
      } else {
        const msg = `Failed to create new replica set "${newRS.metadata.name}": ${errorMessage(err)}`;
        if (u.hasProgressDeadline(d)) {
          d.status ??= {};
          u.setCondition(d.status, u.newCondition('Progressing', 'False', u.Reason.FailedRSCreate, msg, now));
          await this.writeStatus(w).catch(() => undefined);
        }
        this.event(d, 'Warning', u.Reason.FailedRSCreate, msg);
        throw err;
      }
    }
    if (!alreadyExists) rsList.push(created);
    if (!alreadyExists && count > 0) this.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} to ${count}`);
    let needsUpdate = u.setDeploymentRevision(d, String(newRevision));
    if (!alreadyExists && u.hasProgressDeadline(d)) {
      d.status ??= {};
      u.setCondition(d.status, u.newCondition('Progressing', 'True', u.Reason.NewReplicaSetCreated, `Created new replica set "${created.metadata.name}"`, now));
      needsUpdate = true;
    }
    if (needsUpdate) await this.writeStatus(w);
    return created;
  }

  // ---- paused, scaling, status only ---------------------------------------------------------------

  /** Records Progressing Unknown/DeploymentPaused (or DeploymentResumed), so a long pause is not mistaken for no progress. */
  private async checkPausedConditions(w: Working): Promise<void> {
    const d = w.d;
    if (!u.hasProgressDeadline(d)) return;
    const cond = u.getCondition(d.status, 'Progressing');
    if (cond?.reason === u.Reason.TimedOut) return;
    const pausedCond = cond?.reason === u.Reason.Paused;
    const now = this.clock.now();
    d.status ??= {};
    if (d.spec?.paused && !pausedCond) u.setCondition(d.status, u.newCondition('Progressing', 'Unknown', u.Reason.Paused, 'Deployment is paused', now));
    else if (!d.spec?.paused && pausedCond) u.setCondition(d.status, u.newCondition('Progressing', 'Unknown', u.Reason.Resumed, 'Deployment is resumed', now));
    else return;
    await this.writeStatus(w);
  }

  /** A change of spec.replicas that the replica sets' desired-replicas annotations do not know yet. */
  private async isScalingEvent(w: Working, rsList: ReplicaSet[]): Promise<boolean> {
    const { newRS, oldRSs } = await this.newAndOld(w, rsList, false);
    for (const rs of u.filterActive([...oldRSs, newRS])) {
      const desired = u.desiredReplicasOf(rs);
      if (desired !== undefined && desired !== u.specReplicas(w.d)) return true;
    }
    return false;
  }

  private async syncStatusOnly(w: Working, rsList: ReplicaSet[]): Promise<ReconcileResult> {
    const { newRS, oldRSs } = await this.newAndOld(w, rsList, false);
    await this.syncDeploymentStatus(w, [...oldRSs, ...(newRS ? [newRS] : [])], newRS);
  }

  /** Paused deployments and scaling events: scale, clean up history (paused), write status. */
  private async syncScale(w: Working, rsList: ReplicaSet[]): Promise<ReconcileResult> {
    const { newRS, oldRSs } = await this.newAndOld(w, rsList, false);
    const all = await this.scale(w.d, newRS, oldRSs);
    if (w.d.spec?.paused) await this.cleanupDeployment(all.oldRSs, w.d);
    await this.syncDeploymentStatus(w, [...all.oldRSs, ...(all.newRS ? [all.newRS] : [])], all.newRS);
  }

  /**
   * Scales for a changed spec.replicas (upstream scale): one active replica set takes it all;
   * a saturated new one means the old go to zero; otherwise, mid rollout, every active replica
   * set grows or shrinks in proportion to its size, leftovers to the largest.
   */
  private async scale(d: Deployment, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<{ newRS?: ReplicaSet; oldRSs: ReplicaSet[] }> {
    const replace = (rs: ReplicaSet) => {
      if (newRS && rs.metadata.uid === newRS.metadata.uid) newRS = rs;
      else oldRSs = oldRSs.map((o) => (o.metadata.uid === rs.metadata.uid ? rs : o));
    };
    const target = u.findActiveOrLatest(newRS, oldRSs);
    if (target) {
      if (u.specReplicas(target) !== u.specReplicas(d)) replace((await this.scaleAndRecord(target, u.specReplicas(d), d)).rs);
      return { newRS, oldRSs };
    }
    if (u.isSaturated(d, newRS)) {
      for (const old of u.filterActive(oldRSs)) replace((await this.scaleAndRecord(old, 0, d)).rs);
      return { newRS, oldRSs };
    }
    if (u.isRollingUpdate(d)) {
      const all = u.filterActive([...oldRSs, newRS]);
      const allowed = u.specReplicas(d) > 0 ? u.specReplicas(d) + u.maxSurge(d) : 0;
      const toAdd = allowed - u.sumSpecReplicas(all);
      let op: 'up' | 'down' | '' = '';
      if (toAdd > 0) {
        all.sort(u.bySizeNewer);
        op = 'up';
      } else if (toAdd < 0) {
        all.sort(u.bySizeOlder);
        op = 'down';
      }
      let added = 0;
      const sizes = new Map<string, number>();
      for (const rs of all) {
        if (toAdd !== 0) {
          const p = u.proportion(rs, d, toAdd, added);
          sizes.set(rs.metadata.name!, u.specReplicas(rs) + p);
          added += p;
        } else sizes.set(rs.metadata.name!, u.specReplicas(rs));
      }
      for (let i = 0; i < all.length; i++) {
        const rs = all[i]!;
        if (i === 0 && toAdd !== 0) sizes.set(rs.metadata.name!, Math.max(0, sizes.get(rs.metadata.name!)! + toAdd - added));
        replace((await this.scaleReplicaSet(rs, sizes.get(rs.metadata.name!)!, d, op)).rs);
      }
    }
    return { newRS, oldRSs };
  }

  // ---- rolling update -----------------------------------------------------------------------------

  private async rolloutRolling(w: Working, rsList: ReplicaSet[]): Promise<ReconcileResult> {
    const d = w.d;
    let { newRS, oldRSs } = await this.newAndOld(w, rsList, true);
    const all = () => [...oldRSs, ...(newRS ? [newRS] : [])];
    // Scale up the new replica set as far as maxSurge allows.
    if (newRS) {
      const r = await this.reconcileNewReplicaSet(all(), newRS, d);
      newRS = r.rs;
      if (r.scaled) return this.syncRolloutStatus(w, all(), newRS);
    }
    // Scale down old replica sets as far as maxUnavailable allows.
    const r = await this.reconcileOldReplicaSets(all(), u.filterActive(oldRSs), newRS, d);
    oldRSs = oldRSs.map((o) => r.updated.get(o.metadata.uid!) ?? o);
    if (r.scaled) return this.syncRolloutStatus(w, all(), newRS);
    if (u.deploymentComplete(d, d.status ?? {})) await this.cleanupDeployment(oldRSs, d);
    return this.syncRolloutStatus(w, all(), newRS);
  }

  private async reconcileNewReplicaSet(all: ReplicaSet[], newRS: ReplicaSet, d: Deployment): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    if (u.specReplicas(newRS) === u.specReplicas(d)) return { scaled: false, rs: newRS };
    if (u.specReplicas(newRS) > u.specReplicas(d)) return this.scaleAndRecord(newRS, u.specReplicas(d), d);
    return this.scaleAndRecord(newRS, u.newRSNewReplicas(d, all, newRS), d);
  }

  /**
   * Scales old replica sets down (upstream reconcileOldReplicaSets): never below
   * replicas - maxUnavailable available pods, counting the new replica set's unavailable
   * pods against the budget; unhealthy old pods go first, as they serve no one.
   */
  private async reconcileOldReplicaSets(all: ReplicaSet[], oldRSs: ReplicaSet[], newRS: ReplicaSet | undefined, d: Deployment): Promise<{ scaled: boolean; updated: Map<string, ReplicaSet> }> {
    const updated = new Map<string, ReplicaSet>();
    if (u.sumSpecReplicas(oldRSs) === 0) return { scaled: false, updated };
    const minAvailable = u.specReplicas(d) - u.maxUnavailable(d);
    const newUnavailable = newRS ? u.specReplicas(newRS) - (newRS.status?.availableReplicas ?? 0) : 0;
    const maxScaledDown = u.sumSpecReplicas(all) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return { scaled: false, updated };

    // First the old replica sets' unhealthy pods, oldest replica sets first.
    let cleaned = 0;
    const olds = [...oldRSs].sort(u.byCreation);
    for (let i = 0; i < olds.length; i++) {
      if (cleaned >= maxScaledDown) break;
      const rs = olds[i]!;
      const unhealthy = u.specReplicas(rs) - (rs.status?.availableReplicas ?? 0);
      if (u.specReplicas(rs) === 0 || unhealthy <= 0) continue;
      const down = Math.min(maxScaledDown - cleaned, unhealthy);
      const r = await this.scaleAndRecord(rs, u.specReplicas(rs) - down, d);
      olds[i] = r.rs;
      updated.set(rs.metadata.uid!, r.rs);
      cleaned += down;
    }
    // Then healthy pods, as far as availability allows. A replica set just scaled down still
    // reports the pods it is about to delete (its status lags its spec): only as many as its
    // spec keeps can count, or a second step would spend the first step's budget again.
    const allNow = [...olds, ...(newRS ? [newRS] : [])];
    const available = allNow.reduce((n, rs) => n + Math.min(rs.status?.availableReplicas ?? 0, u.specReplicas(rs)), 0);
    let scaledDown = 0;
    if (available > minAvailable) {
      const budget = available - minAvailable;
      for (let i = 0; i < olds.length; i++) {
        if (scaledDown >= budget) break;
        const rs = olds[i]!;
        if (u.specReplicas(rs) === 0) continue;
        const down = Math.min(u.specReplicas(rs), budget - scaledDown);
        const r = await this.scaleAndRecord(rs, u.specReplicas(rs) - down, d);
        updated.set(rs.metadata.uid!, r.rs);
        scaledDown += down;
      }
    }
    return { scaled: cleaned + scaledDown > 0, updated };
  }

  // ---- recreate -------------------------------------------------------------------------------------

  private async rolloutRecreate(w: Working, rsList: ReplicaSet[], podMap: Map<string, Pod[]>): Promise<ReconcileResult> {
    const d = w.d;
    let { newRS, oldRSs } = await this.newAndOld(w, rsList, false);
    // All old replica sets to zero first.
    let scaledDown = false;
    oldRSs = await Promise.all(
      oldRSs.map(async (rs) => {
        if (u.specReplicas(rs) === 0) return rs;
        const r = await this.scaleAndRecord(rs, 0, d);
        scaledDown ||= r.scaled;
        return r.rs;
      }),
    );
    const all = () => [...oldRSs, ...(newRS ? [newRS] : [])];
    if (scaledDown) return this.syncRolloutStatus(w, all(), newRS);
    // Then wait until no old pod runs any more.
    if (this.oldPodsRunning(newRS, oldRSs, podMap)) return this.syncRolloutStatus(w, all(), newRS);
    if (!newRS) ({ newRS, oldRSs } = await this.newAndOld(w, rsList, true));
    if (newRS) newRS = (await this.scaleAndRecord(newRS, u.specReplicas(d), d)).rs;
    if (u.deploymentComplete(d, d.status ?? {})) await this.cleanupDeployment(oldRSs, d);
    return this.syncRolloutStatus(w, all(), newRS);
  }

  private oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[], podMap: Map<string, Pod[]>): boolean {
    if (u.sumStatusReplicas(oldRSs) > 0) return true;
    for (const [uid, pods] of podMap) {
      if (newRS && uid === newRS.metadata.uid) continue;
      for (const pod of pods) {
        const phase = pod.status?.phase;
        if (phase === 'Failed' || phase === 'Succeeded') continue;
        return true;
      }
    }
    return false;
  }

  // ---- history -------------------------------------------------------------------------------------

  /** Deletes the oldest replica sets beyond revisionHistoryLimit that have no pods left. */
  private async cleanupDeployment(oldRSs: ReplicaSet[], d: Deployment): Promise<void> {
    if (!u.hasRevisionHistoryLimit(d)) return;
    const alive = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp);
    const diff = alive.length - (d.spec?.revisionHistoryLimit ?? 10);
    if (diff <= 0) return;
    alive.sort(u.byRevision);
    const client = this.o.client.resource(Resources.replicaSets, d.metadata.namespace);
    for (let i = 0; i < diff; i++) {
      const rs = alive[i]!;
      // Not yet drained, or its status is behind its spec: keep it for now.
      if ((rs.status?.replicas ?? 0) !== 0 || u.specReplicas(rs) !== 0 || (rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0) || rs.metadata.deletionTimestamp) continue;
      this.log.debug({ deployment: objectKey(d), replicaSet: rs.metadata.name }, 'deleting old replica set beyond revisionHistoryLimit');
      try {
        await client.delete(rs.metadata.name!, { preconditions: { uid: rs.metadata.uid } });
      } catch (err) {
        if (!/not found/i.test(errorMessage(err))) throw err;
      }
    }
  }

  // ---- status -----------------------------------------------------------------------------------------

  calculateStatus(all: ReplicaSet[], newRS: ReplicaSet | undefined, d: Deployment): DeploymentStatus {
    const available = u.sumAvailableReplicas(all);
    const total = u.sumSpecReplicas(all);
    const status: DeploymentStatus = {
      observedGeneration: d.metadata.generation,
      replicas: u.sumStatusReplicas(all),
      updatedReplicas: u.sumStatusReplicas(newRS ? [newRS] : []),
      readyReplicas: u.sumReadyReplicas(all),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, total - available),
    };
    if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
    if (d.status?.conditions) status.conditions = deepCopy(d.status.conditions);
    const now = this.clock.now();
    if (available >= u.specReplicas(d) - u.maxUnavailable(d)) {
      u.setCondition(status, u.newCondition('Available', 'True', u.Reason.MinimumReplicasAvailable, 'Deployment has minimum availability.', now));
    } else {
      u.setCondition(status, u.newCondition('Available', 'False', u.Reason.MinimumReplicasUnavailable, 'Deployment does not have minimum availability.', now));
    }
    return status;
  }

  private async syncDeploymentStatus(w: Working, all: ReplicaSet[], newRS: ReplicaSet | undefined): Promise<void> {
    const status = this.calculateStatus(all, newRS, w.d);
    if (jsonEqual(w.d.status ?? {}, status) && w.d.metadata.annotations?.[u.revisionAnnotation] === w.storedRevision) return;
    w.d.status = status;
    await this.writeStatus(w);
  }

  /**
   * Status with the Progressing condition (upstream syncRolloutStatus): NewReplicaSetAvailable
   * when complete, ReplicaSetUpdated while anything moves, ProgressDeadlineExceeded once
   * nothing has moved for progressDeadlineSeconds. Requeues at the deadline.
   */
  private async syncRolloutStatus(w: Working, all: ReplicaSet[], newRS: ReplicaSet | undefined): Promise<ReconcileResult> {
    const d = w.d;
    const now = this.clock.now();
    const status = this.calculateStatus(all, newRS, d);
    if (!u.hasProgressDeadline(d)) u.removeCondition(status, 'Progressing');
    const current = u.getCondition(d.status, 'Progressing');
    const isComplete = status.replicas === status.updatedReplicas && current?.reason === u.Reason.NewRSAvailable;
    if (u.hasProgressDeadline(d) && !isComplete) {
      const what = newRS ? `ReplicaSet "${newRS.metadata.name}"` : `Deployment "${d.metadata.name}"`;
      if (u.deploymentComplete(d, status)) {
        u.setCondition(status, u.newCondition('Progressing', 'True', u.Reason.NewRSAvailable, `${what} has successfully progressed.`, now));
      } else if (u.deploymentProgressing(d, status)) {
        const c = u.newCondition('Progressing', 'True', u.Reason.ReplicaSetUpdated, `${what} is progressing.`, now);
        if (current) {
          if (current.status === 'True') c.lastTransitionTime = current.lastTransitionTime;
          u.removeCondition(status, 'Progressing');
        }
        u.setCondition(status, c);
      } else if (u.deploymentTimedOut(d, status, now)) {
        u.setCondition(status, u.newCondition('Progressing', 'False', u.Reason.TimedOut, `${what} has timed out progressing.`, now));
      }
    }
    // Replica sets that failed to create pods: their ReplicaFailure becomes the deployment's.
    const failure = this.replicaFailure(all, newRS);
    if (failure) u.setCondition(status, { ...failure, lastUpdateTime: failure.lastTransitionTime });
    else u.removeCondition(status, 'ReplicaFailure');

    if (jsonEqual(d.status ?? {}, status) && d.metadata.annotations?.[u.revisionAnnotation] === w.storedRevision) return this.requeueStuck(d, status);
    d.status = status;
    await this.writeStatus(w);
    return this.requeueStuck(d, status);
  }

  private replicaFailure(all: ReplicaSet[], newRS: ReplicaSet | undefined): u.DeploymentCondition | undefined {
    const order = newRS ? [newRS, ...all.filter((rs) => rs.metadata.uid !== newRS.metadata.uid)] : all;
    for (const rs of order) {
      const c = rs.status?.conditions?.find((x) => x.type === 'ReplicaFailure');
      if (c) return { type: c.type, status: c.status, lastTransitionTime: c.lastTransitionTime, reason: c.reason, message: c.message };
    }
    return undefined;
  }

  /** A rollout in progress is looked at again when its progress deadline passes. */
  private requeueStuck(d: Deployment, status: DeploymentStatus): ReconcileResult {
    const c = u.getCondition(status, 'Progressing');
    if (!u.hasProgressDeadline(d) || !c || u.deploymentComplete(d, status) || c.reason === u.Reason.TimedOut) return;
    const from = Date.parse(c.lastUpdateTime ?? '');
    if (Number.isNaN(from)) return;
    const after = from + (d.spec!.progressDeadlineSeconds ?? 0) * 1000 - this.clock.now();
    // Deadlines are in whole seconds and timestamps second-precise: look a second after.
    return { requeueAfterMs: Math.max(1000, after + 1000) };
  }
}
