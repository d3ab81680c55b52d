import { afterEach, expect, test } from 'vitest';
import { FakeClock } from '../../base/index.js';
import { Resources } from '../../client/index.js';
import { createAll, eventually, fakeEnv, makeNode, makePod, type FakeEnv } from '../../../test/support/controllers.js';
import { PodGCController } from './podgc-controller.js';

let env: FakeEnv | undefined;
afterEach(async () => {
  await env?.stop();
});

const names = async (e: FakeEnv) => (await e.client.resource(Resources.pods).list()).items.map((p) => p.metadata.name).sort();

test('deletes the oldest terminated pods beyond the threshold, evicted ones first', async () => {
  const clock = new FakeClock();
  env = fakeEnv(clock);
  const c = new PodGCController({ client: env.client, informers: env.informers, terminatedPodThreshold: 2, clock });
  await env.startInformers();
  for (const [i, phase] of (['Succeeded', 'Failed', 'Succeeded', 'Running', 'Succeeded'] as const).entries()) {
    await clock.advance(1000);
    const p = makePod(`p${i}`, { phase, nodeName: 'n1' });
    if (i === 4) p.status!.reason = 'Evicted';
    await createAll(env.client, [p]);
  }
  await createAll(env.client, [makeNode('n1')]);
  await eventually(() => env!.informers.lister(Resources.pods).list().length === 5);
  await c.gc();
  // 4 terminated, threshold 2: the evicted p4 and the oldest p0 go.
  expect(await names(env)).toEqual(['p1', 'p2', 'p3']);
});

test('force-deletes pods of a deleted node after the quarantine (marked Failed), and unscheduled terminating pods', async () => {
  const clock = new FakeClock();
  env = fakeEnv(clock);
  const c = new PodGCController({ client: env.client, informers: env.informers, terminatedPodThreshold: 0, clock, quarantineMs: 40_000 });
  await env.startInformers();
  const failed: string[] = [];
  env.client.prependReactor((a) => {
    if (a.verb === 'patch' && a.subresource === 'status') failed.push(`${a.name}:${JSON.stringify(a.patch)}`);
  });
  const pending = makePod('unscheduled', { phase: 'Pending' });
  pending.metadata.finalizers = ['test/hold'];
  await createAll(env.client, [makeNode('alive'), makePod('on-alive', { nodeName: 'alive', ip: '10.0.0.2' }), makePod('on-gone', { nodeName: 'gone', ip: '10.0.0.3' }), pending]);
  // A pod being deleted that was never scheduled.
  await env.client.resource(Resources.pods, 'default').delete('unscheduled');
  await eventually(() => env!.informers.lister(Resources.pods).list().length === 3);
  await c.gc();
  expect(await names(env)).toEqual(['on-alive', 'on-gone', 'unscheduled']); // finalizer holds the last one
  await clock.advance(40_000);
  await c.gc();
  expect(await names(env)).toEqual(['on-alive', 'unscheduled']);
  expect(failed.find((f) => f.startsWith('on-gone'))).toMatch(/"phase":"Failed".*DeletionByPodGC/);
  expect(failed.some((f) => f.startsWith('unscheduled'))).toBe(true);
});
