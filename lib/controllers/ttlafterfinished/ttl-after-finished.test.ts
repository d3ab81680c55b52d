import { afterEach, expect, test } from 'vitest';
import type { Job } from '../../api/index.js';
import { FakeClock, rfc3339 } from '../../base/index.js';
import { Resources } from '../../client/index.js';
import { eventually, fakeEnv, type FakeEnv } from '../../../test/support/controllers.js';
import { TTLAfterFinishedController, timeLeft } from './ttl-after-finished-controller.js';

let env: FakeEnv | undefined;
let running: Promise<void> | undefined;
afterEach(async () => {
  await env?.stop();
  await running;
});

function job(name: string, ttl: number | undefined, finishedAt?: number, type = 'Complete'): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default' },
    spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never' } }, ...(ttl !== undefined ? { ttlSecondsAfterFinished: ttl } : {}) },
    status: finishedAt !== undefined ? { conditions: [{ type, status: 'True', lastTransitionTime: rfc3339(finishedAt) }] } : {},
  } as Job;
}

test('time left counts from the Complete or Failed transition; unfinished or TTL-less jobs never expire', () => {
  const t0 = Date.UTC(2026, 0, 1);
  expect(timeLeft(job('a', 60, t0), t0 + 10_000)).toBe(50_000);
  expect(timeLeft(job('a', 60, t0, 'Failed'), t0 + 70_000)).toBe(-10_000);
  expect(timeLeft(job('a', 60), t0)).toBeUndefined();
  expect(timeLeft(job('a', undefined, t0), t0)).toBeUndefined();
});

test('deletes a finished job when its TTL expires (foreground, with its uid as precondition), and not before', async () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  env = fakeEnv(clock);
  const c = new TTLAfterFinishedController({ client: env.client, informers: env.informers, clock });
  await env.startInformers();
  running = c.start(env.signal);
  const deletes: unknown[] = [];
  env.client.prependReactor((a) => {
    if (a.verb === 'delete') deletes.push(a.object);
  });
  const jobs = env.client.resource(Resources.jobs, 'default');
  await jobs.create(job('done', 30, clock.now()));
  await jobs.create(job('running', 0));
  await jobs.create(job('keep', undefined, clock.now()));
  await eventually(() => clock.pendingSleeps > 0);
  await clock.advance(29_000);
  expect((await jobs.list()).items).toHaveLength(3);
  await clock.advance(1_000);
  await eventually(async () => (await jobs.list()).items.length === 2);
  expect(deletes[0]).toMatchObject({ propagationPolicy: 'Foreground', preconditions: { uid: expect.any(String) } });
});
