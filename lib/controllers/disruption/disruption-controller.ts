/**
 * The disruption controller: keeps each PodDisruptionBudget's status current, which is what
 * pods/eviction consults. For a budget it counts
 *
 *   expectedPods    minAvailable as a number: the pods it selects; maxUnavailable or a
 *                   percentage: the replicas of their controllers (RC, Deployment, ReplicaSet,
 *                   StatefulSet, or anything with a scale subresource)
 *   desiredHealthy  minAvailable, or expectedPods - maxUnavailable (percentages rounded up)
 *   currentHealthy  ready pods not being deleted and not just evicted
 *   disruptionsAllowed = currentHealthy - desiredHealthy (never below 0; 0 without pods)
 *
 * and the DisruptionAllowed condition (SufficientPods / InsufficientPods / SyncFailed).
 * Pods the eviction API just evicted (status.disruptedPods) count as unhealthy for two
 * minutes, or until they are seen going.
 */
import type { Logger } from 'pino';
import type { Deployment, KubeObject, Pod, PodDisruptionBudget, ReplicaSet, ReplicationController, StatefulSet } from '../../api/index.js';
import { builtinResources } from '../../api/index.js';
import { rfc3339, realClock, silentLogger, type Clock, type Runnable } from '../../base/index.js';
import {
  Resources,
  deepCopy,
  deletedObject,
  findDescriptor,
  splitMetaNamespaceKey,
  type EventRecorder,
  type KubeClient,
  type SharedInformer,
  type SharedInformerFactory,
} from '../../client/index.js';
import { RateLimitingQueue, type ReconcileResult } from '../../controller/index.js';
import { formatLabelSelector, isConflict, isNotFound, jsonEqual, labelSelectorFromObject } from '../../machinery/index.js';
import { KeyedSerializer, errorMessage, getControllerOf, isPodReady, objectKey, parseTime, recordEvent, runController, scaledValueFromIntOrPercent } from '../replicaset/index.js';

const kind = 'PodDisruptionBudget';
const apiVersion = 'policy/v1';
/** How long an evicted pod counts as disrupted if it is not seen being deleted (upstream DeletionTimeout). */
export const deletionTimeoutMs = 2 * 60_000;

type PDBStatus = NonNullable<PodDisruptionBudget['status']>;
type Condition = NonNullable<PDBStatus['conditions']>[number];
type Ref = { kind: string; name: string; uid: string; apiVersion: string };

export interface DisruptionControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  recorder: EventRecorder;
  log?: Logger;
  clock?: Clock;
  workers?: number;
  /** Budgets are synced again this often whatever happens (upstream 30s). */
  resyncMs?: number;
}

export class DisruptionController implements Runnable {
  readonly queue: RateLimitingQueue<string>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly pdbInformer: SharedInformer<PodDisruptionBudget>;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly rcInformer: SharedInformer<ReplicationController>;
  private readonly rsInformer: SharedInformer<ReplicaSet>;
  private readonly dInformer: SharedInformer<Deployment>;
  private readonly ssInformer: SharedInformer<StatefulSet>;
  private readonly serializer = new KeyedSerializer();

  constructor(private readonly o: DisruptionControllerOptions) {
    this.clock = o.clock ?? realClock;
    this.log = o.log ?? silentLogger();
    this.queue = new RateLimitingQueue<string>({ clock: this.clock });
    this.pdbInformer = o.informers.informerFor(Resources.podDisruptionBudgets);
    this.podInformer = o.informers.informerFor(Resources.pods);
    this.rcInformer = o.informers.informerFor(Resources.replicationControllers);
    this.rsInformer = o.informers.informerFor(Resources.replicaSets);
    this.dInformer = o.informers.informerFor(Resources.deployments);
    this.ssInformer = o.informers.informerFor(Resources.statefulSets);
  }

  start(signal: AbortSignal): Promise<void> {
    const scaleChanged = (old: KubeObject, cur: KubeObject) => {
      const r = (o: KubeObject) => (o as { spec?: { replicas?: number } }).spec?.replicas;
      if (r(old) !== r(cur)) this.enqueueNamespace(cur.metadata.namespace ?? '');
    };
    return runController(signal, {
      name: 'disruption',
      log: this.log,
      queue: this.queue,
      workers: this.o.workers ?? 5,
      informers: [this.pdbInformer, this.podInformer, this.rcInformer, this.rsInformer, this.dInformer, this.ssInformer],
      reconcile: (key) => this.sync(key),
      register: () => [
        this.pdbInformer.addEventHandler(
          {
            onAdd: (p) => this.enqueue(p),
            onUpdate: (_o, p) => this.enqueue(p),
            onDelete: (p) => this.enqueue(deletedObject(p)),
          },
          { resyncPeriodMs: this.o.resyncMs ?? 30_000 },
        ),
        this.podInformer.addEventHandler({
          onAdd: (p) => this.enqueueFor(p),
          onUpdate: (old, p) => {
            if (!jsonEqual(old.metadata.labels ?? {}, p.metadata.labels ?? {})) this.enqueueFor(old);
            this.enqueueFor(p);
          },
          onDelete: (p) => this.enqueueFor(deletedObject(p)),
        }),
        // Scale changes move expectedPods; upstream waits for the 30s resync, this is quicker.
        this.rcInformer.addEventHandler({ onUpdate: scaleChanged }),
        this.rsInformer.addEventHandler({ onUpdate: scaleChanged }),
        this.dInformer.addEventHandler({ onUpdate: scaleChanged }),
        this.ssInformer.addEventHandler({ onUpdate: scaleChanged }),
      ],
    });
  }

  private enqueue(pdb: KubeObject, afterMs = 0): void {
    if (afterMs > 0) this.queue.addAfter(objectKey(pdb), afterMs);
    else this.queue.add(objectKey(pdb));
  }

  private enqueueNamespace(ns: string): void {
    for (const pdb of this.pdbInformer.lister().namespace(ns).list()) this.enqueue(pdb);
  }

  /** The budgets covering a pod. */
  private enqueueFor(pod: Pod): void {
    for (const pdb of this.pdbInformer.lister().namespace(pod.metadata.namespace ?? '').list()) {
      if (labelSelectorFromObject(pdb.spec?.selector).matches(pod.metadata.labels)) this.enqueue(pdb);
    }
  }

  private event(pdb: PodDisruptionBudget, type: 'Normal' | 'Warning', reason: string, message: string): void {
    recordEvent(this.o.recorder, pdb, apiVersion, kind, type, reason, message);
  }

  sync(key: string): Promise<ReconcileResult> {
    return this.serializer.run(key, () => this.syncOnce(key));
  }

  private async syncOnce(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const pdb = this.pdbInformer.lister().namespace(namespace ?? '').get(name);
    if (!pdb) return;
    try {
      return await this.trySync(pdb);
    } catch (err) {
      if (isConflict(err)) throw err;
      this.log.info({ pdb: key, err: errorMessage(err) }, 'failed to sync budget; no disruptions allowed');
      await this.failSafe(pdb, err);
    }
  }

  private async trySync(pdb: PodDisruptionBudget): Promise<ReconcileResult> {
    const pods = this.podInformer.lister().namespace(pdb.metadata.namespace ?? '').list(labelSelectorFromObject(pdb.spec?.selector));
    if (pods.length === 0) this.event(pdb, 'Normal', 'NoPods', 'No matching pods found');
    let counts: { expected: number; desiredHealthy: number; unmanaged: string[] };
    try {
      counts = await this.expectedPodCount(pdb, pods);
    } catch (err) {
      this.event(pdb, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${errorMessage(err)}`);
      throw err;
    }
    if (counts.unmanaged.length > 0) {
      this.event(
        pdb,
        'Warning',
        'UnmanagedPods',
        `Pods selected by this PodDisruptionBudget (selector: ${formatLabelSelector(pdb.spec?.selector)}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.`,
      );
    }
    const now = this.clock.now();
    const { disrupted, recheckAt } = this.disruptedPods(pods, pdb, now);
    const healthy = countHealthy(pods, disrupted, now);
    await this.updateStatus(pdb, healthy, counts.desiredHealthy, counts.expected, disrupted);
    if (recheckAt !== undefined) return { requeueAfterMs: Math.max(1, recheckAt - now) };
  }

  /** expectedPods and desiredHealthy (upstream getExpectedPodCount), and the pods no controller owns. */
  private async expectedPodCount(pdb: PodDisruptionBudget, pods: Pod[]): Promise<{ expected: number; desiredHealthy: number; unmanaged: string[] }> {
    const { minAvailable, maxUnavailable } = pdb.spec ?? {};
    if (maxUnavailable !== undefined && maxUnavailable !== null) {
      const { expected, unmanaged } = await this.expectedScale(pods);
      const max = scaledValueFromIntOrPercent(maxUnavailable, expected, true);
      return { expected, desiredHealthy: Math.max(0, expected - max), unmanaged };
    }
    if (minAvailable !== undefined && minAvailable !== null) {
      if (typeof minAvailable === 'number') return { expected: pods.length, desiredHealthy: minAvailable, unmanaged: [] };
      const { expected, unmanaged } = await this.expectedScale(pods);
      return { expected, desiredHealthy: scaledValueFromIntOrPercent(minAvailable, expected, true), unmanaged };
    }
    return { expected: 0, desiredHealthy: 0, unmanaged: [] };
  }

  /** The sum of the replicas of the controllers of these pods. */
  private async expectedScale(pods: Pod[]): Promise<{ expected: number; unmanaged: string[] }> {
    const scales = new Map<string, number>();
    const seen = new Set<string>();
    const unmanaged: string[] = [];
    for (const pod of pods) {
      const ref = getControllerOf(pod);
      if (!ref) {
        unmanaged.push(pod.metadata.name!);
        continue;
      }
      if (seen.has(ref.uid)) continue;
      seen.add(ref.uid);
      const ns = pod.metadata.namespace ?? '';
      const found = this.rcScale(ref, ns) ?? this.deploymentScale(ref, ns) ?? this.replicaSetScale(ref, ns) ?? this.statefulSetScale(ref, ns) ?? (await this.genericScale(ref, ns));
      if (!found) throw new Error(`found no controllers for pod "${pod.metadata.name}"`);
      scales.set(found.uid, found.scale);
    }
    let expected = 0;
    for (const n of scales.values()) expected += n;
    return { expected, unmanaged };
  }

  private rcScale(ref: Ref, ns: string): { uid: string; scale: number } | undefined {
    if (ref.kind !== 'ReplicationController' || ref.apiVersion !== 'v1') return undefined;
    const rc = this.rcInformer.lister().namespace(ns).get(ref.name);
    return rc && rc.metadata.uid === ref.uid ? { uid: rc.metadata.uid!, scale: rc.spec?.replicas ?? 1 } : undefined;
  }

  private deploymentScale(ref: Ref, ns: string): { uid: string; scale: number } | undefined {
    if (ref.kind !== 'ReplicaSet' || !ref.apiVersion.startsWith('apps/')) return undefined;
    const rs = this.rsInformer.lister().namespace(ns).get(ref.name);
    if (!rs || rs.metadata.uid !== ref.uid) return undefined;
    const dref = getControllerOf(rs);
    if (!dref || dref.kind !== 'Deployment') return undefined;
    const d = this.dInformer.lister().namespace(ns).get(dref.name);
    return d && d.metadata.uid === dref.uid ? { uid: d.metadata.uid!, scale: d.spec?.replicas ?? 1 } : undefined;
  }

  private replicaSetScale(ref: Ref, ns: string): { uid: string; scale: number } | undefined {
    if (ref.kind !== 'ReplicaSet' || !ref.apiVersion.startsWith('apps/')) return undefined;
    const rs = this.rsInformer.lister().namespace(ns).get(ref.name);
    if (!rs || rs.metadata.uid !== ref.uid) return undefined;
    // A deployment's replica set is counted by the deployment.
    if (getControllerOf(rs)?.kind === 'Deployment') return undefined;
    return { uid: rs.metadata.uid!, scale: rs.spec?.replicas ?? 1 };
  }

  private statefulSetScale(ref: Ref, ns: string): { uid: string; scale: number } | undefined {
    if (ref.kind !== 'StatefulSet' || !ref.apiVersion.startsWith('apps/')) return undefined;
    const ss = this.ssInformer.lister().namespace(ns).get(ref.name);
    return ss && ss.metadata.uid === ref.uid ? { uid: ss.metadata.uid!, scale: ss.spec?.replicas ?? 1 } : undefined;
  }

  /** Any other owner, through its scale subresource (upstream getScaleController). */
  private async genericScale(ref: Ref, ns: string): Promise<{ uid: string; scale: number } | undefined> {
    const d = findDescriptor(ref.kind, ref.apiVersion);
    const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
    if (!d) return undefined;
    const rt = builtinResources.find((r) => r.group === group && r.kind === ref.kind);
    if (rt && !rt.subresources.includes('scale')) throw new Error(`${d.group ? `${d.resource}.${d.group}` : d.resource} does not implement the scale subresource`);
    try {
      const scale = await this.o.client.resource(d, ns).getSubresource<{ metadata: { uid?: string }; spec?: { replicas?: number } }>(ref.name, 'scale');
      return scale.metadata.uid === ref.uid ? { uid: ref.uid, scale: scale.spec?.replicas ?? 0 } : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Evicted pods still counted as disrupted, and when the first of them stops counting. */
  private disruptedPods(pods: Pod[], pdb: PodDisruptionBudget, now: number): { disrupted: Record<string, string>; recheckAt?: number } {
    const recorded = pdb.status?.disruptedPods ?? {};
    const out: Record<string, string> = {};
    let recheckAt: number | undefined;
    for (const pod of pods) {
      if (pod.metadata.deletionTimestamp) continue;
      const at = recorded[pod.metadata.name!];
      if (at === undefined) continue;
      const expiry = (parseTime(at) ?? 0) + deletionTimeoutMs;
      if (expiry < now) {
        this.event(pdb, 'Warning', 'NotDeleted', `Pod was expected by PDB ${pdb.metadata.namespace}/${pdb.metadata.name} to be deleted but it wasn't`);
      } else {
        recheckAt = recheckAt === undefined ? expiry : Math.min(recheckAt, expiry);
        out[pod.metadata.name!] = at;
      }
    }
    return { disrupted: out, recheckAt };
  }

  private async updateStatus(pdb: PodDisruptionBudget, currentHealthy: number, desiredHealthy: number, expectedPods: number, disruptedPods: Record<string, string>): Promise<void> {
    let disruptionsAllowed = currentHealthy - desiredHealthy;
    // No pods yet, or none to spare: a budget is safe before its pods are counted.
    if (expectedPods <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;
    const cur = pdb.status;
    const generation = pdb.metadata.generation ?? 0;
    if (
      cur &&
      cur.currentHealthy === currentHealthy &&
      cur.desiredHealthy === desiredHealthy &&
      cur.expectedPods === expectedPods &&
      cur.disruptionsAllowed === disruptionsAllowed &&
      jsonEqual(cur.disruptedPods ?? {}, disruptedPods) &&
      (cur.observedGeneration ?? 0) === generation &&
      conditionUpToDate(pdb)
    ) {
      return;
    }
    const status: PDBStatus = { currentHealthy, desiredHealthy, expectedPods, disruptionsAllowed, observedGeneration: generation, conditions: deepCopy(cur?.conditions ?? []) };
    if (Object.keys(disruptedPods).length > 0) status.disruptedPods = disruptedPods;
    const allowed = disruptionsAllowed > 0;
    setCondition(status.conditions!, { type: 'DisruptionAllowed', status: allowed ? 'True' : 'False', reason: allowed ? 'SufficientPods' : 'InsufficientPods', message: '', observedGeneration: generation, lastTransitionTime: rfc3339(this.clock.now()) });
    await this.o.client.resource(Resources.podDisruptionBudgets, pdb.metadata.namespace).updateStatus({ ...deepCopy(pdb), status });
  }

  /** Something went wrong: allow no disruption and say why. */
  private async failSafe(pdb: PodDisruptionBudget, err: unknown): Promise<void> {
    const status: PDBStatus = { ...deepCopy(pdb.status ?? { currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptionsAllowed: 0 }), disruptionsAllowed: 0 };
    status.conditions ??= [];
    setCondition(status.conditions, { type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message: errorMessage(err), observedGeneration: status.observedGeneration, lastTransitionTime: rfc3339(this.clock.now()) });
    await this.o.client.resource(Resources.podDisruptionBudgets, pdb.metadata.namespace).updateStatus({ ...deepCopy(pdb), status });
  }
}

/** Ready pods that are neither being deleted nor just evicted. */
function countHealthy(pods: Pod[], disrupted: Record<string, string>, now: number): number {
  let n = 0;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const at = disrupted[pod.metadata.name!];
    if (at !== undefined && (parseTime(at) ?? 0) + deletionTimeoutMs > now) continue;
    if (isPodReady(pod)) n++;
  }
  return n;
}

/** meta.SetStatusCondition: the transition time changes only with the status. */
function setCondition(list: Condition[], c: Condition): void {
  const cur = list.find((x) => x.type === c.type);
  if (!cur) {
    list.push(c);
    return;
  }
  if (cur.status !== c.status) {
    cur.status = c.status;
    cur.lastTransitionTime = c.lastTransitionTime;
  }
  cur.reason = c.reason;
  cur.message = c.message;
  cur.observedGeneration = c.observedGeneration;
}

function conditionUpToDate(pdb: PodDisruptionBudget): boolean {
  const c = pdb.status?.conditions?.find((x) => x.type === 'DisruptionAllowed');
  if (!c || c.observedGeneration !== pdb.status?.observedGeneration) return false;
  return (c.status === 'True') === (pdb.status?.disruptionsAllowed ?? 0) > 0 && c.reason !== 'SyncFailed';
}
