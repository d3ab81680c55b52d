import { describe, expect, test } from 'vitest';
import { FakeClock } from '../base/index.js';
import type { ClusterEvent } from './framework.js';
import { SchedulingQueue, type QueuedPodInfo } from './queue.js';
import { podInfo } from './testing.js';

function newQueue(clock = new FakeClock()) {
  const events: Record<string, ClusterEvent[]> = { NodeResourcesFit: ['NodeAdd', 'AssignedPodDelete'], TaintToleration: ['NodeTaintChange'] };
  const q = new SchedulingQueue({
    clock,
    eventsFor: (plugins) => new Set([...plugins].flatMap((p) => events[p] ?? [])),
  });
  return { q, clock };
}

async function popName(q: SchedulingQueue): Promise<string> {
  const got = await q.pop();
  return got!.podInfo.pod.metadata.name!;
}

/** Pops and fails the pod, as a scheduling cycle that found no node. */
async function failOnce(q: SchedulingQueue, rejectors: string[]): Promise<QueuedPodInfo> {
  const got = (await q.pop())!;
  q.addUnschedulableIfNotPresent(got, q.schedulingCycle, rejectors);
  return got;
}

describe('ordering', () => {
  test('higher priority first, then older pods, then arrival', async () => {
    const { q } = newQueue();
    q.add(podInfo('low-old', { priority: 0, creationTimestamp: '2024-01-01T00:00:00Z' }));
    q.add(podInfo('high-new', { priority: 1000, creationTimestamp: '2024-01-01T00:05:00Z' }));
    q.add(podInfo('low-new-1', { priority: 0, creationTimestamp: '2024-01-01T00:05:00Z' }));
    q.add(podInfo('low-new-2', { priority: 0, creationTimestamp: '2024-01-01T00:05:00Z' }));
    q.add(podInfo('mid', { priority: 10, creationTimestamp: '2024-01-01T00:09:00Z' }));
    const order = [];
    for (let i = 0; i < 5; i++) order.push(await popName(q));
    expect(order).toEqual(['high-new', 'mid', 'low-old', 'low-new-1', 'low-new-2']);
  });

  test('the resolved priority (from the PriorityClass) is what counts', async () => {
    const { q } = newQueue();
    q.add(podInfo('plain'));
    q.add(podInfo('classy', {}, { priority: 2000000000 }));
    expect(await popName(q)).toBe('classy');
  });

  test('pop waits for a pod to arrive', async () => {
    const { q } = newQueue();
    const p = q.pop();
    q.add(podInfo('late'));
    expect((await p)!.podInfo.key).toBe('default/late');
  });

  test('gated pods wait until their gates are removed', async () => {
    const { q } = newQueue();
    q.add(podInfo('gated', { schedulingGates: [{ name: 'example.com/wait' }] }));
    expect(q.lengths()).toMatchObject({ active: 0, gated: 1 });
    q.update(podInfo('gated'));
    expect(q.lengths()).toMatchObject({ active: 1, gated: 0 });
  });
});

describe('backoff', () => {
  test('1s doubling per attempt, at most 10s', () => {
    const { q } = newQueue();
    expect([1, 2, 3, 4, 5, 6].map((n) => q.backoffDuration(n))).toEqual([1000, 2000, 4000, 8000, 10000, 10000]);
  });

  test('a failed pod with no rejecting plugin (an error) goes to backoff and comes back after it', async () => {
    const { q, clock } = newQueue();
    q.add(podInfo('p'));
    await failOnce(q, []);
    expect(q.whereIs('default/p')).toBe('backoff');
    await clock.advance(999);
    q.flushBackoffQCompleted();
    expect(q.whereIs('default/p')).toBe('backoff');
    await clock.advance(1);
    q.flushBackoffQCompleted();
    expect(q.whereIs('default/p')).toBe('active');
    // The second failure backs off 2s.
    await failOnce(q, []);
    await clock.advance(1999);
    q.flushBackoffQCompleted();
    expect(q.whereIs('default/p')).toBe('backoff');
    await clock.advance(1);
    q.flushBackoffQCompleted();
    expect(q.whereIs('default/p')).toBe('active');
  });

  test('run() flushes backoff as pods come due', async () => {
    const { q, clock } = newQueue();
    const ctl = new AbortController();
    const running = q.run(ctl.signal);
    q.add(podInfo('p'));
    await failOnce(q, []);
    await clock.advance(1000);
    expect(q.whereIs('default/p')).toBe('active');
    ctl.abort();
    await running;
  });
});

describe('unschedulable pods and events', () => {
  test('an unschedulable pod waits for an event its rejecting plugins care about', async () => {
    const { q, clock } = newQueue();
    q.add(podInfo('needs-cpu'));
    q.add(podInfo('tainted-out'));
    await failOnce(q, ['NodeResourcesFit']);
    await failOnce(q, ['TaintToleration']);
    expect(q.lengths().unschedulable).toBe(2);
    await clock.advance(20_000); // backoff over
    expect(q.moveAllToActiveOrBackoffQueue('NodeLabelChange')).toBe(0);
    expect(q.moveAllToActiveOrBackoffQueue('AssignedPodDelete')).toBe(1);
    expect(q.whereIs('default/needs-cpu')).toBe('active');
    expect(q.whereIs('default/tainted-out')).toBe('unschedulable');
    expect(q.moveAllToActiveOrBackoffQueue('NodeTaintChange')).toBe(1);
    expect(q.whereIs('default/tainted-out')).toBe('active');
  });

  test('a pod moved while still backing off waits in backoffQ', async () => {
    const { q } = newQueue();
    q.add(podInfo('p'));
    await failOnce(q, ['NodeResourcesFit']);
    q.moveAllToActiveOrBackoffQueue('NodeAdd');
    expect(q.whereIs('default/p')).toBe('backoff');
  });

  test('an event during the cycle sends the failed pod to backoff, not to the unschedulable pods', async () => {
    const { q } = newQueue();
    q.add(podInfo('p'));
    const got = (await q.pop())!;
    const cycle = q.schedulingCycle;
    q.moveAllToActiveOrBackoffQueue('NodeAdd'); // a node arrives while the pod is being scheduled
    q.addUnschedulableIfNotPresent(got, cycle, ['NodeResourcesFit']);
    expect(q.whereIs('default/p')).toBe('backoff');
  });

  test('after podMaxInUnschedulablePodsDuration a pod is retried anyway', async () => {
    const { q, clock } = newQueue();
    q.add(podInfo('p'));
    await failOnce(q, ['NodeResourcesFit']);
    await clock.advance(4 * 60_000);
    q.flushUnschedulablePodsLeftover();
    expect(q.whereIs('default/p')).toBe('unschedulable');
    await clock.advance(60_000);
    q.flushUnschedulablePodsLeftover();
    expect(q.whereIs('default/p')).toBe('active');
  });

  test('status-only updates leave an unschedulable pod alone; spec changes retry it', async () => {
    const { q, clock } = newQueue();
    q.add(podInfo('p'));
    await failOnce(q, ['NodeResourcesFit']);
    await clock.advance(20_000);
    const withCondition = podInfo('p');
    withCondition.pod.status!.conditions = [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }];
    q.update(withCondition);
    expect(q.whereIs('default/p')).toBe('unschedulable');
    q.update(podInfo('p', { tolerations: [{ operator: 'Exists' }] }));
    expect(q.whereIs('default/p')).toBe('active');
  });

  test('a pod deleted while being scheduled is not requeued', async () => {
    const { q } = newQueue();
    q.add(podInfo('p'));
    const got = (await q.pop())!;
    q.delete('default/p');
    q.addUnschedulableIfNotPresent(got, q.schedulingCycle, ['NodeResourcesFit']);
    expect(q.whereIs('default/p')).toBeUndefined();
  });
});

describe('nominator', () => {
  test('tracks status.nominatedNodeName, keeps in-memory nominations through older updates', () => {
    const { q } = newQueue();
    q.add(podInfo('p', { nominatedNodeName: 'n1' }));
    expect(q.nominator.forNode('n1').map((p) => p.key)).toEqual(['default/p']);
    q.nominator.add(podInfo('p'), 'n2');
    q.update(podInfo('p'), podInfo('p'));
    expect(q.nominator.nominatedNode('default/p')).toBe('n2');
    q.update(podInfo('p'), podInfo('p', { nominatedNodeName: 'n2' }));
    expect(q.nominator.nominatedNode('default/p')).toBeUndefined();
    q.add(podInfo('r', { nominatedNodeName: 'n1' }));
    q.delete('default/r');
    expect(q.nominator.forNode('n1')).toEqual([]);
  });
});

describe('a waiting pop', () => {
  test('gets the highest-priority pod of those moved by one event', async () => {
    const { q, clock } = newQueue();
    q.add(podInfo('low', { priority: 1 }));
    q.add(podInfo('high', { priority: 100 }));
    await failOnce(q, ['NodeResourcesFit']);
    await failOnce(q, ['NodeResourcesFit']);
    await clock.advance(20_000);
    const waiting = q.pop(); // the scheduler waits for work
    q.moveAllToActiveOrBackoffQueue('AssignedPodDelete'); // both move; 'low' was failed first
    expect((await waiting)!.podInfo.pod.metadata.name).toBe('high');
  });
});
