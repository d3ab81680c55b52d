/**
 * The DaemonSet controller: one pod per eligible node. Each sync of a daemon set:
 *
 *   history   find (or record) the ControllerRevision of the current template; its hash
 *             labels the pods made from it (controller-revision-hash)
 *   manage    per node: eligible and no pod → create one, pinned to the node by a required
 *             node affinity on metadata.name (the scheduler binds it, as upstream); a failed
 *             pod → delete it (with backoff); pods that may not stay → delete; extra pods → delete
 *   update    RollingUpdate: replace old pods within maxUnavailable (or surge new ones
 *             within maxSurge); OnDelete: only when users delete old pods
 *   status    desired/current/misscheduled/ready/available/updated counts
 *
 * Creates and deletes are expected (lib/controller expectations) so a lagging pod watch
 * never makes a second pod for a node.
 */
import type { Logger } from 'pino';
import type { ControllerRevision, DaemonSet, KubeObject, Node, Pod, PodTemplateSpec } from '../../api/index.js';
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
import { ControllerExpectations, RateLimitingQueue, type ReconcileResult } from '../../controller/index.js';
import { isAlreadyExists, isNotFound, jsonEqual, labelSelectorFromObject } from '../../machinery/index.js';
import {
  KeyedSerializer,
  PodControl,
  claimObjects,
  compareRevisions,
  compareScheduledThenOldest,
  computeHash,
  controllerUIDIndex,
  ensureIndex,
  equalRevisions,
  getControllerOf,
  indexByControllerUID,
  isNamespaceTerminating,
  isPodAvailable,
  isPodReady,
  maxRevisionNumber,
  newControllerRef,
  nextAvailableIn,
  objectKey,
  podRevisionLabel,
  recheckOwner,
  recordEvent,
  runController,
  scaledValueFromIntOrPercent,
  slowStartBatch,
  slowStartInitialBatchSize,
  templatePatch,
} from '../replicaset/index.js';
import { addDaemonTolerations, nodeShouldRunDaemonPod, pinToNode, targetNodeName } from './node-eligibility.js';

const kind = 'DaemonSet';
const apiVersion = 'apps/v1';
/** Most pods created or deleted per sync (upstream BurstReplicas for daemon sets). */
export const daemonBurstReplicas = 250;
/** Label with the DaemonSet template generation (deprecated, still set when the generation annotation is). */
export const templateGenerationLabel = 'pod-template-generation';
const templateGenerationAnnotation = 'deprecated.daemonset.template.generation';

type DaemonSetStatus = NonNullable<DaemonSet['status']>;

export interface DaemonSetControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  recorder: EventRecorder;
  log?: Logger;
  clock?: Clock;
  workers?: number;
}

/** Per daemon set and node: when a failed pod may next be replaced (1s doubling to 15 minutes). */
class FailedPodBackoff {
  private readonly entries = new Map<string, { delayMs: number; until: number }>();
  constructor(private readonly clock: Clock) {}

  /** Remaining wait, or 0 if a replacement may be made now (which starts the next wait). */
  next(key: string): number {
    const now = this.clock.now();
    const e = this.entries.get(key);
    if (e && now < e.until) return e.until - now;
    const delayMs = e ? Math.min(e.delayMs * 2, 15 * 60_000) : 1000;
    this.entries.set(key, { delayMs, until: now + delayMs });
    return 0;
  }
}

export class DaemonSetController implements Runnable {
  readonly queue: RateLimitingQueue<string>;
  readonly expectations: ControllerExpectations;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly dsInformer: SharedInformer<DaemonSet>;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly nodeInformer: SharedInformer<Node>;
  private readonly revInformer: SharedInformer<ControllerRevision>;
  private readonly podControl: PodControl;
  private readonly backoff: FailedPodBackoff;
  private readonly serializer = new KeyedSerializer();

  constructor(private readonly o: DaemonSetControllerOptions) {
    this.clock = o.clock ?? realClock;
    this.log = o.log ?? silentLogger();
    this.queue = new RateLimitingQueue<string>({ clock: this.clock });
    this.expectations = new ControllerExpectations({ clock: this.clock, log: this.log });
    this.dsInformer = o.informers.informerFor(Resources.daemonSets);
    this.podInformer = o.informers.informerFor(Resources.pods);
    this.nodeInformer = o.informers.informerFor(Resources.nodes);
    this.revInformer = o.informers.informerFor(Resources.controllerRevisions);
    ensureIndex(this.podInformer, controllerUIDIndex, indexByControllerUID);
    ensureIndex(this.revInformer, controllerUIDIndex, indexByControllerUID);
    this.podControl = new PodControl(o.client, o.recorder);
    this.backoff = new FailedPodBackoff(this.clock);
  }

  start(signal: AbortSignal): Promise<void> {
    return runController(signal, {
      name: 'daemonset',
      log: this.log,
      queue: this.queue,
      workers: this.o.workers ?? 2,
      informers: [this.dsInformer, this.podInformer, this.nodeInformer, this.revInformer],
      reconcile: (key) => this.sync(key),
      register: () => [
        this.dsInformer.addEventHandler({
          onAdd: (ds) => this.enqueue(ds),
          onUpdate: (_o, ds) => this.enqueue(ds),
          onDelete: (ds) => {
            const obj = deletedObject(ds);
            this.expectations.deleteExpectations(objectKey(obj));
            this.enqueue(obj);
          },
        }),
        this.podInformer.addEventHandler({
          onAdd: (p) => this.addPod(p),
          onUpdate: (o, p) => this.updatePod(o, p),
          onDelete: (p) => this.deletePod(p),
        }),
        this.nodeInformer.addEventHandler({
          onAdd: (n) => this.addNode(n),
          onUpdate: (o, n) => this.updateNode(o, n),
          onDelete: () => this.enqueueAll(),
        }),
        this.revInformer.addEventHandler({
          onAdd: (r) => this.enqueueOwner(r),
          onUpdate: (_o, r) => this.enqueueOwner(r),
          onDelete: (r) => this.enqueueOwner(deletedObject(r)),
        }),
      ],
    });
  }

  // ---- event handlers ------------------------------------------------------------------

  private enqueue(ds: KubeObject): void {
    this.queue.add(objectKey(ds));
  }

  private enqueueAll(): void {
    for (const ds of this.dsInformer.lister().list()) this.enqueue(ds);
  }

  private resolve(namespace: string, ref: { kind: string; name: string; uid: string } | undefined): DaemonSet | undefined {
    if (!ref || ref.kind !== kind) return undefined;
    const ds = this.dsInformer.lister().namespace(namespace).get(ref.name);
    return ds && ds.metadata.uid === ref.uid ? ds : undefined;
  }

  private enqueueOwner(obj: KubeObject): void {
    const ds = this.resolve(obj.metadata.namespace ?? '', getControllerOf(obj));
    if (ds) this.enqueue(ds);
  }

  private daemonSetsForPod(pod: Pod): DaemonSet[] {
    return this.dsInformer
      .lister()
      .namespace(pod.metadata.namespace ?? '')
      .list()
      .filter((ds) => {
        const sel = labelSelectorFromObject(ds.spec?.selector);
        return !sel.isEmpty() && sel.matches(pod.metadata.labels);
      });
  }

  private addPod(pod: Pod): void {
    if (pod.metadata.deletionTimestamp) return this.deletePod(pod);
    const ref = getControllerOf(pod);
    if (ref) {
      const ds = this.resolve(pod.metadata.namespace ?? '', ref);
      if (!ds) return;
      this.expectations.creationObserved(objectKey(ds));
      this.enqueue(ds);
      return;
    }
    for (const ds of this.daemonSetsForPod(pod)) this.enqueue(ds);
  }

  private updatePod(old: Pod, cur: Pod): void {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    if (cur.metadata.deletionTimestamp) {
      this.deletePod(cur);
      return;
    }
    const curRef = getControllerOf(cur);
    const oldRef = getControllerOf(old);
    const refChanged = !jsonEqual(curRef, oldRef);
    if (refChanged && oldRef) {
      const ds = this.resolve(old.metadata.namespace ?? '', oldRef);
      if (ds) this.enqueue(ds);
    }
    if (curRef) {
      const ds = this.resolve(cur.metadata.namespace ?? '', curRef);
      if (!ds) return;
      this.enqueue(ds);
      const minReady = ds.spec?.minReadySeconds ?? 0;
      if (!isPodReady(old) && isPodReady(cur) && minReady > 0) this.queue.addAfter(objectKey(ds), minReady * 1000 + 1000);
      return;
    }
    if (refChanged || !jsonEqual(old.metadata.labels ?? {}, cur.metadata.labels ?? {})) for (const ds of this.daemonSetsForPod(cur)) this.enqueue(ds);
  }

  private deletePod(obj: Pod | DeletedFinalStateUnknown<Pod>): void {
    const pod = deletedObject(obj);
    const ds = this.resolve(pod.metadata.namespace ?? '', getControllerOf(pod));
    if (!ds) return;
    this.expectations.deletionObserved(objectKey(ds));
    this.enqueue(ds);
  }

  private addNode(node: Node): void {
    for (const ds of this.dsInformer.lister().list()) if (nodeShouldRunDaemonPod(node, ds.spec?.template).shouldRun) this.enqueue(ds);
  }

  private updateNode(old: Node, cur: Node): void {
    // Heartbeats change nothing that matters here.
    const relevant = (n: Node) => ({ labels: n.metadata.labels ?? {}, taints: n.spec?.taints ?? [], unschedulable: !!n.spec?.unschedulable, conds: (n.status?.conditions ?? []).map((c) => `${c.type}=${c.status}`) });
    if (jsonEqual(relevant(old), relevant(cur))) return;
    for (const ds of this.dsInformer.lister().list()) {
      const a = nodeShouldRunDaemonPod(old, ds.spec?.template);
      const b = nodeShouldRunDaemonPod(cur, ds.spec?.template);
      if (a.shouldRun !== b.shouldRun || a.shouldContinueRunning !== b.shouldContinueRunning) this.enqueue(ds);
    }
  }

  // ---- sync ------------------------------------------------------------------------------

  sync(key: string): Promise<ReconcileResult> {
    return this.serializer.run(key, () => this.syncOnce(key));
  }

  private event(ds: DaemonSet, type: 'Normal' | 'Warning', reason: string, message: string): void {
    recordEvent(this.o.recorder, ds, apiVersion, kind, type, reason, message);
  }

  private async syncOnce(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const ds = this.dsInformer.lister().namespace(namespace ?? '').get(name);
    if (!ds) {
      this.expectations.deleteExpectations(key);
      return;
    }
    const nodes = this.nodeInformer.lister().list();
    const selector = labelSelectorFromObject(ds.spec?.selector);
    if (selector.isEmpty()) {
      this.event(ds, 'Warning', 'SelectingAll', 'This daemon set is selecting all pods. A non-empty selector is required.');
      return;
    }
    // Being deleted: the garbage collector takes the pods; nothing to do.
    if (ds.metadata.deletionTimestamp) return;

    const { cur, old } = await this.constructHistory(ds);
    const hash = cur.metadata.labels?.[podRevisionLabel] ?? '';
    let requeueAfterMs: number | undefined;
    if (this.expectations.satisfiedExpectations(key)) {
      const nodeToPods = await this.nodesToDaemonPods(ds);
      requeueAfterMs = await this.manage(key, ds, nodes, nodeToPods, hash);
      if (this.expectations.satisfiedExpectations(key) && (ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
        await this.rollingUpdate(key, ds, nodes, hash);
      }
      await this.cleanupHistory(ds, old);
    }
    const statusRequeue = await this.updateStatus(ds, nodes, hash);
    const wait = [requeueAfterMs, statusRequeue].filter((x): x is number => x !== undefined);
    return wait.length ? { requeueAfterMs: Math.min(...wait) } : undefined;
  }

  /** The pods of the daemon set (claimed), grouped by the node they are on or for. */
  private async nodesToDaemonPods(ds: DaemonSet): Promise<Map<string, Pod[]>> {
    const ns = ds.metadata.namespace!;
    const claimed = await claimObjects(this.podInformer.lister().namespace(ns).list(), {
      owner: ds,
      controllerRef: newControllerRef(ds, apiVersion, kind),
      selector: labelSelectorFromObject(ds.spec?.selector),
      canAdopt: recheckOwner(kind, ds, () => this.o.client.resource(Resources.daemonSets, ns).get(ds.metadata.name!)),
      patch: (p, patch) => this.podControl.patchPod(ns, p.metadata.name!, patch),
    });
    const m = new Map<string, Pod[]>();
    for (const pod of claimed) {
      // Finished pods already being deleted are as good as gone.
      if (pod.metadata.deletionTimestamp && (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed')) continue;
      const node = targetNodeName(pod.spec);
      if (!node) continue;
      if (!m.has(node)) m.set(node, []);
      m.get(node)!.push(pod);
    }
    return m;
  }

  /** Creates missing daemon pods and deletes those that should not be (upstream manage). */
  private async manage(key: string, ds: DaemonSet, nodes: Node[], nodeToPods: Map<string, Pod[]>, hash: string): Promise<number | undefined> {
    const create: string[] = [];
    const remove: string[] = [];
    let requeue: number | undefined;
    const now = this.clock.now();
    for (const node of nodes) {
      const nodeName = node.metadata.name!;
      const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds.spec?.template);
      const pods = nodeToPods.get(nodeName);
      if (shouldRun && !pods) {
        create.push(nodeName);
      } else if (shouldContinueRunning && pods) {
        const running: Pod[] = [];
        for (const pod of pods) {
          if (pod.metadata.deletionTimestamp) continue;
          if (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded') {
            // Often a kubelet refusing the pod: replace it, but not in a hot loop.
            const wait = this.backoff.next(`${key}/${nodeName}`);
            if (wait > 0) {
              requeue = Math.min(requeue ?? Infinity, wait);
              continue;
            }
            if (pod.status?.phase === 'Failed') this.event(ds, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${pod.metadata.namespace}/${pod.metadata.name} on node ${nodeName}, will try to kill it`);
            remove.push(pod.metadata.name!);
          } else running.push(pod);
        }
        if (!allowsSurge(ds)) {
          // One pod per node: keep the oldest.
          if (running.length > 1) remove.push(...[...running].sort(compareScheduledThenOldest).slice(1).map((p) => p.metadata.name!));
        } else if (running.length > 1) {
          // Surging: an old and a new pod may coexist until the new one is available.
          let oldestNew: Pod | undefined;
          let oldestOld: Pod | undefined;
          for (const pod of [...running].sort(compareScheduledThenOldest)) {
            if (pod.metadata.labels?.[podRevisionLabel] === hash) {
              if (!oldestNew) {
                oldestNew = pod;
                continue;
              }
            } else if (!oldestOld) {
              oldestOld = pod;
              continue;
            }
            remove.push(pod.metadata.name!);
          }
          if (oldestNew && oldestOld && (!isPodReady(oldestOld) || isPodAvailable(oldestNew, ds.spec?.minReadySeconds ?? 0, now))) remove.push(oldestOld.metadata.name!);
        }
      } else if (!shouldContinueRunning && pods) {
        for (const pod of pods) if (!pod.metadata.deletionTimestamp) remove.push(pod.metadata.name!);
      }
    }
    // Pods pinned to nodes that no longer exist and never got scheduled.
    const existing = new Set(nodes.map((n) => n.metadata.name!));
    for (const [nodeName, pods] of nodeToPods) {
      if (existing.has(nodeName)) continue;
      for (const pod of pods) if (!pod.spec?.nodeName && !pod.metadata.deletionTimestamp) remove.push(pod.metadata.name!);
    }
    await this.syncNodes(key, ds, remove, create, hash);
    return requeue;
  }

  /** The template pods are made from: daemon tolerations, the revision hash and generation labels. */
  private podTemplate(ds: DaemonSet, hash: string): PodTemplateSpec {
    const t = deepCopy(ds.spec!.template);
    t.spec ??= { containers: [] };
    addDaemonTolerations(t.spec);
    t.metadata = { ...(t.metadata ?? {}), labels: { ...(t.metadata?.labels ?? {}) } };
    const generation = ds.metadata.annotations?.[templateGenerationAnnotation];
    if (generation) t.metadata.labels![templateGenerationLabel] = generation;
    if (hash) t.metadata.labels![podRevisionLabel] = hash;
    return t;
  }

  private async syncNodes(key: string, ds: DaemonSet, remove: string[], create: string[], hash: string): Promise<void> {
    const ns = ds.metadata.namespace!;
    const toCreate = create.slice(0, daemonBurstReplicas);
    const toDelete = [...new Set(remove)].slice(0, daemonBurstReplicas);
    if (toCreate.length === 0 && toDelete.length === 0) return;
    this.expectations.setExpectations(key, toCreate.length, toDelete.length);
    const owner = { obj: ds, apiVersion, kind };
    const template = this.podTemplate(ds, hash);
    const ref = newControllerRef(ds, apiVersion, kind);
    const errors: unknown[] = [];
    const { attempted, error } = await slowStartBatch(toCreate.length, slowStartInitialBatchSize, async (i) => {
      const nodeName = toCreate[i]!;
      try {
        await this.podControl.createPod(ns, template, owner, ref, (pod) => {
          pod.spec = { ...pod.spec!, affinity: pinToNode(pod.spec?.affinity, nodeName) };
        });
      } catch (err) {
        this.expectations.creationObserved(key);
        if (isNamespaceTerminating(err)) return;
        throw err;
      }
    });
    for (let i = attempted; i < toCreate.length; i++) this.expectations.creationObserved(key);
    if (error) errors.push(error);
    const results = await Promise.allSettled(
      toDelete.map(async (podName) => {
        try {
          await this.podControl.deletePod(ns, podName, owner);
        } catch (err) {
          this.expectations.deletionObserved(key);
          if (!isNotFound(err)) throw err;
        }
      }),
    );
    for (const r of results) if (r.status === 'rejected') errors.push(r.reason);
    if (errors.length) throw errors[0];
  }

  /**
   * Replaces old pods (upstream rollingUpdate). Without surge: delete old pods while fewer
   * than maxUnavailable nodes lack an available pod (unavailable old pods go first, they
   * cost nothing); manage() then creates their replacements. With surge: create new pods
   * next to old ones on up to maxSurge nodes, delete an old pod once its new one is available.
   */
  private async rollingUpdate(key: string, ds: DaemonSet, nodes: Node[], hash: string): Promise<void> {
    const nodeToPods = await this.nodesToDaemonPods(ds);
    let desired = 0;
    for (const node of nodes) {
      if (!nodeShouldRunDaemonPod(node, ds.spec?.template).shouldRun) continue;
      desired++;
      if (!nodeToPods.has(node.metadata.name!)) nodeToPods.set(node.metadata.name!, []);
    }
    const ru = ds.spec?.updateStrategy?.rollingUpdate;
    let maxUnavailable = scaledValueFromIntOrPercent(ru?.maxUnavailable ?? 1, desired, true);
    const maxSurge = allowsSurge(ds) ? scaledValueFromIntOrPercent(ru?.maxSurge ?? 0, desired, true) : 0;
    if (maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1;
    const now = this.clock.now();
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const available = (p: Pod) => isPodAvailable(p, minReady, now);

    if (maxSurge === 0) {
      let unavailable = 0;
      const replaceNow: string[] = [];
      const candidates: string[] = [];
      for (const pods of nodeToPods.values()) {
        const r = updatedPodsOnNode(pods, hash);
        if (!r.ok) {
          unavailable++;
          continue;
        }
        const { newPod, oldPod } = r;
        if ((!oldPod && !newPod) || (oldPod && newPod)) unavailable++;
        else if (newPod) {
          if (!available(newPod)) unavailable++;
        } else if (oldPod) {
          if (!available(oldPod)) replaceNow.push(oldPod.metadata.name!);
          else if (unavailable < maxUnavailable) candidates.push(oldPod.metadata.name!);
        }
      }
      const room = Math.min(Math.max(0, maxUnavailable - unavailable), candidates.length);
      await this.syncNodes(key, ds, [...replaceNow, ...candidates.slice(0, room)], [], hash);
      return;
    }

    let surging = 0;
    const allowedNew: string[] = [];
    const candidateNew: string[] = [];
    const deleteOld: string[] = [];
    const nodeByName = new Map(nodes.map((n) => [n.metadata.name!, n]));
    for (const [nodeName, pods] of nodeToPods) {
      const r = updatedPodsOnNode(pods, hash);
      if (!r.ok) continue;
      const { newPod, oldPod } = r;
      if (!oldPod) continue;
      if (!newPod) {
        if (!available(oldPod)) {
          const node = nodeByName.get(nodeName);
          if (node && nodeShouldRunDaemonPod(node, ds.spec?.template).shouldRun) allowedNew.push(nodeName);
        } else if (surging < maxSurge) candidateNew.push(nodeName);
      } else if (!available(newPod)) surging++;
      else deleteOld.push(oldPod.metadata.name!);
    }
    const room = Math.min(Math.max(0, maxSurge - surging), candidateNew.length);
    await this.syncNodes(key, ds, deleteOld, [...allowedNew, ...candidateNew.slice(0, room)], hash);
  }

  // ---- history ----------------------------------------------------------------------------

  private async constructHistory(ds: DaemonSet): Promise<{ cur: ControllerRevision; old: ControllerRevision[] }> {
    const ns = ds.metadata.namespace!;
    const revisions = this.o.client.resource(Resources.controllerRevisions, ns);
    const owned = await claimObjects(this.revInformer.lister().namespace(ns).list(), {
      owner: ds,
      controllerRef: newControllerRef(ds, apiVersion, kind),
      selector: labelSelectorFromObject(ds.spec?.selector),
      canAdopt: recheckOwner(kind, ds, () => this.o.client.resource(Resources.daemonSets, ns).get(ds.metadata.name!)),
      patch: (r, patch) => revisions.patch(r.metadata.name!, 'strategic', patch),
    });
    const data = templatePatch(ds.spec?.template);
    const current: ControllerRevision[] = [];
    const old: ControllerRevision[] = [];
    for (let rev of owned) {
      if (!rev.metadata.labels?.[podRevisionLabel]) {
        const copy = deepCopy(rev);
        copy.metadata.labels = { ...(copy.metadata.labels ?? {}), [podRevisionLabel]: copy.metadata.name! };
        rev = await revisions.update(copy);
      }
      if (jsonEqual(rev.data ?? null, data)) current.push(rev);
      else old.push(rev);
    }
    const next = maxRevisionNumber(old) + 1;
    let cur: ControllerRevision;
    if (current.length === 0) cur = await this.snapshot(ds, next, data);
    else {
      cur = await this.dedupCurrent(ds, current);
      if (cur.revision < next) cur = await revisions.update({ ...deepCopy(cur), revision: next });
    }
    return { cur, old };
  }

  /** Records the current template as a revision named `<ds>-<hash>`. */
  private async snapshot(ds: DaemonSet, revision: number, data: unknown): Promise<ControllerRevision> {
    const ns = ds.metadata.namespace!;
    const hash = computeHash(ds.spec?.template, ds.status?.collisionCount);
    const cr: ControllerRevision = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name: `${ds.metadata.name}-${hash}`,
        namespace: ns,
        labels: { ...(ds.spec?.template?.metadata?.labels ?? {}), [podRevisionLabel]: hash },
        ownerReferences: [newControllerRef(ds, apiVersion, kind)],
      },
      data: data as ControllerRevision['data'],
      revision,
    };
    if (ds.metadata.annotations) cr.metadata.annotations = { ...ds.metadata.annotations };
    const revisions = this.o.client.resource(Resources.controllerRevisions, ns);
    try {
      return await revisions.create(cr);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const existing = await revisions.get(cr.metadata.name!);
      if (equalRevisions(existing, cr)) return existing;
      // A hash collision: bump the collision count so the next hash differs.
      const fresh = await this.o.client.resource(Resources.daemonSets, ns).get(ds.metadata.name!);
      if ((fresh.status?.collisionCount ?? 0) !== (ds.status?.collisionCount ?? 0)) throw new Error(`found a stale collision count of DaemonSet ${ns}/${ds.metadata.name}; will retry`);
      fresh.status = { ...(fresh.status ?? { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 }), collisionCount: (fresh.status?.collisionCount ?? 0) + 1 };
      await this.o.client.resource(Resources.daemonSets, ns).updateStatus(fresh);
      throw err;
    }
  }

  /** Several revisions with the current template (a race): keep the newest, move pods to its hash, delete the rest. */
  private async dedupCurrent(ds: DaemonSet, current: ControllerRevision[]): Promise<ControllerRevision> {
    if (current.length === 1) return current[0]!;
    const sorted = [...current].sort(compareRevisions);
    const keep = sorted[sorted.length - 1]!;
    const keepHash = keep.metadata.labels![podRevisionLabel]!;
    const ns = ds.metadata.namespace!;
    for (const dup of sorted.slice(0, -1)) {
      const dupHash = dup.metadata.labels?.[podRevisionLabel];
      for (const pod of this.podInformer.lister().namespace(ns).list()) {
        if (getControllerOf(pod)?.uid !== ds.metadata.uid || pod.metadata.labels?.[podRevisionLabel] !== dupHash) continue;
        await this.podControl.patchPod(ns, pod.metadata.name!, { metadata: { labels: { [podRevisionLabel]: keepHash } } });
      }
      await this.o.client
        .resource(Resources.controllerRevisions, ns)
        .delete(dup.metadata.name!)
        .catch((err) => {
          if (!isNotFound(err)) throw err;
        });
    }
    return keep;
  }

  /** Deletes the oldest revisions beyond revisionHistoryLimit that no pod uses. */
  private async cleanupHistory(ds: DaemonSet, old: ControllerRevision[]): Promise<void> {
    let toKill = old.length - (ds.spec?.revisionHistoryLimit ?? 10);
    if (toKill <= 0) return;
    const live = new Set<string>();
    for (const pod of this.podInformer.getIndexer().byIndex(controllerUIDIndex, ds.metadata.uid!)) {
      const h = pod.metadata.labels?.[podRevisionLabel];
      if (h) live.add(h);
    }
    const revisions = this.o.client.resource(Resources.controllerRevisions, ds.metadata.namespace);
    for (const rev of [...old].sort(compareRevisions)) {
      if (toKill <= 0) break;
      if (live.has(rev.metadata.labels?.[podRevisionLabel] ?? '')) continue;
      await revisions.delete(rev.metadata.name!).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
      toKill--;
    }
  }

  // ---- status -------------------------------------------------------------------------------

  private async updateStatus(ds: DaemonSet, nodes: Node[], hash: string): Promise<number | undefined> {
    const byNode = new Map<string, Pod[]>();
    for (const pod of this.podInformer.getIndexer().byIndex(controllerUIDIndex, ds.metadata.uid!)) {
      if (pod.metadata.deletionTimestamp && (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed')) continue;
      const node = targetNodeName(pod.spec);
      if (!node) continue;
      if (!byNode.has(node)) byNode.set(node, []);
      byNode.get(node)!.push(pod);
    }
    const now = this.clock.now();
    const minReady = ds.spec?.minReadySeconds ?? 0;
    let desired = 0;
    let current = 0;
    let misscheduled = 0;
    let ready = 0;
    let available = 0;
    let updated = 0;
    const firstPods: Pod[] = [];
    for (const node of nodes) {
      const pods = byNode.get(node.metadata.name!) ?? [];
      const { shouldRun } = nodeShouldRunDaemonPod(node, ds.spec?.template);
      if (shouldRun) {
        desired++;
        if (pods.length === 0) continue;
        current++;
        const pod = [...pods].sort(compareScheduledThenOldest)[0]!;
        firstPods.push(pod);
        if (isPodReady(pod)) {
          ready++;
          if (isPodAvailable(pod, minReady, now)) available++;
        }
        if (isPodUpdated(pod, hash, ds.metadata.annotations?.[templateGenerationAnnotation])) updated++;
      } else if (pods.length > 0) misscheduled++;
    }
    const status: DaemonSetStatus = {
      ...(ds.status ?? {}),
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      desiredNumberScheduled: desired,
      numberReady: ready,
      numberAvailable: available,
      updatedNumberScheduled: updated,
      numberUnavailable: desired - available,
      observedGeneration: ds.metadata.generation,
    };
    if (!jsonEqual(ds.status ?? {}, status)) {
      const client = this.o.client.resource(Resources.daemonSets, ds.metadata.namespace);
      try {
        await client.updateStatus({ ...deepCopy(ds), status });
      } catch (err) {
        // One retry on a fresh copy, as upstream.
        const fresh = await client.get(ds.metadata.name!);
        await client.updateStatus({ ...fresh, status: { ...status, collisionCount: fresh.status?.collisionCount } }).catch(() => {
          throw err;
        });
      }
    }
    if (minReady > 0 && ready !== available) return nextAvailableIn(firstPods, minReady, now);
    return undefined;
  }
}

function allowsSurge(ds: DaemonSet): boolean {
  const ru = ds.spec?.updateStrategy;
  if ((ru?.type ?? 'RollingUpdate') !== 'RollingUpdate') return false;
  const s = ru?.rollingUpdate?.maxSurge;
  return s !== undefined && s !== 0 && s !== '0%';
}

/** Made from the current template: its revision hash (or template generation) matches. */
export function isPodUpdated(pod: Pod, hash: string, generation: string | undefined): boolean {
  const hashMatches = hash !== '' && pod.metadata.labels?.[podRevisionLabel] === hash;
  const genMatches = generation !== undefined && pod.metadata.labels?.[templateGenerationLabel] === generation;
  return hashMatches || genMatches;
}

/** The node's one new and one old pod (not being deleted); ok false if it has two of either. */
function updatedPodsOnNode(pods: Pod[], hash: string): { ok: boolean; newPod?: Pod; oldPod?: Pod } {
  let newPod: Pod | undefined;
  let oldPod: Pod | undefined;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    if (pod.metadata.labels?.[podRevisionLabel] === hash) {
      if (newPod) return { ok: false };
      newPod = pod;
    } else {
      if (oldPod) return { ok: false };
      oldPod = pod;
    }
  }
  return { ok: true, newPod, oldPod };
}
