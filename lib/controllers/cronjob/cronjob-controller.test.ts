import { afterEach, describe, expect, test } from 'vitest';
import type { CronJob, Job } from '../../api/index.js';
import { rfc3339 } from '../../base/index.js';
import { Resources } from '../../client/index.js';
import { eventually, newHarness, settle, type Harness } from '../replicaset/testing.js';
import { CronJobController, jobNameFor } from './cronjob-controller.js';

let h: Harness;
afterEach(async () => {
  await h?.stop();
});

const T0 = Date.UTC(2026, 0, 1, 12, 0, 30); // 12:00:30; the next minute is 12:01
const cronJobs = () => h.client.resource(Resources.cronJobs, 'default');
const jobs = () => h.client.resource(Resources.jobs, 'default');

function cronJob(name: string, spec: Partial<NonNullable<CronJob['spec']>> = {}): CronJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace: 'default' },
    spec: {
      schedule: '* * * * *',
      concurrencyPolicy: 'Allow',
      suspend: false,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
      jobTemplate: { metadata: { labels: { team: 'a' } }, spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'hello', image: 'busybox' }] } } } },
      ...spec,
    },
  };
}

async function start(): Promise<void> {
  h = newHarness(T0);
  await h.run(new CronJobController({ client: h.client, informers: h.factory, recorder: h.recorder, clock: h.clock, defaultTimeZone: 'UTC' }));
}

const jobNames = async () => (await jobs().list()).items.map((j) => j.metadata.name).sort();

async function complete(name: string, type: 'Complete' | 'Failed' = 'Complete'): Promise<void> {
  const j = await jobs().get(name);
  const now = rfc3339(h.clock.now());
  await jobs().updateStatus({ ...j, status: { startTime: j.status?.startTime ?? now, completionTime: type === 'Complete' ? now : undefined, conditions: [{ type, status: 'True', lastTransitionTime: now }] } });
}

/** Moves the fake clock minute by minute (each minute the controller wakes). */
async function minutes(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await h.clock.advance(60_000);
    await settle(h);
  }
}

describe('CronJob controller', () => {
  test('creates <cronjob>-<minutes> at each schedule time and tracks it in status', async () => {
    await start();
    const cj = await cronJobs().create(cronJob('hello'));
    await settle(h);
    expect(await jobNames()).toEqual([]);
    await minutes(1);
    const first = Date.UTC(2026, 0, 1, 12, 1);
    expect(await jobNames()).toEqual([`hello-${first / 60_000}`]);
    const job = await jobs().get(jobNameFor(cj, first));
    expect(job.metadata.labels).toEqual({ team: 'a' });
    expect(job.metadata.annotations).toEqual({ 'batch.kubernetes.io/cronjob-scheduled-timestamp': '2026-01-01T12:01:00Z' });
    expect(job.metadata.ownerReferences).toEqual([{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'hello', uid: cj.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    const st = (await cronJobs().get('hello')).status!;
    expect(st.lastScheduleTime).toBe('2026-01-01T12:01:00Z');
    expect(st.active).toEqual([{ kind: 'Job', namespace: 'default', name: job.metadata.name, uid: job.metadata.uid, apiVersion: 'batch/v1', resourceVersion: job.metadata.resourceVersion }]);
    expect(h.recorder.lines()).toEqual([`SuccessfulCreate: Created job ${job.metadata.name}`]);

    await h.clock.advance(20_000);
    await complete(job.metadata.name!);
    await eventually(async () => (await cronJobs().get('hello')).status?.active === undefined, 'active cleared');
    const after = (await cronJobs().get('hello')).status!;
    expect(after.lastSuccessfulTime).toBe('2026-01-01T12:01:50Z');
    expect(h.recorder.lines()).toContain(`SawCompletedJob: Saw completed job: ${job.metadata.name}, condition: Complete`);
    await minutes(1);
    expect((await jobNames()).length).toBe(2);
  });

  test('Forbid skips a run while the last one is active', async () => {
    await start();
    await cronJobs().create(cronJob('solo', { concurrencyPolicy: 'Forbid' }));
    await minutes(3);
    expect((await jobNames()).length).toBe(1);
    expect(h.recorder.lines((e) => e.reason === 'JobAlreadyActive')[0]).toBe('JobAlreadyActive: Not starting job because prior execution is running and concurrency policy is Forbid');
    await complete((await jobNames())[0]!);
    await settle(h);
    await minutes(1);
    expect((await jobNames()).length).toBe(2);
  });

  test('Replace deletes the running job and starts the new one', async () => {
    await start();
    await cronJobs().create(cronJob('swap', { concurrencyPolicy: 'Replace' }));
    await minutes(1);
    const [first] = await jobNames();
    await minutes(1);
    const names = await jobNames();
    expect(names.length).toBe(1);
    expect(names[0]).not.toBe(first);
    expect(h.recorder.lines((e) => e.reason === 'SuccessfulDelete')).toEqual([`SuccessfulDelete: Deleted job ${first}`]);
    expect((await cronJobs().get('swap')).status!.active!.map((r) => r.name)).toEqual(names);
  });

  test('keeps successfulJobsHistoryLimit completed and failedJobsHistoryLimit failed jobs', async () => {
    await start();
    await cronJobs().create(cronJob('tidy', { successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1 }));
    const outcomes: ('Complete' | 'Failed')[] = ['Complete', 'Failed', 'Complete', 'Failed', 'Complete'];
    for (const o of outcomes) {
      await minutes(1);
      const active = (await cronJobs().get('tidy')).status!.active![0]!.name!;
      await h.clock.advance(1000);
      await complete(active, o);
      await settle(h);
    }
    await minutes(1);
    const left = (await jobs().list()).items.filter((j: Job) => j.status?.conditions);
    expect(left.map((j) => j.status!.conditions![0]!.type).sort()).toEqual(['Complete', 'Complete', 'Failed']);
    expect(h.recorder.events.filter((e) => e.reason === 'SuccessfulDelete').length).toBe(2);
  });

  test('suspended cron jobs start nothing; after a long suspension only the latest missed time within startingDeadlineSeconds runs', async () => {
    await start();
    await cronJobs().create(cronJob('paused', { suspend: true, startingDeadlineSeconds: 45 }));
    await minutes(5);
    expect(await jobNames()).toEqual([]);
    await h.clock.advance(10_000);
    await cronJobs().patch('paused', 'merge', { spec: { suspend: false } });
    await settle(h);
    // Only 12:05 is within the 45s deadline at 12:05:40; 12:01-12:04 are not run late.
    expect(await jobNames()).toEqual([`paused-${Date.UTC(2026, 0, 1, 12, 5) / 60_000}`]);
  });

  test('spec.timeZone: the schedule is read in that zone, and the annotation says so', async () => {
    await start();
    await cronJobs().create(cronJob('tokyo', { schedule: '0 21 * * *', timeZone: 'Asia/Tokyo' }));
    // 21:00 in Tokyo is 12:00 UTC: the next one is tomorrow.
    await h.clock.advance(24 * 3_600_000);
    await settle(h);
    const [name] = await jobNames();
    expect(name).toBe(`tokyo-${Date.UTC(2026, 0, 2, 12, 0) / 60_000}`);
    expect((await jobs().get(name!)).metadata.annotations!['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe('2026-01-02T21:00:00+09:00');
  });

  test('an unparseable schedule is reported as an event', async () => {
    await start();
    await cronJobs().create(cronJob('bad', { schedule: '61 * * * *' }));
    await eventually(() => h.recorder.events.some((e) => e.reason === 'UnparseableSchedule'), 'event');
    expect(h.recorder.lines()[0]).toContain('unparseable schedule: "61 * * * *"');
  });
});
