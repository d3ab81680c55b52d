import { afterEach, describe, expect, test } from 'vitest';
import type { Event, KubeObject } from '../api/index.js';
import { FakeClock } from '../base/index.js';
import { newInvalid } from '../machinery/index.js';
import { EventBroadcaster, formatMessage, referenceOf } from './events.js';
import { FakeClient } from './fake.js';
import { Resources } from './resources.js';
import { TransportError } from './transport.js';

const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'shop', uid: 'u-1', resourceVersion: '42' } };
const node: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', uid: 'u-n' } };

const stops: AbortController[] = [];
afterEach(() => {
  for (const s of stops.splice(0)) s.abort();
});

function setup(opts: { retryDelayMs?: number } = {}) {
  const clock = new FakeClock();
  const fake = new FakeClient(clock);
  const b = new EventBroadcaster({ client: fake, clock, retryDelayMs: opts.retryDelayMs });
  const ctl = new AbortController();
  stops.push(ctl);
  const running = b.start(ctl.signal);
  const rec = b.newRecorder({ component: 'kubelet', host: 'node-1' });
  const events = async (ns = 'shop') => (await fake.resource(Resources.events, ns).list()).items as Event[];
  return { clock, fake, b, rec, events, ctl, running };
}

describe('EventRecorder', () => {
  test('writes a core/v1 Event referencing the object, its source and times', async () => {
    const { b, rec, events, clock } = setup();
    rec.event({ ...pod }, 'Normal', 'Pulled', 'Successfully pulled image "busybox"');
    await b.flush();
    const [e] = await events();
    expect(e).toMatchObject({
      involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace: 'shop', name: 'web', uid: 'u-1', resourceVersion: '42' },
      type: 'Normal',
      reason: 'Pulled',
      message: 'Successfully pulled image "busybox"',
      source: { component: 'kubelet', host: 'node-1' },
      reportingComponent: 'kubelet',
      reportingInstance: 'node-1',
      count: 1,
    });
    expect(e!.metadata.name).toMatch(/^web\.[0-9a-f]+$/);
    expect(e!.firstTimestamp).toBe(new Date(clock.now()).toISOString().replace('.000Z', 'Z'));
    expect(e!.lastTimestamp).toBe(e!.firstTimestamp);
  });

  test('a field path comes from an ObjectReference; cluster-scoped objects get events in "default"', async () => {
    const { b, rec, events } = setup();
    rec.event({ ...referenceOf(pod)!, fieldPath: 'spec.containers{app}' }, 'Warning', 'BackOff', 'Back-off restarting failed container');
    rec.eventf(node, 'Normal', 'NodeReady', 'Node %s status is now: %v', 'node-1', 'NodeReady');
    await b.flush();
    expect((await events())[0]!.involvedObject.fieldPath).toBe('spec.containers{app}');
    const [n] = await events('default');
    expect(n!.message).toBe('Node node-1 status is now: NodeReady');
    expect(n!.involvedObject.namespace).toBeUndefined();
  });

  test('five identical events become one Event with count 5', async () => {
    const { b, rec, events, clock } = setup();
    const t0 = clock.now();
    for (let i = 0; i < 5; i++) {
      rec.event(pod, 'Warning', 'FailedMount', 'volume "data" not found');
      await clock.advance(1000);
    }
    await b.flush();
    const list = await events();
    expect(list.length).toBe(1);
    expect(list[0]!.count).toBe(5);
    expect(Date.parse(list[0]!.firstTimestamp!)).toBe(t0);
    expect(Date.parse(list[0]!.lastTimestamp!)).toBe(t0 + 4000);
    expect(b.stats).toMatchObject({ created: 1, patched: 4 });
  });

  test('a repeat more than 10 minutes after the last one starts a new Event', async () => {
    const { b, rec, events, clock } = setup();
    rec.event(pod, 'Normal', 'Started', 'Started container app');
    await b.flush();
    await clock.advance(10 * 60 * 1000 + 1000);
    rec.event(pod, 'Normal', 'Started', 'Started container app');
    await b.flush();
    expect((await events()).map((e) => e.count)).toEqual([1, 1]);
  });

  test('events differing only in message are combined after 10 in 10 minutes', async () => {
    const { b, rec, events } = setup();
    for (let i = 0; i < 14; i++) rec.event(pod, 'Warning', 'FailedScheduling', `0/${i} nodes are available`);
    await b.flush();
    const list = await events();
    const combined = list.filter((e) => e.message!.startsWith('(combined from similar events): '));
    expect(list.length - combined.length).toBe(9);
    expect(combined.length).toBe(1);
    expect(combined[0]!.count).toBe(5);
    expect(combined[0]!.message).toBe('(combined from similar events): 0/13 nodes are available');
  });

  test('spam filter: 25 events per source and object, then one per 5 minutes', async () => {
    const { b, rec, events, clock } = setup();
    for (let i = 0; i < 40; i++) rec.event(pod, 'Normal', `Reason${i}`, 'hot loop');
    await b.flush();
    expect((await events()).length).toBe(25);
    expect(b.stats.skipped).toBe(15);
    // Another object from the same source has its own budget.
    rec.event({ ...pod, metadata: { ...pod.metadata, name: 'other', uid: 'u-2' } }, 'Normal', 'Other', 'x');
    await b.flush();
    expect((await events()).length).toBe(26);
    await clock.advance(5 * 60 * 1000);
    rec.event(pod, 'Normal', 'Later1', 'x');
    rec.event(pod, 'Normal', 'Later2', 'x');
    await b.flush();
    expect((await events()).length).toBe(27);
  });

  test('recording never blocks: the caller returns while the API server hangs', async () => {
    const { fake, rec, b } = setup();
    let release!: () => void;
    const hang = new Promise<void>((r) => (release = r));
    fake.prependReactor(() => hang);
    const t = performance.now();
    for (let i = 0; i < 100; i++) rec.event(pod, 'Normal', 'R', `m${i}`);
    expect(performance.now() - t).toBeLessThan(50);
    release();
    await b.flush();
  });

  test('connection failures are retried; a rejection by the server is not', async () => {
    const { fake, rec, b, events, clock } = setup({ retryDelayMs: 10_000 });
    let failures = 2;
    const remove = fake.prependReactor((a) => {
      if (a.verb === 'create' && failures-- > 0) throw new TransportError('connect ECONNREFUSED', 'ECONNREFUSED', true);
    });
    rec.event(pod, 'Normal', 'Retried', 'eventually written');
    const flushed = b.flush();
    while ((await events()).length === 0) await clock.advance(1000);
    await flushed;
    remove();
    expect(fake.actions.filter((a) => a.verb === 'create').length).toBe(3);
    fake.clearActions();
    fake.prependReactor((a) => {
      if (a.verb === 'create') throw newInvalid('', 'Event', 'x', []);
    });
    rec.event(pod, 'Normal', 'Refused', 'not written');
    await b.flush();
    expect(fake.actions.filter((a) => a.verb === 'create').length).toBe(1);
    expect(b.stats.failed).toBe(1);
  });

  test('a repeat whose Event was deleted meanwhile is created again', async () => {
    const { fake, rec, b, events } = setup();
    rec.event(pod, 'Normal', 'Again', 'same');
    await b.flush();
    const [first] = await events();
    await fake.resource(Resources.events, 'shop').delete(first!.metadata.name!);
    rec.event(pod, 'Normal', 'Again', 'same');
    await b.flush();
    const list = await events();
    expect(list.length).toBe(1);
    expect(list[0]!.count).toBe(2);
  });

  test('objects without kind or name, and unknown types, are refused without writing', async () => {
    const { rec, b, events } = setup();
    rec.event({ metadata: { name: 'x', namespace: 'shop' } }, 'Normal', 'R', 'm');
    rec.event(pod, 'Fatal' as 'Normal', 'R', 'm');
    await b.flush();
    expect(await events()).toEqual([]);
  });
});

describe('formatMessage', () => {
  test('Go-style verbs', () => {
    expect(formatMessage('%s has %d replicas (%v%%), %q', ['web', 3, true, 'x y'])).toBe('web has 3 replicas (true%), "x y"');
    expect(formatMessage('%s and %s', ['a'])).toBe('a and %!s(MISSING)');
    expect(formatMessage('done', ['extra'])).toBe('done%!(EXTRA extra)');
  });
});
