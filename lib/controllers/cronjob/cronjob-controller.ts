/**
 * The CronJob controller (upstream's v2): each sync of a cron job
 *
 *   1. deletes the oldest finished jobs beyond the success/failure history limits;
 *   2. reconciles status.active with the jobs it owns (a finished one → SawCompletedJob);
 *   3. finds the most recent schedule time not yet run (within startingDeadlineSeconds),
 *      applies the concurrency policy (Allow, Forbid: skip, Replace: delete the running
 *      ones) and creates the job `<cronjob>-<scheduled time in minutes>`: the name is the
 *      lock that keeps a time from being run twice;
 *   4. requeues itself for the next schedule time (plus 100ms).
 *
 * Time comes from the controller's Clock, so tests can move it.
 */
import type { Logger } from 'pino';
import type { CronJob, Job, KubeObject, ObjectReference } from '../../api/index.js';
import { rfc3339, realClock, silentLogger, type Clock, type Runnable } from '../../base/index.js';
import {
  Resources,
  deepCopy,
  deletedObject,
  splitMetaNamespaceKey,
  type EventRecorder,
  type KubeClient,
  type SharedInformer,
  type SharedInformerFactory,
} from '../../client/index.js';
import { RateLimitingQueue, type ReconcileResult } from '../../controller/index.js';
import { isAlreadyExists, isNotFound, jsonEqual } from '../../machinery/index.js';
import { KeyedSerializer, errorMessage, getControllerOf, isNamespaceTerminating, newControllerRef, objectKey, parseTime, recordEvent, runController } from '../replicaset/index.js';
import { CronParseError, checkTimeZone, localTimeZone, offsetAt, parseSchedule, type Schedule } from './cron.js';

const kind = 'CronJob';
const apiVersion = 'batch/v1';
export const scheduledTimestampAnnotation = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** Requeues land this long after the schedule time, so the time has surely come. */
const nextScheduleDeltaMs = 100;

export interface CronJobControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  recorder: EventRecorder;
  log?: Logger;
  clock?: Clock;
  workers?: number;
  /** Time zone of schedules without spec.timeZone (default: this process's). */
  defaultTimeZone?: string;
}

const finishedType = (j: Job): 'Complete' | 'Failed' | undefined =>
  (j.status?.conditions ?? []).find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')?.type as 'Complete' | 'Failed' | undefined;

/** `<cronjob>-<scheduled time in minutes since the epoch>`. */
export function jobNameFor(cj: CronJob, scheduledTime: number): string {
  return `${cj.metadata.name}-${Math.floor(scheduledTime / 60_000)}`;
}

/** RFC 3339 in the given zone, with its offset (Go's time.RFC3339 of t.In(loc)). */
export function rfc3339In(t: number, tz: string): string {
  const offset = tz === 'UTC' ? 0 : offsetAt(t, tz);
  if (offset === 0) return rfc3339(t);
  const local = new Date(Math.floor(t / 1000) * 1000 + offset).toISOString().replace('.000Z', '');
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset) / 60_000;
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

type Missed = 'none' | 'few' | 'many';

/**
 * The most recent schedule time at or before `now` since the last one scheduled (or the
 * creation), bounded by startingDeadlineSeconds when asked (upstream mostRecentScheduleTime).
 */
export function mostRecentScheduleTime(cj: CronJob, now: number, sched: Schedule, withDeadline: boolean): { earliest: number; mostRecent?: number; missed: Missed } {
  let earliest = parseTime(cj.status?.lastScheduleTime) ?? parseTime(cj.metadata.creationTimestamp) ?? now;
  const deadline = cj.spec?.startingDeadlineSeconds;
  if (withDeadline && deadline !== undefined) earliest = Math.max(earliest, now - deadline * 1000);
  const t1 = sched.next(earliest);
  if (t1 === undefined || now < t1) return { earliest, missed: 'none' };
  const t2 = sched.next(t1);
  if (t2 === undefined || now < t2) return { earliest, mostRecent: t1, missed: 'none' };
  const between = Math.round((t2 - t1) / 1000);
  if (between < 1) throw new CronParseError('time difference between two schedules is less than 1 second');
  const missedCount = Math.floor((now - t1) / 1000 / between) + 1;
  let mostRecent: number | undefined;
  // Jump close to now, then step with the schedule itself (irregular schedules differ from the average gap).
  const start = t1 + (missedCount - 2) * between * 1000;
  for (let t = sched.next(start); t !== undefined && t <= now; t = sched.next(t)) mostRecent = t;
  const missed: Missed = missedCount > 100 ? 'many' : missedCount > 0 ? 'few' : 'none';
  return { earliest, mostRecent, missed };
}

export class CronJobController implements Runnable {
  readonly queue: RateLimitingQueue<string>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly cjInformer: SharedInformer<CronJob>;
  private readonly jobInformer: SharedInformer<Job>;
  private readonly serializer = new KeyedSerializer();
  private readonly defaultTZ: string;

  constructor(private readonly o: CronJobControllerOptions) {
    this.clock = o.clock ?? realClock;
    this.log = o.log ?? silentLogger();
    this.queue = new RateLimitingQueue<string>({ clock: this.clock });
    this.cjInformer = o.informers.informerFor(Resources.cronJobs);
    this.jobInformer = o.informers.informerFor(Resources.jobs);
    this.defaultTZ = o.defaultTimeZone ?? localTimeZone();
  }

  start(signal: AbortSignal): Promise<void> {
    return runController(signal, {
      name: 'cronjob',
      log: this.log,
      queue: this.queue,
      workers: this.o.workers ?? 5,
      informers: [this.cjInformer, this.jobInformer],
      reconcile: (key) => this.sync(key),
      register: () => [
        this.cjInformer.addEventHandler({
          onAdd: (cj) => this.enqueue(cj),
          onUpdate: (old, cur) => this.updateCronJob(old, cur),
          onDelete: (cj) => this.enqueue(deletedObject(cj)),
        }),
        this.jobInformer.addEventHandler({
          onAdd: (j) => this.enqueueOwner(j),
          onUpdate: (old, cur) => {
            if (!jsonEqual(getControllerOf(old), getControllerOf(cur))) this.enqueueOwner(old);
            this.enqueueOwner(cur);
          },
          onDelete: (j) => this.enqueueOwner(deletedObject(j)),
        }),
      ],
    });
  }

  private enqueue(obj: KubeObject, afterMs = 0): void {
    if (afterMs > 0) this.queue.addAfter(objectKey(obj), afterMs);
    else this.queue.add(objectKey(obj));
  }

  private enqueueOwner(job: Job): void {
    const ref = getControllerOf(job);
    if (!ref || ref.kind !== kind) return;
    const cj = this.cjInformer.lister().namespace(job.metadata.namespace ?? '').get(ref.name);
    if (cj && cj.metadata.uid === ref.uid) this.enqueue(cj);
  }

  private updateCronJob(old: CronJob, cur: CronJob): void {
    if (old.spec?.schedule !== cur.spec?.schedule || old.spec?.timeZone !== cur.spec?.timeZone) {
      // A new schedule: look again at its next time (sooner wins in the queue).
      try {
        const sched = parseSchedule(this.formatSchedule(cur), this.defaultTZ);
        this.enqueue(cur, this.nextScheduleIn(cur, this.clock.now(), sched));
        return;
      } catch {
        // Invalid: the sync reports it.
      }
    }
    this.enqueue(cur);
  }

  private event(cj: CronJob, type: 'Normal' | 'Warning', reason: string, message: string): void {
    recordEvent(this.o.recorder, cj, apiVersion, kind, type, reason, message);
  }

  /** The schedule with the time zone the parser should use. */
  private formatSchedule(cj: CronJob, warn = false): string {
    const s = cj.spec?.schedule ?? '';
    if (s.includes('TZ')) {
      if (warn) this.event(cj, 'Warning', 'UnsupportedSchedule', `CRON_TZ or TZ used in schedule "${s}" is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details`);
      return s;
    }
    if (cj.spec?.timeZone) return `TZ=${cj.spec.timeZone} ${s}`;
    return s;
  }

  /** How long until the next schedule time after the last one (upstream nextScheduleTimeDuration). */
  private nextScheduleIn(cj: CronJob, now: number, sched: Schedule): number {
    let from: number;
    try {
      const r = mostRecentScheduleTime(cj, now, sched, false);
      from = r.mostRecent ?? (r.missed === 'none' ? r.earliest : now);
    } catch {
      from = now;
    }
    const next = sched.next(from) ?? now + 60_000;
    return Math.max(1, next + nextScheduleDeltaMs - now);
  }

  // ---- sync ---------------------------------------------------------------------------------

  sync(key: string): Promise<ReconcileResult> {
    return this.serializer.run(key, () => this.syncOnce(key));
  }

  private async syncOnce(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const cached = this.cjInformer.lister().namespace(namespace ?? '').get(name);
    if (!cached) return;
    const jobs = this.jobInformer
      .lister()
      .namespace(namespace ?? '')
      .list()
      .filter((j) => getControllerOf(j)?.uid === cached.metadata.uid);
    const cj = deepCopy(cached);
    cj.status ??= {};
    const cleaned = await this.cleanupFinishedJobs(cj, jobs);
    let requeueAfterMs: number | undefined;
    let synced = false;
    let syncErr: unknown;
    try {
      const r = await this.syncCronJob(cj, jobs);
      requeueAfterMs = r.requeueAfterMs;
      synced = r.updateStatus;
    } catch (err) {
      syncErr = err;
    }
    if ((cleaned || synced) && !jsonEqual(cached.status ?? {}, cj.status ?? {})) {
      await this.o.client.resource(Resources.cronJobs, cj.metadata.namespace).updateStatus(cj);
    }
    if (syncErr) throw syncErr;
    if (requeueAfterMs !== undefined) return { requeueAfterMs };
  }

  private async syncCronJob(cj: CronJob, jobs: Job[]): Promise<{ requeueAfterMs?: number; updateStatus: boolean }> {
    const now = this.clock.now();
    let updateStatus = false;
    const status = cj.status!;
    const children = new Set<string>();
    for (const j of jobs) {
      children.add(j.metadata.uid!);
      const inActive = (status.active ?? []).some((r) => r.uid === j.metadata.uid);
      const finished = finishedType(j);
      if (!inActive && !finished) {
        // Perhaps our status update after creating it was lost: check the latest status first.
        const fresh = await this.o.client.resource(Resources.cronJobs, cj.metadata.namespace).get(cj.metadata.name!);
        if ((fresh.status?.active ?? []).some((r) => r.uid === j.metadata.uid)) {
          status.active = deepCopy(fresh.status!.active);
          continue;
        }
        this.event(cj, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${j.metadata.name}`);
      } else if (inActive && finished) {
        status.active = (status.active ?? []).filter((r) => r.uid !== j.metadata.uid);
        this.event(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata.name}, condition: ${finished}`);
        updateStatus = true;
        if (finished === 'Complete') updateStatus = this.noteSuccess(cj, j) || updateStatus;
      } else if (finished === 'Complete') {
        updateStatus = this.noteSuccess(cj, j) || updateStatus;
      }
    }
    // Active jobs that are gone (checked against the API server, not a lagging cache).
    for (const ref of [...(status.active ?? [])]) {
      if (children.has(ref.uid ?? '')) continue;
      try {
        await this.o.client.resource(Resources.jobs, ref.namespace ?? cj.metadata.namespace).get(ref.name ?? '');
      } catch (err) {
        if (!isNotFound(err)) throw err;
        this.event(cj, 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
        status.active = (status.active ?? []).filter((r) => r.uid !== ref.uid);
        updateStatus = true;
      }
    }
    if (status.active && status.active.length === 0) delete status.active;

    if (cj.metadata.deletionTimestamp) return { updateStatus };
    if (cj.spec?.timeZone) {
      try {
        checkTimeZone(cj.spec.timeZone);
      } catch (err) {
        this.event(cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: "${cj.spec.timeZone}": ${errorMessage(err)}`);
        return { updateStatus };
      }
    }
    if (cj.spec?.suspend) return { updateStatus };
    let sched: Schedule;
    try {
      sched = parseSchedule(this.formatSchedule(cj, true), this.defaultTZ);
    } catch (err) {
      this.event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: "${cj.spec?.schedule}" : ${errorMessage(err)}`);
      return { updateStatus };
    }
    let scheduled: number | undefined;
    try {
      const r = mostRecentScheduleTime(cj, now, sched, true);
      scheduled = r.mostRecent !== undefined && r.mostRecent <= now ? r.mostRecent : undefined;
      if (scheduled !== undefined && r.missed === 'many') {
        this.event(cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
      }
    } catch (err) {
      this.event(cj, 'Warning', 'InvalidSchedule', `invalid schedule: ${cj.spec?.schedule} : ${errorMessage(err)}`);
      return { updateStatus };
    }
    const next = () => this.nextScheduleIn(cj, now, sched);
    if (scheduled === undefined) return { requeueAfterMs: next(), updateStatus };

    const deadline = cj.spec?.startingDeadlineSeconds;
    if (deadline !== undefined && scheduled + deadline * 1000 < now) {
      this.event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${new Date(scheduled).toUTCString().replace('GMT', '+0000')}`);
      return { requeueAfterMs: next(), updateStatus };
    }
    const jobName = jobNameFor(cj, scheduled);
    if ((status.active ?? []).some((r) => r.name === jobName) || parseTime(status.lastScheduleTime) === scheduled) {
      return { requeueAfterMs: next(), updateStatus };
    }
    if (cj.spec?.concurrencyPolicy === 'Forbid' && (status.active ?? []).length > 0) {
      this.event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return { requeueAfterMs: next(), updateStatus };
    }
    if (cj.spec?.concurrencyPolicy === 'Replace') {
      for (const ref of [...(status.active ?? [])]) {
        let job: Job;
        try {
          job = await this.o.client.resource(Resources.jobs, ref.namespace ?? cj.metadata.namespace).get(ref.name ?? '');
        } catch (err) {
          this.event(cj, 'Warning', 'FailedGet', `Get job: ${errorMessage(err)}`);
          throw err;
        }
        if (!(await this.deleteJob(cj, job))) throw new Error(`could not replace job ${job.metadata.namespace}/${job.metadata.name}`);
        updateStatus = true;
      }
    }

    const jobsClient = this.o.client.resource(Resources.jobs, cj.metadata.namespace);
    const request = this.jobFromTemplate(cj, scheduled);
    let created: Job;
    let existed = false;
    try {
      created = await jobsClient.create(request);
    } catch (err) {
      if (isNamespaceTerminating(err)) throw err;
      if (!isAlreadyExists(err)) {
        this.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${errorMessage(err)}`);
        throw err;
      }
      // Created before, but the status saying so was lost (or someone else made it).
      existed = true;
      created = await jobsClient.get(jobName);
      if (getControllerOf(created)?.uid !== cj.metadata.uid) return { updateStatus };
      if ((status.active ?? []).some((r) => r.uid === created.metadata.uid)) return { updateStatus };
    }
    if (!existed) this.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata.name}`);
    const ref: ObjectReference = { kind: 'Job', namespace: created.metadata.namespace, name: created.metadata.name, uid: created.metadata.uid, apiVersion, resourceVersion: created.metadata.resourceVersion };
    status.active = [...(status.active ?? []), ref];
    status.lastScheduleTime = rfc3339(scheduled);
    return { requeueAfterMs: next(), updateStatus: true };
  }

  private noteSuccess(cj: CronJob, j: Job): boolean {
    const done = parseTime(j.status?.completionTime);
    if (done === undefined) return false;
    const last = parseTime(cj.status?.lastSuccessfulTime);
    if (last !== undefined && done <= last) return false;
    cj.status!.lastSuccessfulTime = j.status!.completionTime;
    return true;
  }

  private jobFromTemplate(cj: CronJob, scheduled: number): Job {
    const t = cj.spec!.jobTemplate;
    const annotations = { ...(t.metadata?.annotations ?? {}) };
    // Upstream loads spec.timeZone ("" is UTC) for this annotation.
    annotations[scheduledTimestampAnnotation] = rfc3339In(scheduled, cj.spec?.timeZone || 'UTC');
    const job: Job = {
      apiVersion,
      kind: 'Job',
      metadata: {
        name: jobNameFor(cj, scheduled),
        namespace: cj.metadata.namespace,
        labels: { ...(t.metadata?.labels ?? {}) },
        annotations,
        ownerReferences: [newControllerRef(cj, apiVersion, kind)],
      },
      spec: deepCopy(t.spec!),
    };
    return job;
  }

  /** Deletes a job (in the background, taking its pods) and drops it from status.active. */
  private async deleteJob(cj: CronJob, job: Job): Promise<boolean> {
    try {
      await this.o.client.resource(Resources.jobs, job.metadata.namespace).delete(job.metadata.name!, { propagationPolicy: 'Background' });
    } catch (err) {
      if (!isNotFound(err)) {
        this.event(cj, 'Warning', 'FailedDelete', `Deleted job: ${errorMessage(err)}`);
        return false;
      }
    }
    cj.status!.active = (cj.status!.active ?? []).filter((r) => r.uid !== job.metadata.uid);
    if (cj.status!.active.length === 0) delete cj.status!.active;
    this.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`);
    return true;
  }

  /** Keeps at most successfulJobsHistoryLimit completed and failedJobsHistoryLimit failed jobs, deleting the oldest. */
  private async cleanupFinishedJobs(cj: CronJob, jobs: Job[]): Promise<boolean> {
    const ok = cj.spec?.successfulJobsHistoryLimit;
    const bad = cj.spec?.failedJobsHistoryLimit;
    if (ok === undefined && bad === undefined) return false;
    const succeeded = jobs.filter((j) => finishedType(j) === 'Complete');
    const failed = jobs.filter((j) => finishedType(j) === 'Failed');
    let changed = false;
    for (const [list, limit] of [
      [succeeded, ok],
      [failed, bad],
    ] as const) {
      if (limit === undefined || list.length <= limit) continue;
      const sorted = [...list].sort(byStartTime);
      for (const j of sorted.slice(0, list.length - limit)) if (await this.deleteJob(cj, j)) changed = true;
    }
    return changed;
  }
}

/** Oldest start first; jobs that never started last; ties by name. */
function byStartTime(a: Job, b: Job): number {
  const sa = parseTime(a.status?.startTime);
  const sb = parseTime(b.status?.startTime);
  if (sa === undefined && sb !== undefined) return 1;
  if (sa !== undefined && sb === undefined) return -1;
  if (sa === sb) return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
  return sa! - sb!;
}
