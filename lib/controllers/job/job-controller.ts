/**
 * The Job controller: runs pods until `completions` of them succeed (or, for Indexed jobs,
 * one per index), at most `parallelism` at a time, and fails the job after too many failures
 * (backoffLimit) or too long a run (activeDeadlineSeconds).
 *
 * Counting with finalizers (as upstream since 1.26): every pod carries the
 * batch.kubernetes.io/job-tracking finalizer, so a finished pod cannot vanish before it is
 * counted. A sync that sees pods finish
 *
 *   1. writes their uids to status.uncountedTerminatedPods,
 *   2. removes their finalizers,
 *   3. moves them from the uncounted lists to status.succeeded / status.failed,
 *
 * so a crash between any two steps loses or double-counts nothing. Ending a job takes two
 * steps too, as 1.32 does:
 *
 *   failure  ──► FailureTarget (pods deleted) ── no pod left terminating ──► Failed
 *   success  ──► SuccessCriteriaMet ─────────── no pod left terminating ──► Complete
 *
 * Retries after failures wait 10s, 20s, 40s ... up to 6 minutes.
 */
import type { Logger } from 'pino';
import type { Job, KubeObject, Pod, PodTemplateSpec } from '../../api/index.js';
import { rfc3339, realClock, silentLogger, type Clock, type Runnable } from '../../base/index.js';
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
import { isNotFound, jsonEqual, labelSelectorFromObject } from '../../machinery/index.js';
import {
  KeyedSerializer,
  PodControl,
  claimObjects,
  compareActivePods,
  getControllerOf,
  isNamespaceTerminating,
  isPodActive,
  isPodReady,
  newControllerRef,
  objectKey,
  parseTime,
  recheckOwner,
  recordEvent,
  runController,
  slowStartInitialBatchSize,
} from '../replicaset/index.js';
import { BackoffStore, remainingBackoff, type BackoffRecord } from './backoff.js';
import { completionIndexAnnotation, completionIndexOf, firstPendingIndexes, formatIndexes, hasIndex, parseIndexes, totalIndexes, withIndexes, type Interval } from './indexes.js';

export const jobTrackingFinalizer = 'batch.kubernetes.io/job-tracking';
const kind = 'Job';
const apiVersion = 'batch/v1';
/** Most pods created or deleted per sync, and most finished pods counted per status write. */
const maxPodCreateDeletePerSync = 500;
const maxUncountedPods = 500;
const orphanPrefix = 'orphan-pod:';

type JobStatus = NonNullable<Job['status']>;
type JobCondition = NonNullable<JobStatus['conditions']>[number];

export interface JobControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  recorder: EventRecorder;
  log?: Logger;
  clock?: Clock;
  workers?: number;
  /** Pod events for a job are batched this long before a sync (upstream 1s). */
  podUpdateBatchPeriodMs?: number;
  /** First retry delay after a failed pod (upstream 10s), doubling up to maxBackoffMs (6 minutes). */
  backoffBaseMs?: number;
  maxBackoffMs?: number;
}

interface SyncCtx {
  job: Job;
  pods: Pod[];
  activePods: Pod[];
  ready: number;
  terminating: number;
  succeeded: number;
  failed: number;
  uncountedSucceeded: Set<string>;
  uncountedFailed: Set<string>;
  expectedRmFinalizers: Set<string>;
  finishedCondition?: JobCondition;
  newBackoff: BackoffRecord;
  prevSucceededIndexes: Interval[];
  succeededIndexes: Interval[];
}

export const isIndexed = (j: Job) => j.spec?.completionMode === 'Indexed';
const hasFinalizer = (p: Pod) => (p.metadata.finalizers ?? []).includes(jobTrackingFinalizer);
const isSuspended = (j: Job) => !!j.spec?.suspend;

function condition(j: Job, type: string): JobCondition | undefined {
  return j.status?.conditions?.find((c) => c.type === type);
}

/** Complete or Failed is True: nothing more happens to the job. */
export function isJobFinished(j: Job): boolean {
  return (j.status?.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

function newCondition(type: string, status: 'True' | 'False', reason: string, message: string, now: number): JobCondition {
  const t = rfc3339(now);
  return { type, status, reason, message, lastProbeTime: t, lastTransitionTime: t };
}

/** Sets a condition's status (appending it unless it would be a new False); true if anything changed. */
function ensureCondition(status: JobStatus, type: string, st: 'True' | 'False', reason: string, message: string, now: number): boolean {
  const list = (status.conditions ??= []);
  const i = list.findIndex((c) => c.type === type);
  if (i >= 0) {
    const c = list[i]!;
    if (c.status === st && c.reason === reason && c.message === message) return false;
    list[i] = newCondition(type, st, reason, message, now);
    return true;
  }
  if (st === 'False') return false;
  list.push(newCondition(type, st, reason, message, now));
  return true;
}

/** Failed (phase), or deleted before it succeeded: pods that never reach Failed still count. */
function isPodFailed(p: Pod, job: Job): boolean {
  if (p.status?.phase === 'Failed') return true;
  if (job.spec?.podReplacementPolicy === 'Failed' || job.spec?.podFailurePolicy) return false;
  return !!p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded';
}

const isTerminatingPod = (p: Pod) => !!p.metadata.deletionTimestamp && p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded';

export class JobController implements Runnable {
  readonly queue: RateLimitingQueue<string>;
  readonly expectations: ControllerExpectations;
  /** Per job: uids of pods whose finalizer we are removing and have not seen gone yet. */
  private readonly finalizerExpectations = new Map<string, Set<string>>();
  private readonly backoff = new BackoffStore();
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly jobInformer: SharedInformer<Job>;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly podControl: PodControl;
  private readonly serializer = new KeyedSerializer();
  private readonly batchMs: number;

  constructor(private readonly o: JobControllerOptions) {
    this.clock = o.clock ?? realClock;
    this.log = o.log ?? silentLogger();
    this.queue = new RateLimitingQueue<string>({ clock: this.clock });
    this.expectations = new ControllerExpectations({ clock: this.clock, log: this.log });
    this.jobInformer = o.informers.informerFor(Resources.jobs);
    this.podInformer = o.informers.informerFor(Resources.pods);
    this.podControl = new PodControl(o.client, o.recorder);
    this.batchMs = o.podUpdateBatchPeriodMs ?? 1000;
  }

  start(signal: AbortSignal): Promise<void> {
    return runController(signal, {
      name: 'job',
      log: this.log,
      queue: this.queue,
      workers: this.o.workers ?? 5,
      informers: [this.jobInformer, this.podInformer],
      reconcile: (key) => (key.startsWith(orphanPrefix) ? this.syncOrphanPod(key.slice(orphanPrefix.length)) : this.sync(key)),
      register: () => [
        this.jobInformer.addEventHandler({
          onAdd: (j) => this.enqueue(j),
          onUpdate: (_o, j) => this.enqueue(j),
          onDelete: (j) => this.deleteJob(deletedObject(j)),
        }),
        this.podInformer.addEventHandler({
          onAdd: (p) => this.addPod(p),
          onUpdate: (o, p) => this.updatePod(o, p),
          onDelete: (p) => this.deletePod(deletedObject(p), true),
        }),
      ],
    });
  }

  // ---- event handlers ---------------------------------------------------------------------

  private enqueue(j: KubeObject, delayMs = 0): void {
    if (delayMs > 0) this.queue.addAfter(objectKey(j), delayMs);
    else this.queue.add(objectKey(j));
  }

  private enqueueOrphan(p: Pod): void {
    this.queue.add(orphanPrefix + objectKey(p));
  }

  private resolve(namespace: string, ref: { kind: string; name: string; uid: string } | undefined): Job | undefined {
    if (!ref || ref.kind !== kind) return undefined;
    const j = this.jobInformer.lister().namespace(namespace).get(ref.name);
    return j && j.metadata.uid === ref.uid ? j : undefined;
  }

  private deleteJob(job: Job): void {
    this.enqueue(job);
    // Its pods' finalizers must go, or they would stay forever.
    for (const pod of this.podInformer.lister().namespace(job.metadata.namespace ?? '').list()) {
      if (getControllerOf(pod)?.uid === job.metadata.uid && hasFinalizer(pod)) this.enqueueOrphan(pod);
    }
  }

  private jobsForPod(pod: Pod): Job[] {
    return this.jobInformer
      .lister()
      .namespace(pod.metadata.namespace ?? '')
      .list()
      .filter((j) => {
        const sel = labelSelectorFromObject(j.spec?.selector);
        return !sel.isEmpty() && sel.matches(pod.metadata.labels);
      });
  }

  private addPod(pod: Pod): void {
    if (pod.metadata.deletionTimestamp) return this.deletePod(pod, false);
    const ref = getControllerOf(pod);
    if (ref) {
      const job = this.resolve(pod.metadata.namespace ?? '', ref);
      if (!job) {
        if (hasFinalizer(pod)) this.enqueueOrphan(pod);
        return;
      }
      this.expectations.creationObserved(objectKey(job));
      this.enqueue(job, this.batchMs);
      return;
    }
    if (hasFinalizer(pod)) this.enqueueOrphan(pod);
    for (const j of this.jobsForPod(pod)) this.enqueue(j, this.batchMs);
  }

  private updatePod(old: Pod, cur: Pod): void {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    if (cur.metadata.deletionTimestamp) {
      this.deletePod(cur, false);
      return;
    }
    const curRef = getControllerOf(cur);
    const oldRef = getControllerOf(old);
    const curJob = this.resolve(cur.metadata.namespace ?? '', curRef);
    if (hasFinalizer(old) && !hasFinalizer(cur) && curJob) this.finalizerRemoved(objectKey(curJob), cur.metadata.uid!);
    if (!jsonEqual(curRef, oldRef) && oldRef) {
      const j = this.resolve(old.metadata.namespace ?? '', oldRef);
      if (j) {
        if (hasFinalizer(old)) this.finalizerRemoved(objectKey(j), old.metadata.uid!);
        this.enqueue(j, this.batchMs);
      }
    }
    if (curRef) {
      if (!curJob || isJobFinished(curJob)) {
        if (hasFinalizer(cur)) this.enqueueOrphan(cur);
        return;
      }
      this.enqueue(curJob, this.batchMs);
      return;
    }
    if (hasFinalizer(cur)) this.enqueueOrphan(cur);
    for (const j of this.jobsForPod(cur)) this.enqueue(j, this.batchMs);
  }

  /** A pod deleted (final) or being deleted (deletionTimestamp set). */
  private deletePod(pod: Pod, final: boolean): void {
    const ref = getControllerOf(pod);
    if (!ref) {
      if (hasFinalizer(pod) && !final) this.enqueueOrphan(pod);
      return;
    }
    const job = this.resolve(pod.metadata.namespace ?? '', ref);
    if (!job || isJobFinished(job)) {
      if (hasFinalizer(pod) && !final) this.enqueueOrphan(pod);
      return;
    }
    const key = objectKey(job);
    this.expectations.deletionObserved(key);
    if (final || !hasFinalizer(pod)) this.finalizerRemoved(key, pod.metadata.uid!);
    this.enqueue(job, this.batchMs);
  }

  private finalizerRemoved(key: string, uid: string): void {
    this.finalizerExpectations.get(key)?.delete(uid);
  }

  // ---- orphans --------------------------------------------------------------------------------

  /** Removes the tracking finalizer from a pod no unfinished job owns. */
  private async syncOrphanPod(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const pod = this.podInformer.lister().namespace(namespace ?? '').get(name);
    if (!pod || !hasFinalizer(pod)) return;
    const ref = getControllerOf(pod);
    if (ref) {
      if (ref.kind !== kind || ref.apiVersion !== apiVersion) return;
      const job = this.resolve(pod.metadata.namespace ?? '', ref);
      if (job && !isJobFinished(job)) return;
    }
    await this.podControl.patchPod(namespace!, name, removeFinalizerPatch()).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }

  // ---- sync --------------------------------------------------------------------------------------

  sync(key: string): Promise<ReconcileResult> {
    return this.serializer.run(key, () => this.syncOnce(key));
  }

  private event(job: Job, type: 'Normal' | 'Warning', reason: string, message: string): void {
    recordEvent(this.o.recorder, job, apiVersion, kind, type, reason, message);
  }

  private async syncOnce(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const cached = this.jobInformer.lister().namespace(namespace ?? '').get(name);
    if (!cached) {
      this.expectations.deleteExpectations(key);
      this.finalizerExpectations.delete(key);
      this.backoff.remove(key);
      return;
    }
    const managedBy = cached.spec?.managedBy;
    if (managedBy && managedBy !== 'kubernetes.io/job-controller') return;
    if (isJobFinished(cached)) {
      this.backoff.remove(key);
      // Pods of a finished job keep no finalizer.
      for (const pod of this.podInformer.lister().namespace(namespace ?? '').list()) if (getControllerOf(pod)?.uid === cached.metadata.uid && hasFinalizer(pod)) this.enqueueOrphan(pod);
      return;
    }
    const job = deepCopy(cached);
    job.status ??= {};
    job.status.uncountedTerminatedPods ??= {};
    const now = this.clock.now();
    // Check the expectations before listing pods, so a pod arriving in between defers the sync rather than being missed.
    const satisfied = this.expectations.satisfiedExpectations(key);
    const pods = await this.podsForJob(job);
    const activePods = pods.filter(isPodActive);
    const uncounted = job.status.uncountedTerminatedPods;
    const c: SyncCtx = {
      job,
      pods,
      activePods,
      ready: activePods.filter(isPodReady).length,
      terminating: pods.filter(isTerminatingPod).length,
      succeeded: 0,
      failed: 0,
      uncountedSucceeded: new Set(uncounted.succeeded ?? []),
      uncountedFailed: new Set(uncounted.failed ?? []),
      expectedRmFinalizers: new Set(this.finalizerExpectations.get(key) ?? []),
      newBackoff: { failuresAfterLastSuccess: 0 },
      prevSucceededIndexes: [],
      succeededIndexes: [],
    };
    let active = activePods.length;
    const { succeeded: newSucceeded, failed: newFailed } = this.newFinishedPods(c);
    c.succeeded = (job.status.succeeded ?? 0) + newSucceeded.length + c.uncountedSucceeded.size;
    c.failed = (job.status.failed ?? 0) + newFailed.length + c.uncountedFailed.size;
    if (!job.status.startTime && !isSuspended(job)) job.status.startTime = rfc3339(now);
    c.newBackoff = this.backoff.next(key, newSucceeded, newFailed);

    let requeueAfterMs: number | undefined;
    const backoffLimit = job.spec?.backoffLimit ?? 6;
    const successMet = condition(job, 'SuccessCriteriaMet');
    if (successMet?.status === 'True') c.finishedCondition = successMet;
    if (!c.finishedCondition) {
      const target = condition(job, 'FailureTarget');
      if (target?.status === 'True') c.finishedCondition = newCondition('Failed', 'True', target.reason ?? '', target.message ?? '', now);
    }
    if (!c.finishedCondition) {
      if (c.failed > backoffLimit || this.pastBackoffLimitOnFailure(job, pods)) {
        c.finishedCondition = newCondition('FailureTarget', 'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', now);
      } else if (this.pastActiveDeadline(job, now)) {
        c.finishedCondition = newCondition('FailureTarget', 'True', 'DeadlineExceeded', 'Job was active longer than specified deadline', now);
      } else if (job.spec?.activeDeadlineSeconds !== undefined && !isSuspended(job)) {
        requeueAfterMs = job.spec.activeDeadlineSeconds * 1000 - (now - (parseTime(job.status.startTime) ?? now));
      }
    }
    if (isIndexed(job)) {
      const completions = job.spec?.completions ?? 1;
      c.prevSucceededIndexes = parseIndexes(job.status.completedIndexes, completions);
      const fresh = pods.filter((p) => p.status?.phase === 'Succeeded' && hasFinalizer(p)).map(completionIndexOf).filter((x) => x >= 0 && x < completions);
      c.succeededIndexes = withIndexes(c.prevSucceededIndexes, fresh);
      c.succeeded = totalIndexes(c.succeededIndexes);
    }

    let suspendChanged = false;
    let manageErr: unknown;
    if (c.finishedCondition) {
      // Ending: every running pod goes (its finalizer stays until it is counted).
      const { deleted, deletedReady, error } = await this.deleteActivePods(job, c.activePods);
      if (deleted !== active || !satisfied) c.finishedCondition = undefined;
      active -= deleted;
      c.terminating += deleted;
      c.ready -= deletedReady;
      manageErr = error;
    } else {
      let managed = false;
      if (satisfied && !job.metadata.deletionTimestamp) {
        const r = await this.manageJob(key, job, c);
        active = r.active;
        manageErr = r.error;
        requeueAfterMs = minDefined(requeueAfterMs, r.requeueAfterMs);
        managed = true;
      }
      const completions = job.spec?.completions;
      const complete = completions === undefined ? c.succeeded > 0 && active === 0 : c.succeeded >= completions && active === 0;
      if (complete) {
        c.finishedCondition = newCondition('SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods', now);
      } else if (managed) {
        if (isSuspended(job)) {
          if (ensureCondition(job.status, 'Suspended', 'True', 'JobSuspended', 'Job suspended', now)) {
            suspendChanged = true;
            this.event(job, 'Normal', 'Suspended', 'Job suspended');
          }
        } else if (ensureCondition(job.status, 'Suspended', 'False', 'JobResumed', 'Job resumed', now)) {
          suspendChanged = true;
          this.event(job, 'Normal', 'Resumed', 'Job resumed');
          // activeDeadlineSeconds counts the time the job runs, not the time it was suspended.
          job.status.startTime = rfc3339(now);
        }
      }
    }
    const needsUpdate = suspendChanged || active !== (job.status.active ?? 0) || c.ready !== (job.status.ready ?? 0) || c.terminating !== (job.status.terminating ?? 0);
    job.status.active = active;
    job.status.ready = c.ready;
    job.status.terminating = c.terminating;
    await this.trackStatusAndRemoveFinalizers(key, c, needsUpdate);
    if (manageErr) throw manageErr;
    if (requeueAfterMs !== undefined) return { requeueAfterMs: Math.max(1, requeueAfterMs) };
  }

  /** The job's pods: its own, adopted orphans (given the finalizer), minus those it lets go. */
  private async podsForJob(job: Job): Promise<Pod[]> {
    const ns = job.metadata.namespace!;
    const ref = newControllerRef(job, apiVersion, kind);
    const claimed = await claimObjects(this.podInformer.lister().namespace(ns).list(), {
      owner: job,
      controllerRef: ref,
      selector: labelSelectorFromObject(job.spec?.selector),
      canAdopt: recheckOwner(kind, job, () => this.o.client.resource(Resources.jobs, ns).get(job.metadata.name!)),
      // Adoption also adds the tracking finalizer, so adopted pods are counted like our own.
      patch: (pod, patch) => {
        const p = patch as { metadata: { ownerReferences: unknown[]; finalizers?: string[] } };
        if (!(p.metadata.ownerReferences[0] as { $patch?: string }).$patch && !hasFinalizer(pod)) p.metadata.finalizers = [jobTrackingFinalizer];
        return this.podControl.patchPod(ns, pod.metadata.name!, p);
      },
    });
    return claimed.map((p) => (getControllerOf(p)?.uid === job.metadata.uid || hasFinalizer(p) ? p : { ...p, metadata: { ...p.metadata, finalizers: [...(p.metadata.finalizers ?? []), jobTrackingFinalizer] } }));
  }

  /** Finished pods not counted yet: they still carry our finalizer and are in no uncounted list. */
  private newFinishedPods(c: SyncCtx): { succeeded: Pod[]; failed: Pod[] } {
    const completions = c.job.spec?.completions ?? 0;
    const valid = (p: Pod, uncounted: Set<string>) => {
      if (!hasFinalizer(p) || uncounted.has(p.metadata.uid!) || c.expectedRmFinalizers.has(p.metadata.uid!)) return false;
      if (isIndexed(c.job)) {
        const ix = completionIndexOf(p);
        if (ix < 0 || ix >= completions) return false;
      }
      return true;
    };
    return {
      succeeded: c.pods.filter((p) => valid(p, c.uncountedSucceeded) && p.status?.phase === 'Succeeded'),
      failed: c.pods.filter((p) => valid(p, c.uncountedFailed) && isPodFailed(p, c.job)),
    };
  }

  /** restartPolicy OnFailure: container restarts of running pods count against backoffLimit. */
  private pastBackoffLimitOnFailure(job: Job, pods: Pod[]): boolean {
    if (job.spec?.template?.spec?.restartPolicy !== 'OnFailure') return false;
    let restarts = 0;
    for (const p of pods) {
      if (p.status?.phase !== 'Running' && p.status?.phase !== 'Pending') continue;
      for (const s of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) restarts += s.restartCount ?? 0;
    }
    const limit = job.spec?.backoffLimit ?? 6;
    return limit === 0 ? restarts > 0 : restarts >= limit;
  }

  private pastActiveDeadline(job: Job, now: number): boolean {
    const deadline = job.spec?.activeDeadlineSeconds;
    const start = parseTime(job.status?.startTime);
    if (deadline === undefined || start === undefined || isSuspended(job)) return false;
    return now - start >= deadline * 1000;
  }

  /** Creates or deletes pods to have the wanted number running (upstream manageJob). */
  private async manageJob(key: string, job: Job, c: SyncCtx): Promise<{ active: number; error?: unknown; requeueAfterMs?: number }> {
    let active = c.activePods.length;
    const parallelism = job.spec?.parallelism ?? 1;
    if (isSuspended(job)) {
      const victims = this.podsForRemoval(job, c.activePods, active);
      this.expectations.expectDeletions(key, victims.length);
      const r = await this.deleteJobPods(key, job, victims);
      c.ready -= r.deletedReady;
      return { active: active - r.deleted, error: r.error };
    }
    let want: number;
    const completions = job.spec?.completions;
    if (completions === undefined) want = c.succeeded > 0 ? active : parallelism;
    else want = Math.max(0, Math.min(completions - c.succeeded, parallelism));

    const rmAtLeast = Math.max(0, active - want);
    let victims = this.podsForRemoval(job, c.activePods, rmAtLeast);
    if (victims.length > maxPodCreateDeletePerSync) victims = victims.slice(0, maxPodCreateDeletePerSync);
    if (victims.length > 0) {
      // Deleting and creating in one sync could fight; deletion goes first.
      this.expectations.expectDeletions(key, victims.length);
      const r = await this.deleteJobPods(key, job, victims);
      c.ready -= r.deletedReady;
      return { active: active - r.deleted, error: r.error };
    }
    const terminating = job.spec?.podReplacementPolicy === 'Failed' || job.spec?.podFailurePolicy ? c.terminating : 0;
    let diff = want - terminating - active;
    if (diff <= 0) return { active };
    const wait = remainingBackoff(c.newBackoff, this.clock.now(), this.o.backoffBaseMs, this.o.maxBackoffMs);
    if (wait > 0) {
      this.log.debug({ job: key, waitMs: wait }, 'waiting for the pod failure backoff');
      return { active, requeueAfterMs: Math.max(wait, this.batchMs) };
    }
    diff = Math.min(diff, maxPodCreateDeletePerSync);
    let indexes: number[] = [];
    if (isIndexed(job)) {
      indexes = firstPendingIndexes(c.succeededIndexes, c.activePods, diff, completions ?? 1);
      diff = indexes.length;
      if (diff === 0) return { active };
    }
    this.expectations.expectCreations(key, diff);
    const template = deepCopy(job.spec!.template) as PodTemplateSpec;
    if (isIndexed(job)) addCompletionIndexEnv(template);
    template.metadata = { ...(template.metadata ?? {}), finalizers: [...new Set([...(template.metadata?.finalizers ?? []), jobTrackingFinalizer])] };
    const owner = { obj: job, apiVersion, kind };
    const ref = newControllerRef(job, apiVersion, kind);
    let error: unknown;
    active += diff;
    let next = 0;
    for (let batch = Math.min(diff, slowStartInitialBatchSize), remaining = diff; remaining > 0; batch = Math.min(2 * batch, remaining)) {
      const results = await Promise.allSettled(
        Array.from({ length: batch }, async () => {
          const ix = isIndexed(job) ? indexes[next++]! : -1;
          try {
            await this.podControl.createPod(job.metadata.namespace!, template, owner, ref, (pod) => {
              if (ix < 0) return;
              pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [completionIndexAnnotation]: String(ix) };
              pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [completionIndexAnnotation]: String(ix) };
              pod.metadata.generateName = indexedGenerateName(job.metadata.name!, ix);
              pod.spec = { ...pod.spec!, hostname: `${job.metadata.name}-${ix}` };
            });
          } catch (err) {
            this.expectations.creationObserved(key);
            active--;
            if (isNamespaceTerminating(err)) return;
            throw err;
          }
        }),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      remaining -= batch;
      if (failed) {
        error = failed.reason;
        // Never tried: not expected either.
        for (let i = 0; i < remaining; i++) this.expectations.creationObserved(key);
        active -= remaining;
        break;
      }
    }
    return { active, error };
  }

  /** The pods to delete when there are too many: for Indexed jobs duplicates and strays first, then the least useful. */
  private podsForRemoval(job: Job, pods: Pod[], rmAtLeast: number): Pod[] {
    const rm: Pod[] = [];
    let left: Pod[] = pods;
    if (isIndexed(job)) {
      const completions = job.spec?.completions ?? 1;
      left = [];
      const byIndex = new Map<number, Pod[]>();
      for (const p of pods) {
        const ix = completionIndexOf(p);
        if (ix < 0 || ix >= completions) rm.push(p);
        else byIndex.set(ix, [...(byIndex.get(ix) ?? []), p]);
      }
      for (const group of byIndex.values()) {
        group.sort(compareActivePods);
        rm.push(...group.slice(0, -1));
        left.push(group[group.length - 1]!);
      }
    }
    if (rm.length < rmAtLeast) rm.push(...[...left].sort(compareActivePods).slice(0, rmAtLeast - rm.length));
    return rm;
  }

  /** Deletes pods the job no longer wants; their finalizer goes first, as they are not to be counted. */
  private async deleteJobPods(key: string, job: Job, pods: Pod[]): Promise<{ deleted: number; deletedReady: number; error?: unknown }> {
    let deleted = 0;
    let deletedReady = 0;
    let error: unknown;
    const owner = { obj: job, apiVersion, kind };
    await Promise.all(
      pods.map(async (pod) => {
        try {
          if (hasFinalizer(pod)) await this.podControl.patchPod(pod.metadata.namespace!, pod.metadata.name!, removeFinalizerPatch());
          await this.podControl.deletePod(pod.metadata.namespace!, pod.metadata.name!, owner);
        } catch (err) {
          this.expectations.deletionObserved(key);
          if (!isNotFound(err)) {
            error ??= err;
            return;
          }
        }
        deleted++;
        if (isPodReady(pod)) deletedReady++;
      }),
    );
    return { deleted, deletedReady, error };
  }

  /** Deletes the running pods of a job that is ending; their finalizers stay so they are counted. */
  private async deleteActivePods(job: Job, pods: Pod[]): Promise<{ deleted: number; deletedReady: number; error?: unknown }> {
    let deleted = 0;
    let deletedReady = 0;
    let error: unknown;
    const owner = { obj: job, apiVersion, kind };
    await Promise.all(
      pods.map(async (pod) => {
        try {
          await this.podControl.deletePod(pod.metadata.namespace!, pod.metadata.name!, owner);
        } catch (err) {
          if (!isNotFound(err)) {
            error ??= err;
            return;
          }
        }
        deleted++;
        if (isPodReady(pod)) deletedReady++;
      }),
    );
    return { deleted, deletedReady, error };
  }

  /**
   * Counts finished pods (upstream trackJobStatusAndRemoveFinalizers): records their uids as
   * uncounted, removes their finalizers, then moves them into the counters; adds the interim
   * FailureTarget/SuccessCriteriaMet condition and, once nothing is left to count or
   * terminating, the final Failed/Complete one.
   */
  private async trackStatusAndRemoveFinalizers(key: string, c: SyncCtx, needsFlush: boolean): Promise<void> {
    const job = c.job;
    const status = job.status!;
    const uncounted = status.uncountedTerminatedPods!;
    const indexed = isIndexed(job);
    const completions = job.spec?.completions ?? 0;
    const pods = indexed ? [...c.pods].sort((a, b) => completionIndexOf(a) - completionIndexOf(b)) : c.pods;
    const withFinalizer = new Set(pods.filter((p) => hasFinalizer(p) && !c.expectedRmFinalizers.has(p.metadata.uid!)).map((p) => p.metadata.uid!));
    if (moveUncountedWithoutFinalizers(status, withFinalizer)) needsFlush = true;

    const toRelease: Pod[] = [];
    const newSucceededIndexes: number[] = [];
    let reachedMax = false;
    for (const pod of pods) {
      const uid = pod.metadata.uid!;
      if (!hasFinalizer(pod) || c.expectedRmFinalizers.has(uid)) continue;
      const failed = isPodFailed(pod, job);
      // A pod's finalizer may go once it finished, or when the whole job is ending.
      if (!(job.metadata.deletionTimestamp || c.finishedCondition || pod.status?.phase === 'Succeeded' || failed)) continue;
      toRelease.push(pod);
      if (pod.status?.phase === 'Succeeded' && !c.uncountedFailed.has(uid)) {
        if (indexed) {
          const ix = completionIndexOf(pod);
          if (ix >= 0 && ix < completions && !hasIndex(c.prevSucceededIndexes, ix)) {
            newSucceededIndexes.push(ix);
            needsFlush = true;
          }
        } else if (!c.uncountedSucceeded.has(uid)) {
          uncounted.succeeded = [...(uncounted.succeeded ?? []), uid];
          needsFlush = true;
        }
      } else if (failed || (c.finishedCondition && c.finishedCondition.type !== 'SuccessCriteriaMet' && c.finishedCondition.type !== 'Complete')) {
        // When the job is ending, every pod not succeeded counts as failed.
        const ix = completionIndexOf(pod);
        if (!c.uncountedFailed.has(uid) && (!indexed || (ix >= 0 && ix < completions))) {
          uncounted.failed = [...(uncounted.failed ?? []), uid];
          needsFlush = true;
        }
      }
      if (newSucceededIndexes.length + (uncounted.succeeded?.length ?? 0) + (uncounted.failed?.length ?? 0) >= maxUncountedPods) {
        reachedMax = true;
        break;
      }
    }
    if (indexed) {
      c.succeededIndexes = withIndexes(c.succeededIndexes, newSucceededIndexes);
      const s = formatIndexes(c.succeededIndexes);
      if (s !== (status.completedIndexes ?? '')) needsFlush = true;
      status.succeeded = totalIndexes(c.succeededIndexes);
      status.completedIndexes = s;
    }
    const now = this.clock.now();
    if (c.finishedCondition?.type === 'FailureTarget') {
      // Recorded before the finalizers go, so the reason survives a crash.
      (status.conditions ??= []).push(c.finishedCondition);
      needsFlush = true;
      c.finishedCondition = newCondition('Failed', 'True', c.finishedCondition.reason ?? '', c.finishedCondition.message ?? '', now);
    }
    if (c.finishedCondition?.type === 'SuccessCriteriaMet') {
      if (!condition(job, 'SuccessCriteriaMet')) {
        (status.conditions ??= []).push(c.finishedCondition);
        needsFlush = true;
      }
      c.finishedCondition = newCondition('Complete', 'True', c.finishedCondition.reason ?? '', c.finishedCondition.message ?? '', now);
    }

    // 1. Write the uncounted uids (and interim conditions).
    if (needsFlush) {
      c.job = await this.writeStatus(c.job);
      this.backoff.set(key, c.newBackoff);
      needsFlush = false;
    }
    // 2. Remove finalizers.
    let rmErr: unknown;
    if (toRelease.length) {
      const expected = this.finalizerExpectations.get(key) ?? new Set<string>();
      this.finalizerExpectations.set(key, expected);
      for (const p of toRelease) expected.add(p.metadata.uid!);
      await Promise.all(
        toRelease.map(async (p) => {
          try {
            await this.podControl.patchPod(p.metadata.namespace!, p.metadata.name!, removeFinalizerPatch());
            withFinalizer.delete(p.metadata.uid!);
          } catch (err) {
            expected.delete(p.metadata.uid!);
            if (isNotFound(err)) withFinalizer.delete(p.metadata.uid!);
            else rmErr ??= err;
          }
        }),
      );
    }
    // 3. Count what lost its finalizer.
    const st = c.job.status!;
    if (moveUncountedWithoutFinalizers(st, withFinalizer)) needsFlush = true;
    if (rmErr && needsFlush) {
      c.job = await this.writeStatus(c.job);
      throw rmErr;
    }
    if (rmErr) throw rmErr;
    // 4. The end, once everything is counted and nothing is still terminating.
    const finished = !reachedMax && this.enactFinished(c, now);
    if (finished) needsFlush = true;
    if (needsFlush) {
      c.job = await this.writeStatus(c.job);
      if (finished) this.recordFinished(c.job, c.finishedCondition!);
    }
  }

  private enactFinished(c: SyncCtx, now: number): boolean {
    const fc = c.finishedCondition;
    if (!fc) return false;
    const st = c.job.status!;
    if ((st.uncountedTerminatedPods?.succeeded?.length ?? 0) + (st.uncountedTerminatedPods?.failed?.length ?? 0) > 0) return false;
    if (c.terminating > 0) return false;
    ensureCondition(st, fc.type, 'True', fc.reason ?? '', fc.message ?? '', now);
    if (fc.type === 'Complete') st.completionTime = condition(c.job, 'Complete')?.lastTransitionTime ?? rfc3339(now);
    return true;
  }

  private recordFinished(job: Job, fc: JobCondition): void {
    if (fc.type === 'Complete') {
      const completions = job.spec?.completions;
      if (completions !== undefined && (job.status?.succeeded ?? 0) > completions) this.event(job, 'Warning', 'TooManySucceededPods', 'Too many succeeded pods running after completion count reached');
      this.event(job, 'Normal', 'Completed', 'Job completed');
    } else this.event(job, 'Warning', fc.reason ?? 'Failed', fc.message ?? '');
  }

  private async writeStatus(job: Job): Promise<Job> {
    const st = job.status!;
    // Empty uncounted lists are written as an empty object, as upstream does.
    const u = st.uncountedTerminatedPods ?? {};
    st.uncountedTerminatedPods = { ...(u.succeeded?.length ? { succeeded: u.succeeded } : {}), ...(u.failed?.length ? { failed: u.failed } : {}) };
    // Zero counters are omitted (omitempty upstream); ready and terminating are pointers and stay.
    for (const k of ['active', 'succeeded', 'failed'] as const) if (st[k] === 0) delete st[k];
    const written = await this.o.client.resource(Resources.jobs, job.metadata.namespace).updateStatus(job);
    written.status ??= {};
    written.status.uncountedTerminatedPods ??= {};
    return written;
  }
}

/** Moves uncounted uids whose pods no longer carry the finalizer into the counters; true if any moved. */
function moveUncountedWithoutFinalizers(status: JobStatus, withFinalizer: Set<string>): boolean {
  const u = (status.uncountedTerminatedPods ??= {});
  let changed = false;
  const keep = (list: string[] | undefined, counter: 'succeeded' | 'failed') => {
    if (!list?.length) return list;
    const kept = list.filter((uid) => withFinalizer.has(uid));
    if (kept.length !== list.length) {
      status[counter] = (status[counter] ?? 0) + list.length - kept.length;
      changed = true;
    }
    return kept;
  };
  u.succeeded = keep(u.succeeded, 'succeeded');
  u.failed = keep(u.failed, 'failed');
  return changed;
}

/** A strategic merge patch removing the tracking finalizer. */
export function removeFinalizerPatch(): unknown {
  return { metadata: { '$deleteFromPrimitiveList/finalizers': [jobTrackingFinalizer] } };
}

/** `<job>-<index>-`, cut so that the generated name fits 63 characters. */
export function indexedGenerateName(jobName: string, index: number): string {
  const suffix = `-${index}-`;
  const prefix = jobName + suffix;
  const max = 63 - 5;
  return prefix.length > max ? prefix.slice(0, max - suffix.length) + suffix : prefix;
}

/** JOB_COMPLETION_INDEX in every container, from the pod's completion index label. */
function addCompletionIndexEnv(t: PodTemplateSpec): void {
  const add = (containers: { env?: { name: string; value?: string; valueFrom?: unknown }[] }[] | undefined) => {
    for (const c of containers ?? []) {
      if ((c.env ?? []).some((e) => e.name === 'JOB_COMPLETION_INDEX')) continue;
      c.env = [...(c.env ?? []), { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.labels['${completionIndexAnnotation}']` } } }];
    }
  };
  add(t.spec?.initContainers as never);
  add(t.spec?.containers as never);
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
