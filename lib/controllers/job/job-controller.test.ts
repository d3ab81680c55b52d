import { afterEach, describe, expect, test } from 'vitest';
import type { Job } from '../../api/index.js';
import { rfc3339 } from '../../base/index.js';
import { Resources } from '../../client/index.js';
import { eventually, newHarness, settle, type Harness } from '../replicaset/testing.js';
import { remainingBackoff } from './backoff.js';
import { formatIndexes, parseIndexes, withIndexes } from './indexes.js';
import { JobController, jobTrackingFinalizer } from './job-controller.js';

let h: Harness;
afterEach(async () => {
  await h?.stop();
});

const jobs = () => h.client.resource(Resources.jobs, 'default');
const pods = () => h.client.resource(Resources.pods, 'default');

function job(name: string, spec: Partial<NonNullable<Job['spec']>> = {}): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default' },
    spec: {
      completions: 1,
      parallelism: 1,
      backoffLimit: 6,
      completionMode: 'NonIndexed',
      suspend: false,
      selector: { matchLabels: { job: name } },
      template: { metadata: { labels: { job: name } }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } },
      ...spec,
    },
  };
}

async function start(): Promise<void> {
  h = newHarness();
  await h.run(new JobController({ client: h.client, informers: h.factory, recorder: h.recorder, clock: h.clock, podUpdateBatchPeriodMs: 0 }));
}

const live = async () => (await pods().list()).items.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');

/** The kubelet's report of a finished pod. */
async function finish(name: string, phase: 'Succeeded' | 'Failed'): Promise<void> {
  const p = await pods().get(name);
  const t = rfc3339(h.clock.now());
  await pods().updateStatus({
    ...p,
    status: { phase, containerStatuses: [{ name: 'main', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: phase === 'Succeeded' ? 0 : 1, finishedAt: t, startedAt: t } } }] },
  });
}

async function running(name: string): Promise<void> {
  const p = await pods().get(name);
  await pods().updateStatus({ ...p, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: rfc3339(h.clock.now()) }] } });
}

const conditionTypes = async (name: string) => ((await jobs().get(name)).status?.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`);

describe('Job controller', () => {
  test('runs parallelism pods at a time until completions succeed, counting each pod once through its finalizer', async () => {
    await start();
    const created = await jobs().create(job('pi', { completions: 3, parallelism: 2 }));
    await eventually(async () => (await live()).length === 2, '2 pods');
    const [a, b] = await live();
    expect(a!.metadata.finalizers).toEqual([jobTrackingFinalizer]);
    expect(a!.metadata.generateName).toBe('pi-');
    expect(a!.metadata.ownerReferences).toEqual([{ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: created.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    await eventually(async () => (await jobs().get('pi')).status?.active === 2, 'active 2');
    expect((await jobs().get('pi')).status?.startTime).toBe(rfc3339(h.clock.now()));

    await finish(a!.metadata.name!, 'Succeeded');
    await eventually(async () => (await jobs().get('pi')).status?.succeeded === 1, 'succeeded 1');
    // Counted: the finalizer is gone and no uid is left uncounted.
    expect((await pods().get(a!.metadata.name!)).metadata.finalizers ?? []).toEqual([]);
    expect((await jobs().get('pi')).status?.uncountedTerminatedPods).toEqual({});
    await eventually(async () => (await live()).length === 2, 'third pod');
    const c = (await live()).find((p) => p.metadata.name !== b!.metadata.name)!;
    await finish(b!.metadata.name!, 'Succeeded');
    await finish(c.metadata.name!, 'Succeeded');
    await eventually(async () => (await conditionTypes('pi')).includes('Complete=True/CompletionsReached'), 'complete');
    const done = await jobs().get('pi');
    expect(await conditionTypes('pi')).toEqual(['SuccessCriteriaMet=True/CompletionsReached', 'Complete=True/CompletionsReached']);
    expect(done.status).toMatchObject({ succeeded: 3, ready: 0, terminating: 0, completionTime: rfc3339(h.clock.now()) });
    expect([done.status?.failed, done.status?.active]).toEqual([undefined, undefined]); // zero counters are omitted, as upstream
    expect(done.status?.conditions?.[1]?.message).toBe('Reached expected number of succeeded pods');
    expect(h.recorder.lines((e) => e.reason !== 'SuccessfulCreate')).toEqual(['Completed: Job completed']);
    expect(h.recorder.events.filter((e) => e.reason === 'SuccessfulCreate').length).toBe(3);
    for (const p of (await pods().list()).items) expect(p.metadata.finalizers ?? []).toEqual([]);
  });

  test('retries failed pods after 10s, then 20s, and fails with BackoffLimitExceeded past backoffLimit', async () => {
    await start();
    await jobs().create(job('flaky', { backoffLimit: 2 }));
    const failNext = async () => {
      await eventually(async () => (await live()).length === 1, 'a running pod');
      await finish((await live())[0]!.metadata.name!, 'Failed');
    };
    await failNext();
    await eventually(async () => (await jobs().get('flaky')).status?.failed === 1, 'failed 1');
    await settle(h);
    expect((await live()).length).toBe(0); // backing off
    await h.clock.advance(9_000);
    await settle(h);
    expect((await live()).length).toBe(0);
    await h.clock.advance(1_500);
    await failNext(); // the retry came after 10s
    await eventually(async () => (await jobs().get('flaky')).status?.failed === 2, 'failed 2');
    await h.clock.advance(15_000);
    await settle(h);
    expect((await live()).length).toBe(0); // 20s this time
    await h.clock.advance(6_000);
    await failNext();
    await eventually(async () => (await conditionTypes('flaky')).includes('Failed=True/BackoffLimitExceeded'), 'failed');
    expect(await conditionTypes('flaky')).toEqual(['FailureTarget=True/BackoffLimitExceeded', 'Failed=True/BackoffLimitExceeded']);
    expect((await jobs().get('flaky')).status).toMatchObject({ failed: 3, ready: 0 });
    expect((await jobs().get('flaky')).status?.active).toBeUndefined();
    expect(h.recorder.lines((e) => e.type === 'Warning')).toEqual(['BackoffLimitExceeded: Job has reached the specified backoff limit']);
  });

  test('activeDeadlineSeconds: running pods are deleted and the job fails with DeadlineExceeded', async () => {
    await start();
    await jobs().create(job('slow', { activeDeadlineSeconds: 30, parallelism: 2, completions: 2 }));
    await eventually(async () => (await live()).length === 2, 'pods');
    for (const p of await live()) await running(p.metadata.name!);
    await settle(h);
    await h.clock.advance(31_000);
    await eventually(async () => (await conditionTypes('slow')).includes('Failed=True/DeadlineExceeded'), 'deadline');
    expect(await conditionTypes('slow')).toEqual(['FailureTarget=True/DeadlineExceeded', 'Failed=True/DeadlineExceeded']);
    expect((await jobs().get('slow')).status).toMatchObject({ failed: 2, terminating: 0 });
    expect((await pods().list()).items).toEqual([]);
    expect(h.recorder.lines((e) => e.type === 'Warning')).toEqual(['DeadlineExceeded: Job was active longer than specified deadline']);
  });

  test('Indexed: one pod per index with its annotation, label, hostname and JOB_COMPLETION_INDEX; completedIndexes', async () => {
    await start();
    await jobs().create(job('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed' }));
    await eventually(async () => (await live()).length === 3, '3 pods');
    const byIndex = new Map((await live()).map((p) => [p.metadata.annotations!['batch.kubernetes.io/job-completion-index']!, p]));
    expect([...byIndex.keys()].sort()).toEqual(['0', '1', '2']);
    const p1 = byIndex.get('1')!;
    expect(p1.metadata.labels!['batch.kubernetes.io/job-completion-index']).toBe('1');
    expect(p1.metadata.generateName).toBe('idx-1-');
    expect(p1.spec!.hostname).toBe('idx-1');
    expect(p1.spec!.containers[0]!.env).toEqual([{ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-completion-index']" } } }]);
    await finish(byIndex.get('0')!.metadata.name!, 'Succeeded');
    await finish(byIndex.get('2')!.metadata.name!, 'Succeeded');
    await eventually(async () => (await jobs().get('idx')).status?.completedIndexes === '0,2', '0,2');
    // Index 1 fails once: a new pod for index 1 takes its place.
    await finish(p1.metadata.name!, 'Failed');
    await h.clock.advance(11_000);
    await eventually(async () => (await live()).length === 1, 'replacement for index 1');
    const again = (await live())[0]!;
    expect(again.metadata.annotations!['batch.kubernetes.io/job-completion-index']).toBe('1');
    await finish(again.metadata.name!, 'Succeeded');
    await eventually(async () => (await conditionTypes('idx')).includes('Complete=True/CompletionsReached'), 'complete');
    expect((await jobs().get('idx')).status).toMatchObject({ completedIndexes: '0-2', succeeded: 3, failed: 1 });
  });

  test('suspend: no pods and no start time while suspended; resuming starts it, suspending again stops its pods', async () => {
    await start();
    await jobs().create(job('later', { suspend: true, parallelism: 2, completions: 4 }));
    await eventually(async () => (await conditionTypes('later')).includes('Suspended=True/JobSuspended'), 'suspended');
    expect((await pods().list()).items).toEqual([]);
    expect((await jobs().get('later')).status?.startTime).toBeUndefined();
    await jobs().patch('later', 'merge', { spec: { suspend: false } });
    await eventually(async () => (await live()).length === 2, 'pods after resume');
    await eventually(async () => (await conditionTypes('later')).includes('Suspended=False/JobResumed'), 'resumed');
    expect((await jobs().get('later')).status?.startTime).toBeDefined();
    await jobs().patch('later', 'merge', { spec: { suspend: true } });
    await eventually(async () => (await pods().list()).items.length === 0, 'pods deleted');
    // Pods removed for a suspension are not failures.
    await eventually(async () => (await conditionTypes('later')).includes('Suspended=True/JobSuspended'), 'suspended again');
    expect((await jobs().get('later')).status?.failed ?? 0).toBe(0);
    expect(h.recorder.lines((e) => e.reason === 'Suspended' || e.reason === 'Resumed')).toEqual(['Suspended: Job suspended', 'Resumed: Job resumed', 'Suspended: Job suspended']);
  });

  test('a pod deleted by someone else counts as failed and is replaced', async () => {
    await start();
    await jobs().create(job('victim'));
    await eventually(async () => (await live()).length === 1, 'pod');
    const p = (await live())[0]!;
    await pods().delete(p.metadata.name!); // held by the finalizer until the job has counted it
    await eventually(async () => (await jobs().get('victim')).status?.failed === 1, 'counted as failed');
    await eventually(async () => !(await pods().list()).items.some((x) => x.metadata.name === p.metadata.name), 'released');
    await h.clock.advance(11_000);
    await eventually(async () => (await live()).length === 1, 'replacement');
  });

  test('the finalizer of a pod whose job is gone is removed', async () => {
    await start();
    await jobs().create(job('gone'));
    await eventually(async () => (await live()).length === 1, 'pod');
    const p = (await live())[0]!;
    await jobs().delete('gone');
    await eventually(async () => ((await pods().get(p.metadata.name!)).metadata.finalizers ?? []).length === 0, 'finalizer removed');
  });

  test('two syncs at once create the pods once', async () => {
    h = newHarness();
    const ctl = new JobController({ client: h.client, informers: h.factory, recorder: h.recorder, clock: h.clock, podUpdateBatchPeriodMs: 0 });
    await jobs().create(job('once', { parallelism: 5, completions: 5 }));
    await h.run();
    await Promise.all([ctl.sync('default/once'), ctl.sync('default/once')]);
    expect((await pods().list()).items.length).toBe(5);
  });
});

describe('job helpers', () => {
  test('backoff doubles from 10s and is capped at 6 minutes', () => {
    const now = 1_000_000;
    expect(remainingBackoff({ failuresAfterLastSuccess: 0 }, now)).toBe(0);
    expect(remainingBackoff({ failuresAfterLastSuccess: 1, lastFailureTime: now }, now)).toBe(10_000);
    expect(remainingBackoff({ failuresAfterLastSuccess: 3, lastFailureTime: now - 5_000 }, now)).toBe(35_000);
    expect(remainingBackoff({ failuresAfterLastSuccess: 20, lastFailureTime: now }, now)).toBe(360_000);
    expect(remainingBackoff({ failuresAfterLastSuccess: 2, lastFailureTime: now - 30_000 }, now)).toBe(0);
  });

  test.each([
    ['', 5, []],
    ['0,2', 5, [1, 3]],
    ['1-3', 5, [0]],
    ['0-1,3-4', 5, [2]],
  ] as const)('completed indexes %s of %d, plus %j', (s, completions, add) => {
    const all = withIndexes(parseIndexes(s, completions), [...add]);
    expect(formatIndexes(all)).toBe(formatIndexes(withIndexes([], [...new Set([...expandIndexes(s), ...add])])));
  });
  test('indexes past completions are dropped', () => {
    expect(formatIndexes(parseIndexes('0-9', 4))).toBe('0-3');
  });
});

function expandIndexes(s: string): number[] {
  const out: number[] = [];
  for (const part of s.split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    for (let x = a!; x <= (b ?? a!); x++) out.push(x);
  }
  return out;
}

