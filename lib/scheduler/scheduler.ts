/**
 * Scheduler: watches pods and nodes through informers, keeps the cache and the queue, and runs
 * scheduling cycles one pod at a time:
 *
 *   pop ─► filter/score (synchronous, on the cache) ─► assume on the node ─► bind (async) ─► Scheduled event
 *                 │                                                              │ fails
 *                 └─ no node fits ─► preemption ─► FailedScheduling event,        └─► forget, requeue with backoff
 *                                                  PodScheduled=False, requeue
 *
 * Cycles never wait for the API server: bindings and status writes run in the background
 * while the next pod is scheduled against the cache, which already counts the assumed pods.
 *
 * Informer handlers, as upstream: pods bound to a node (by anyone) go to the cache; pending pods
 * whose spec.schedulerName is ours go to the queue; node, pod and volume changes move the
 * unschedulable pods they may help.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { KubeObject, Namespace, Node, ObjectReference, PersistentVolume, PersistentVolumeClaim, Pod, PriorityClass, StorageClass } from '../api/index.js';
import { realClock, rfc3339, silentLogger, type Clock } from '../base/index.js';
import {
  deletedObject,
  findDescriptor,
  Resources,
  type EventRecorder,
  type KubeClient,
  type Lister,
  type ResourceDescriptor,
  type SharedInformer,
  type SharedInformerFactory,
} from '../client/index.js';
import { isConflict, isNotFound, jsonEqual } from '../machinery/index.js';
import { FitError, NoNodesAvailableError, ScheduleAlgorithm } from './algorithm.js';
import { DefaultBinder, type Binder } from './binder.js';
import { SchedulerCache } from './cache.js';
import { CycleState, type ClusterEvent, type Framework, type PluginHandle, type SchedulerListers } from './framework.js';
import type { SchedulerMetrics } from './metrics.js';
import { newPodInfo, withPod, type PodInfo } from './pod-info.js';
import { Preemptor, type PreemptionResult } from './preemption.js';
import { resolvePriority } from './priority.js';
import { defaultFramework, defaultScoreWeights } from './plugins/index.js';
import { SchedulingQueue, type QueuedPodInfo } from './queue.js';

export const defaultSchedulerName = 'default-scheduler';

/** Pods in these phases are done and hold no resources; the pod informer leaves them out. */
export const podFieldSelector = 'status.phase!=Succeeded,status.phase!=Failed';

/** Longest event message the API server keeps (upstream's NoteLengthLimit). */
const maxMessageLength = 1024;

export function truncateMessage(msg: string): string {
  return msg.length <= maxMessageLength ? msg : `${msg.slice(0, maxMessageLength - 4)} ...`;
}

export interface SchedulerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  recorder: EventRecorder;
  schedulerName?: string;
  log?: Logger;
  clock?: Clock;
  metrics?: SchedulerMetrics;
  /** Share of nodes to find feasible before scoring; 0: adaptive, as upstream. */
  percentageOfNodesToScore?: number;
  podInitialBackoffMs?: number;
  podMaxBackoffMs?: number;
  podMaxInUnschedulablePodsDurationMs?: number;
  scoreWeights?: Record<string, number>;
  /** Builds the framework; defaults to the default plugins. */
  framework?: (h: PluginHandle) => Framework;
  binder?: Binder;
  /** Turns DefaultPreemption off. */
  disablePreemption?: boolean;
  /**
   * Binding requests in flight at most (default 32); more wait their turn. Upstream's Go client
   * multiplexes over one HTTP/2 connection; here every request in flight holds a connection.
   */
  bindConcurrency?: number;
  random?: () => number;
}

function descriptor<T extends KubeObject>(name: string): ResourceDescriptor<T> {
  const d = findDescriptor(name);
  if (!d) throw new Error(`scheduler: the API has no ${name}`);
  return d as ResourceDescriptor<T>;
}

function podRef(pod: Pod): ObjectReference {
  return { kind: 'Pod', apiVersion: 'v1', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion };
}

function isAssigned(pod: Pod): boolean {
  return !!pod.spec?.nodeName;
}

/** The node events a node update amounts to. */
export function nodeUpdateEvents(old: Node, cur: Node): ClusterEvent[] {
  const out: ClusterEvent[] = [];
  if (!jsonEqual(old.status?.allocatable ?? old.status?.capacity ?? {}, cur.status?.allocatable ?? cur.status?.capacity ?? {})) out.push('NodeAllocatableChange');
  if (!jsonEqual(old.metadata.labels ?? {}, cur.metadata.labels ?? {})) out.push('NodeLabelChange');
  if (!jsonEqual(old.spec?.taints ?? [], cur.spec?.taints ?? [])) out.push('NodeTaintChange');
  if (!!old.spec?.unschedulable !== !!cur.spec?.unschedulable) out.push('NodeSchedulableChange');
  const conds = (n: Node) => (n.status?.conditions ?? []).map((c) => `${c.type}=${c.status}`).sort().join(',');
  if (conds(old) !== conds(cur)) out.push('NodeConditionChange');
  return out;
}

export class Scheduler {
  readonly schedulerName: string;
  readonly cache = new SchedulerCache();
  readonly queue: SchedulingQueue;
  readonly framework: Framework;
  readonly listers: SchedulerListers;
  private readonly algorithm: ScheduleAlgorithm;
  private readonly preemptor: Preemptor;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly binder: Binder;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly nodeInformer: SharedInformer<Node>;
  private readonly informerList: SharedInformer<any>[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private running = false;
  private bindSlots: number;
  private readonly bindWaiters: (() => void)[] = [];
  /** Counters for tests and logs. */
  readonly stats = { scheduled: 0, unschedulable: 0, errors: 0, bindFailures: 0, preemptions: 0 };

  constructor(private readonly o: SchedulerOptions) {
    this.schedulerName = o.schedulerName ?? defaultSchedulerName;
    this.log = (o.log ?? silentLogger()).child({ component: 'scheduler' });
    this.clock = o.clock ?? realClock;
    this.binder = o.binder ?? new DefaultBinder(o.client);
    this.bindSlots = Math.max(1, o.bindConcurrency ?? 32);
    const f = o.informers;
    this.podInformer = f.informerFor(Resources.pods, { fieldSelector: podFieldSelector });
    this.nodeInformer = f.informerFor(Resources.nodes);
    const lister = <T extends KubeObject>(name: string): Lister<T> => {
      const inf = f.informerFor(descriptor<T>(name));
      this.informerList.push(inf);
      return inf.lister();
    };
    this.listers = {
      priorityClasses: lister<PriorityClass>('priorityclasses.scheduling.k8s.io'),
      namespaces: lister<Namespace>('namespaces'),
      persistentVolumeClaims: lister<PersistentVolumeClaim>('persistentvolumeclaims'),
      persistentVolumes: lister<PersistentVolume>('persistentvolumes'),
      storageClasses: lister<StorageClass>('storageclasses.storage.k8s.io'),
      services: f.lister(Resources.services),
      replicaSets: f.lister(Resources.replicaSets),
      replicationControllers: f.lister(Resources.replicationControllers),
      statefulSets: f.lister(Resources.statefulSets),
      podDisruptionBudgets: f.lister(Resources.podDisruptionBudgets),
    };
    this.informerList.push(f.informerFor(Resources.services), f.informerFor(Resources.replicaSets), f.informerFor(Resources.replicationControllers), f.informerFor(Resources.statefulSets), f.informerFor(Resources.podDisruptionBudgets));
    this.informerList.push(this.podInformer, this.nodeInformer);

    const handle: PluginHandle = { snapshot: this.cache, listers: this.listers, client: o.client };
    this.framework = o.framework ? o.framework(handle) : defaultFramework(handle, { ...defaultScoreWeights, ...(o.scoreWeights ?? {}) });
    this.queue = new SchedulingQueue({
      clock: this.clock,
      podInitialBackoffMs: o.podInitialBackoffMs,
      podMaxBackoffMs: o.podMaxBackoffMs,
      podMaxInUnschedulablePodsDurationMs: o.podMaxInUnschedulablePodsDurationMs,
      eventsFor: (plugins) => this.framework.eventsFor(plugins),
      onIncoming: (queue, event) => o.metrics?.queueIncomingPods.inc({ queue, event }),
    });
    const nominatedPodsFor = (nodeName: string, pod: PodInfo) => this.queue.nominator.forNode(nodeName).filter((p) => p.key !== pod.key && p.priority >= pod.priority);
    this.algorithm = new ScheduleAlgorithm({ framework: this.framework, snapshot: this.cache, percentageOfNodesToScore: o.percentageOfNodesToScore, nominatedPodsFor, random: o.random });
    this.preemptor = new Preemptor({
      framework: this.framework,
      snapshot: this.cache,
      pdbs: () => this.listers.podDisruptionBudgets?.list() ?? [],
      nominatedPodsFor,
      nominatedPodsOn: (nodeName) => this.queue.nominator.forNode(nodeName),
      random: o.random,
    });
    this.registerHandlers();
    if (o.metrics) {
      const m = o.metrics;
      m.pendingPods.collect(() => Object.entries(this.queue.lengths()).map(([queue, n]) => [{ queue }, n]));
      m.cacheSize.collect(() => {
        const s = this.cache.stats();
        return [
          [{ type: 'nodes' }, s.nodes],
          [{ type: 'pods' }, s.pods],
          [{ type: 'assumed_pods' }, s.assumedPods],
        ];
      });
    }
  }

  /** Whether every informer the scheduler reads has synced. */
  hasSynced(): boolean {
    return this.informerList.every((i) => i.hasSynced());
  }

  waitForCacheSync(signal?: AbortSignal): Promise<boolean> {
    return Promise.all(this.informerList.map((i) => i.waitForCacheSync(signal))).then((r) => r.every(Boolean));
  }

  private podInfoFor(pod: Pod): PodInfo {
    return newPodInfo(pod, resolvePriority(pod, this.listers.priorityClasses));
  }

  private responsibleFor(pod: Pod): boolean {
    return (pod.spec?.schedulerName ?? defaultSchedulerName) === this.schedulerName;
  }

  private key(pod: Pod): string {
    return `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
  }

  // ---- informer handlers ------------------------------------------------------------------

  private registerHandlers(): void {
    this.podInformer.addEventHandler({
      onAdd: (pod) => this.onPodAdd(pod),
      onUpdate: (old, pod) => this.onPodUpdate(old, pod),
      onDelete: (obj) => this.onPodDelete(deletedObject(obj)),
    });
    this.nodeInformer.addEventHandler({
      onAdd: (node) => {
        this.cache.addNode(node);
        this.queue.moveAllToActiveOrBackoffQueue('NodeAdd');
      },
      onUpdate: (old, node) => {
        if (old.metadata.resourceVersion === node.metadata.resourceVersion) return;
        this.cache.updateNode(node);
        for (const e of nodeUpdateEvents(old, node)) this.queue.moveAllToActiveOrBackoffQueue(e);
      },
      onDelete: (obj) => this.cache.removeNode(deletedObject(obj).metadata.name!),
    });
    const onChange = (event: ClusterEvent) => ({
      onAdd: (_: unknown, initial: boolean) => {
        if (!initial) this.queue.moveAllToActiveOrBackoffQueue(event);
      },
      onUpdate: (a: { metadata: { resourceVersion?: string } }, b: { metadata: { resourceVersion?: string } }) => {
        if (a.metadata.resourceVersion !== b.metadata.resourceVersion) this.queue.moveAllToActiveOrBackoffQueue(event);
      },
    });
    const inf = (name: string) => this.o.informers.informerFor(descriptor<KubeObject>(name));
    inf('persistentvolumeclaims').addEventHandler(onChange('PVCChange'));
    inf('persistentvolumes').addEventHandler(onChange('PVChange'));
    inf('storageclasses.storage.k8s.io').addEventHandler(onChange('StorageClassChange'));
    inf('namespaces').addEventHandler(onChange('NamespaceChange'));
  }

  private onPodAdd(pod: Pod): void {
    if (isAssigned(pod)) {
      this.queue.delete(this.key(pod));
      const pi = this.podInfoFor(pod);
      this.cache.addPod(pi);
      this.queue.moveAllToActiveOrBackoffQueue('AssignedPodAdd', (q) => q.podInfo.requiredAffinityTerms.length > 0 || q.podInfo.pod.spec?.topologySpreadConstraints !== undefined);
      return;
    }
    if (!this.responsibleFor(pod) || pod.metadata.deletionTimestamp) return;
    this.queue.add(this.podInfoFor(pod));
  }

  private onPodUpdate(old: Pod, pod: Pod): void {
    if (old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
    const key = this.key(pod);
    if (isAssigned(pod)) {
      this.queue.delete(key);
      this.cache.updatePod(this.podInfoFor(pod));
      if (!isAssigned(old)) {
        this.queue.moveAllToActiveOrBackoffQueue('AssignedPodAdd', (q) => q.podInfo.requiredAffinityTerms.length > 0 || q.podInfo.pod.spec?.topologySpreadConstraints !== undefined);
      } else if (!jsonEqual(old.metadata.labels ?? {}, pod.metadata.labels ?? {})) {
        this.queue.moveAllToActiveOrBackoffQueue('AssignedPodUpdate');
      }
      return;
    }
    if (!this.responsibleFor(pod)) return;
    // Being bound by us: the assumed copy is what counts until the binding shows up.
    if (this.cache.isAssumed(key)) return;
    if (pod.metadata.deletionTimestamp) {
      this.queue.delete(key);
      return;
    }
    this.queue.update(this.podInfoFor(pod), this.podInfoFor(old));
  }

  private onPodDelete(pod: Pod): void {
    const key = this.key(pod);
    const wasNominated = this.queue.nominator.nominatedNode(key) !== undefined;
    this.queue.delete(key);
    if (this.cache.nodeOf(key) !== undefined) {
      this.cache.removePod(key);
      this.queue.moveAllToActiveOrBackoffQueue('AssignedPodDelete');
    } else if (wasNominated) {
      // The room it was promised is free for others.
      this.queue.moveAllToActiveOrBackoffQueue('AssignedPodDelete');
    }
  }

  // ---- the scheduling loop --------------------------------------------------------------

  /**
   * Schedules pods until `signal` aborts, then waits for bindings in flight. Informers must be
   * running (and should have synced).
   */
  async run(signal: AbortSignal): Promise<void> {
    if (this.running) throw new Error('scheduler is already running');
    this.running = true;
    this.o.metrics?.leaderStatus.set({ name: 'kube-scheduler' }, 1);
    const onAbort = () => this.queue.close();
    signal.addEventListener('abort', onAbort, { once: true });
    const flusher = this.queue.run(signal);
    this.log.info({ schedulerName: this.schedulerName }, 'scheduler started');
    try {
      let since = performance.now();
      while (!signal.aborted) {
        const q = await this.queue.pop();
        if (!q) break;
        try {
          this.scheduleOne(q, signal);
        } catch (err) {
          this.log.error({ err, pod: q.podInfo.key }, 'scheduling cycle failed');
          this.queue.addUnschedulableIfNotPresent(q, this.queue.schedulingCycle);
        }
        // Cycles are synchronous; let informer events and I/O through every few milliseconds.
        if (performance.now() - since > 5) {
          await yieldToEventLoop();
          since = performance.now();
        }
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      await flusher;
      await Promise.allSettled([...this.inflight]);
      this.o.metrics?.leaderStatus.set({ name: 'kube-scheduler' }, 0);
      this.running = false;
      this.log.info('scheduler stopped');
    }
  }

  private background(p: Promise<void>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  /** One scheduling cycle. Synchronous: it reads the cache in one consistent state. */
  scheduleOne(q: QueuedPodInfo, signal?: AbortSignal): void {
    const cycle = this.queue.schedulingCycle;
    const key = q.podInfo.key;
    const current = this.podInformer.getIndexer().getByKey(key);
    // Deleted, bound by someone else, or already on its way: nothing to do.
    if (!current || isAssigned(current) || current.metadata.deletionTimestamp || this.cache.isAssumed(key)) {
      this.queue.done(key);
      return;
    }
    let pi = q.podInfo;
    // A nomination made in memory is newer than the object until our status write shows up.
    const nnn = this.queue.nominator.nominatedNode(key);
    if (nnn && pi.pod.status?.nominatedNodeName !== nnn) pi = withPod(pi, { ...pi.pod, status: { ...(pi.pod.status ?? {}), nominatedNodeName: nnn } });
    const start = this.clock.now();
    const state = new CycleState();
    let host: string;
    try {
      host = this.algorithm.schedulePod(state, pi).suggestedHost;
    } catch (err) {
      if (err instanceof FitError) {
        let result: PreemptionResult | undefined;
        let preempting: Promise<void> | undefined;
        if (!this.o.disablePreemption) {
          this.o.metrics?.preemptionAttempts.inc();
          result = this.preemptor.preempt(state, pi, err.diagnosis.nodeToStatus);
          if (result.message) err.diagnosis.postFilterMsg = result.message;
          if (result.nominatedNodeName) preempting = this.executePreemption(pi, result);
        }
        this.observeAttempt('unschedulable', start);
        this.stats.unschedulable++;
        this.handleFailure(q, cycle, err.message, 'Unschedulable', err.diagnosis.unschedulablePlugins, result?.nominatedNodeName ?? (result?.clearNomination ? '' : undefined), preempting);
        return;
      }
      this.observeAttempt('error', start);
      this.stats.errors++;
      if (!(err instanceof NoNodesAvailableError)) this.log.error({ err, pod: key }, 'error scheduling pod');
      this.handleFailure(q, cycle, (err as Error).message, 'SchedulerError', []);
      return;
    }
    // Reserve what the pod will use there (volumes to bind), still within the cycle.
    const reserved = this.framework.runReserve(state, pi, host);
    if (reserved) {
      this.observeAttempt('error', start);
      this.handleFailure(q, cycle, reserved.reasons.join(', '), 'SchedulerError', [reserved.plugin]);
      return;
    }
    // Assume: count the pod on its node now, before the binding is written.
    const assumedPod: Pod = { ...current, spec: { ...current.spec!, nodeName: host } };
    // q.podInfo follows every update of the pod, so its derived data matches `current`.
    const assumed = withPod(q.podInfo, assumedPod);
    this.cache.assumePod(assumed);
    this.queue.nominator.delete(key);
    this.queue.done(key);
    this.background(this.bind(q, assumed, host, start, state, signal));
  }

  private observeAttempt(result: 'scheduled' | 'unschedulable' | 'error', start: number): void {
    const m = this.o.metrics;
    if (!m) return;
    m.scheduleAttempts.inc({ result, profile: this.schedulerName });
    m.schedulingAttemptDuration.observe({ result, profile: this.schedulerName }, (this.clock.now() - start) / 1000);
  }

  private releaseBindSlot(): void {
    const next = this.bindWaiters.shift();
    if (next) next();
    else this.bindSlots++;
  }

  private async bind(q: QueuedPodInfo, assumed: PodInfo, host: string, start: number, state: CycleState, signal?: AbortSignal): Promise<void> {
    try {
      await this.bindOnce(q, assumed, host, start, state, signal);
    } finally {
      this.releaseBindSlot();
    }
  }

  private async bindOnce(q: QueuedPodInfo, assumed: PodInfo, host: string, start: number, state: CycleState, signal?: AbortSignal): Promise<void> {
    const pod = assumed.pod;
    const key = assumed.key;
    if (this.bindSlots > 0) this.bindSlots--;
    else await new Promise<void>((resolve) => this.bindWaiters.push(resolve));
    const bindStart = this.clock.now();
    try {
      const pre = this.framework.preBindPlugins.length ? await this.framework.runPreBind(state, assumed, host, signal) : undefined;
      if (pre) throw new Error(`running PreBind plugin "${pre.plugin}": ${pre.reasons.join(', ')}`);
      await this.binder.bind(pod, host, signal);
    } catch (err) {
      this.o.metrics?.bindingDuration.observe({ result: 'error' }, (this.clock.now() - bindStart) / 1000);
      this.framework.runUnreserve(state, assumed, host);
      this.cache.forgetPod(key);
      this.stats.bindFailures++;
      // The room the assumed pod took is free again.
      this.queue.moveAllToActiveOrBackoffQueue('AssignedPodDelete');
      if (signal?.aborted) return;
      if (isNotFound(err)) return; // deleted meanwhile
      if (isConflict(err) && /already assigned/.test((err as Error).message)) return; // bound by someone else
      this.log.info({ pod: key, node: host, err: (err as Error).message }, 'binding failed; pod requeued');
      this.observeAttempt('error', start);
      this.handleFailure(q, this.queue.schedulingCycle, `Binding rejected: ${(err as Error).message}`, 'SchedulerError', []);
      return;
    }
    const now = this.clock.now();
    this.cache.finishBinding(key);
    this.stats.scheduled++;
    this.observeAttempt('scheduled', start);
    const m = this.o.metrics;
    if (m) {
      m.bindingDuration.observe({ result: 'ok' }, (now - bindStart) / 1000);
      m.podSchedulingAttempts.observe({}, q.attempts);
      m.podSchedulingSLIDuration.observe({ attempts: String(q.attempts) }, (now - (q.initialAttemptTimestamp ?? start)) / 1000);
    }
    this.log.debug({ pod: key, node: host }, 'pod bound');
    this.o.recorder.eventf(podRef(pod), 'Normal', 'Scheduled', 'Successfully assigned %s/%s to %s', pod.metadata.namespace, pod.metadata.name, host);
  }

  /**
   * The pod stays pending: requeue it and report why it waits (FailedScheduling event,
   * PodScheduled=False condition, the nomination). `nominate`: a node name to nominate, '' to
   * clear the nomination, undefined to leave it. With a preemption under way (`after`), the
   * report waits until the victims are deleted, as upstream's scheduler writes the nomination
   * only after its preemption deleted them; the nomination counts in memory at once.
   */
  private handleFailure(q: QueuedPodInfo, cycle: number, message: string, reason: 'Unschedulable' | 'SchedulerError', rejectors: Iterable<string>, nominate?: string, after?: Promise<void>): void {
    const key = q.podInfo.key;
    const current = this.podInformer.getIndexer().getByKey(key);
    if (!current || isAssigned(current) || current.metadata.deletionTimestamp) {
      this.queue.done(key);
      return;
    }
    if (nominate) this.queue.nominator.add(q.podInfo, nominate);
    else if (nominate === '') this.queue.nominator.delete(key);
    this.queue.addUnschedulableIfNotPresent(q, cycle, rejectors);
    const msg = truncateMessage(message);
    this.log.info({ pod: key, reason, message: msg }, 'unable to schedule pod; waiting');
    const report = () => {
      this.o.recorder.event(podRef(current), 'Warning', 'FailedScheduling', msg);
      return this.updatePodStatus(current, reason, msg, nominate);
    };
    this.background(after ? after.then(report) : report());
  }

  /** Writes PodScheduled=False (and the nomination) unless the pod already says exactly that. */
  private async updatePodStatus(pod: Pod, reason: string, message: string, nominate?: string): Promise<void> {
    const cond = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    const sameCondition = cond?.status === 'False' && cond.reason === reason && cond.message === message;
    const currentNNN = pod.status?.nominatedNodeName ?? '';
    if (sameCondition && (nominate === undefined || nominate === currentNNN)) return;
    const status: Record<string, unknown> = {
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          reason,
          message,
          lastProbeTime: null,
          lastTransitionTime: cond?.status === 'False' && cond.lastTransitionTime ? cond.lastTransitionTime : rfc3339(this.clock.now()),
        },
      ],
    };
    if (nominate !== undefined && nominate !== currentNNN) status.nominatedNodeName = nominate === '' ? null : nominate;
    try {
      await this.o.client.resource(Resources.pods, pod.metadata.namespace).patch(pod.metadata.name!, 'strategic', { status }, { subresource: 'status' });
    } catch (err) {
      if (!isNotFound(err)) this.log.info({ pod: this.key(pod), err: (err as Error).message }, 'cannot update the pod status');
    }
  }

  /** Marks and deletes the victims (gracefully) and clears lower nominations on the node; settles when every victim is done with. */
  private executePreemption(pod: PodInfo, r: PreemptionResult): Promise<void> {
    const node = r.nominatedNodeName!;
    this.stats.preemptions++;
    this.o.metrics?.preemptionVictims.observe({}, r.victims.length);
    this.log.info({ pod: pod.key, node, victims: r.victims.map((v) => v.key) }, 'preempting pods');
    const pods = this.o.client.resource(Resources.pods);
    const victims = r.victims.map((v) => this.preemptVictim(pod, v, node));
    for (const done of victims) this.background(done);
    for (const p of r.lowerPriorityNominated) {
      this.queue.nominator.delete(p.key);
      this.background(
        pods
          .inNamespace(p.pod.metadata.namespace)
          .patch(p.pod.metadata.name!, 'strategic', { status: { nominatedNodeName: null } }, { subresource: 'status' })
          .then(
            () => undefined,
            (err) => {
              if (!isNotFound(err)) this.log.info({ pod: p.key, err: (err as Error).message }, 'cannot clear the nomination');
            },
          ),
      );
    }
    return Promise.allSettled(victims).then(() => undefined);
  }

  /** Marks a victim as a disruption target, then deletes it (gone already: nothing to do). */
  private async preemptVictim(pod: PodInfo, v: PodInfo, node: string): Promise<void> {
    const pods = this.o.client.resource(Resources.pods);
    const victim = v.pod;
    const ns = victim.metadata.namespace;
    try {
      await pods.inNamespace(ns).patch(
        victim.metadata.name!,
        'strategic',
        {
          status: {
            conditions: [
              {
                type: 'DisruptionTarget',
                status: 'True',
                reason: 'PreemptionByScheduler',
                message: `${this.schedulerName}: preempting to accommodate a higher priority pod`,
                lastTransitionTime: rfc3339(this.clock.now()),
              },
            ],
          },
        },
        { subresource: 'status' },
      );
    } catch (err) {
      if (isNotFound(err)) return;
      this.log.info({ pod: v.key, err: (err as Error).message }, 'cannot mark the victim as a disruption target');
    }
    try {
      await pods.inNamespace(ns).delete(victim.metadata.name!, victim.metadata.uid ? { preconditions: { uid: victim.metadata.uid } } : {});
      this.o.recorder.eventf(podRef(victim), 'Normal', 'Preempted', 'Preempted by pod %s on node %s', pod.pod.metadata.uid ?? pod.key, node);
    } catch (err) {
      if (!isNotFound(err)) this.log.warn({ pod: v.key, err: (err as Error).message }, 'cannot delete the preemption victim');
    }
  }
}
