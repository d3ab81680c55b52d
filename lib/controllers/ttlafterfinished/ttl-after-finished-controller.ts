/**
 * The TTL-after-finished controller: a Job with spec.ttlSecondsAfterFinished is deleted that
 * many seconds after it finished (its Complete or Failed condition turned True), with its pods
 * (cascading deletion). Before deleting, it reads the Job afresh: a TTL changed in the meantime
 * counts.
 *
 * The deletion uses propagationPolicy Foreground, as upstream does: the Job stays (with the
 * foregroundDeletion finalizer) until the garbage collector has removed its pods.
 */
import type { Logger } from 'pino';
import type { Job } from '../../api/index.js';
import { realClock, silentLogger, type Clock, type Runnable } from '../../base/index.js';
import { Resources, metaNamespaceKey, splitMetaNamespaceKey, waitForCacheSync, type KubeClient, type Lister, type SharedInformerFactory } from '../../client/index.js';
import { RateLimitingQueue, runWorkers, type ReconcileResult } from '../../controller/index.js';
import { isNotFound } from '../../machinery/index.js';

export interface TTLAfterFinishedControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  workers?: number;
  /** Deletion propagation (default Foreground, as upstream). */
  propagationPolicy?: 'Foreground' | 'Background';
  log?: Logger;
  clock?: Clock;
}

/** When the job finished (the transition time of its Complete/Failed condition), if it did. */
export function jobFinishTime(job: Job): number | undefined {
  for (const c of job.status?.conditions ?? []) {
    if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') {
      const t = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
      return Number.isNaN(t) ? undefined : t;
    }
  }
  return undefined;
}

function needsCleanup(job: Job): boolean {
  return job.spec?.ttlSecondsAfterFinished !== undefined && job.spec.ttlSecondsAfterFinished !== null && jobFinishTime(job) !== undefined;
}

/** Milliseconds until the job expires (≤ 0: now), or undefined when it never does. */
export function timeLeft(job: Job, now: number): number | undefined {
  if (job.metadata.deletionTimestamp || !needsCleanup(job)) return undefined;
  return jobFinishTime(job)! + job.spec!.ttlSecondsAfterFinished! * 1000 - now;
}

export class TTLAfterFinishedController implements Runnable {
  readonly queue: RateLimitingQueue<string>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly jobs: Lister<Job>;
  private readonly informer: { waitForCacheSync(signal?: AbortSignal): Promise<boolean> };

  constructor(private readonly o: TTLAfterFinishedControllerOptions) {
    this.log = (o.log ?? silentLogger()).child({ controller: 'ttl-after-finished' });
    this.clock = o.clock ?? realClock;
    this.queue = new RateLimitingQueue<string>({ clock: o.clock });
    const inf = o.informers.informerFor(Resources.jobs);
    this.jobs = inf.lister();
    this.informer = inf;
    const enqueue = (j: Job) => {
      if (!j.metadata.deletionTimestamp && needsCleanup(j)) this.queue.add(metaNamespaceKey(j));
    };
    inf.addEventHandler({ onAdd: enqueue, onUpdate: (_o, j) => enqueue(j) });
  }

  async start(signal: AbortSignal): Promise<void> {
    if (!(await waitForCacheSync(signal, this.informer))) return;
    this.log.info('starting');
    await runWorkers(this.queue, this.o.workers ?? 5, (key) => this.sync(key), signal, { log: this.log, name: 'ttl-after-finished' });
    this.log.info('stopped');
  }

  async sync(key: string): Promise<ReconcileResult> {
    const job = this.jobs.get(key);
    if (!job) return;
    const left = timeLeft(job, this.clock.now());
    if (left === undefined) return;
    if (left > 0) return { requeueAfterMs: left };
    const { namespace, name } = splitMetaNamespaceKey(key);
    const client = this.o.client.resource(Resources.jobs, namespace);
    let fresh: Job;
    try {
      fresh = await client.get(name);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    const freshLeft = timeLeft(fresh, this.clock.now());
    if (freshLeft === undefined) return;
    if (freshLeft > 0) return { requeueAfterMs: freshLeft };
    try {
      await client.delete(name, { propagationPolicy: this.o.propagationPolicy ?? 'Foreground', preconditions: { uid: fresh.metadata.uid } });
      this.log.info({ job: key }, 'deleted finished job whose TTL expired');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
