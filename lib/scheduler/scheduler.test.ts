/** The Scheduler against the in-memory FakeClient: informers, queue, binding, events, status. */
import { afterEach, describe, expect, test } from 'vitest';
import type { Event, Node } from '../api/index.js';
import { MetricsRegistry } from '../base/index.js';
import { EventBroadcaster, FakeClient, Resources, SharedInformerFactory } from '../client/index.js';
import { newInternalError } from '../machinery/index.js';
import { SchedulerMetrics } from './metrics.js';
import { Scheduler } from './scheduler.js';
import { makeNode, makePod, type PodSpecInput } from './testing.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function start(o: { schedulerName?: string } = {}) {
  const client = new FakeClient();
  const informers = new SharedInformerFactory({ client });
  const broadcaster = new EventBroadcaster({ client });
  const registry = new MetricsRegistry();
  const scheduler = new Scheduler({ client, informers, recorder: broadcaster.newRecorder({ component: 'default-scheduler' }), metrics: new SchedulerMetrics(registry), podInitialBackoffMs: 50, podMaxBackoffMs: 100, ...o });
  const ctl = new AbortController();
  const runs = [informers.start(ctl.signal), broadcaster.start(ctl.signal)];
  await scheduler.waitForCacheSync(ctl.signal);
  runs.push(scheduler.run(ctl.signal));
  stops.push(async () => {
    ctl.abort();
    await Promise.all(runs);
  });
  const pods = client.resource(Resources.pods, 'default');
  const nodes = client.resource(Resources.nodes);
  return {
    client,
    scheduler,
    registry,
    addNode: (n: Node) => nodes.create(n),
    addPod: (name: string, o: PodSpecInput = {}) => {
      const p = makePod(name, o);
      delete p.metadata.uid;
      return pods.create(p);
    },
    pod: (name: string) => pods.get(name),
    nodeOf: (name: string) => until(`pod ${name} to be bound`, async () => (await pods.get(name)).spec?.nodeName),
    events: async (reason: string) => (await client.resource(Resources.events, 'default').list()).items.filter((e: Event) => e.reason === reason),
  };
}

describe('Scheduler', () => {
  test('binds pending pods to nodes that fit, and says so in a Scheduled event', async () => {
    const s = await start();
    await s.addNode(makeNode('small', { cpu: '1' }));
    await s.addNode(makeNode('big', { cpu: '8' }));
    await s.addPod('web', { cpu: '2' });
    expect(await s.nodeOf('web')).toBe('big');
    const ev = await until('Scheduled event', async () => (await s.events('Scheduled'))[0]);
    expect(ev.message).toBe('Successfully assigned default/web to big');
    expect(ev.type).toBe('Normal');
    expect(ev.source?.component).toBe('default-scheduler');
    expect(s.registry.render()).toMatch(/scheduler_schedule_attempts_total\{profile="default-scheduler",result="scheduled"\} 1/);
  });

  test('assumed pods count at once: a burst of pods does not overfill a node', async () => {
    const s = await start();
    await s.addNode(makeNode('a', { cpu: '2' }));
    await s.addNode(makeNode('b', { cpu: '2' }));
    for (let i = 0; i < 4; i++) await s.addPod(`p${i}`, { cpu: '1' });
    const placed = await Promise.all([0, 1, 2, 3].map((i) => s.nodeOf(`p${i}`)));
    expect(placed.filter((n) => n === 'a').length).toBe(2);
    expect(placed.filter((n) => n === 'b').length).toBe(2);
  });

  test('an unschedulable pod gets FailedScheduling and PodScheduled=False, then lands when a node fits', async () => {
    const s = await start();
    await s.addNode(makeNode('cp', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }));
    await s.addNode(makeNode('w1', { cpu: '1' }));
    await s.addNode(makeNode('w2', { cpu: '1' }));
    await s.addPod('hungry', { cpu: '2' });
    const want = '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.';
    const ev = await until('FailedScheduling', async () => (await s.events('FailedScheduling'))[0]);
    expect(ev.type).toBe('Warning');
    expect(ev.message).toBe(want);
    const cond = await until('PodScheduled=False', async () => (await s.pod('hungry')).status?.conditions?.find((c) => c.type === 'PodScheduled'));
    expect(cond).toMatchObject({ status: 'False', reason: 'Unschedulable', message: want });
    await s.addNode(makeNode('w3', { cpu: '4' }));
    expect(await s.nodeOf('hungry')).toBe('w3');
  });

  test('pods for another scheduler are left alone', async () => {
    const s = await start({ schedulerName: 'mine' });
    await s.addNode(makeNode('n'));
    const p = makePod('theirs');
    await s.client.resource(Resources.pods, 'default').create(p);
    const q = makePod('ours');
    q.spec!.schedulerName = 'mine';
    await s.client.resource(Resources.pods, 'default').create(q);
    expect(await s.nodeOf('ours')).toBe('n');
    expect((await s.pod('theirs')).spec?.nodeName).toBeUndefined();
  });

  test('a failed binding is forgotten and retried', async () => {
    const s = await start();
    let failures = 1;
    s.client.prependReactor((a) => {
      if (a.subresource === 'binding' && failures-- > 0) throw newInternalError(new Error('etcd hiccup'));
    });
    await s.addNode(makeNode('n', { cpu: '1' }));
    await s.addPod('p', { cpu: '1' });
    expect(await s.nodeOf('p')).toBe('n');
    expect(s.scheduler.stats.bindFailures).toBe(1);
    expect(s.scheduler.cache.get('n')!.pods.length).toBe(1);
    const failed = await until('FailedScheduling after the bind error', async () => (await s.events('FailedScheduling'))[0]);
    expect(failed.message).toMatch(/^Binding rejected: /);
  });

  test('preemption: the victim is deleted, the pod nominated, then bound', async () => {
    const s = await start();
    await s.addNode(makeNode('n', { cpu: '1' }));
    await s.addPod('low', { cpu: '1', priority: 0 });
    expect(await s.nodeOf('low')).toBe('n');
    await s.addPod('high', { cpu: '1', priority: 1000 });
    expect(await s.nodeOf('high')).toBe('n');
    await expect(s.pod('low')).rejects.toThrow(/not found/);
    const preempted = await until('Preempted event', async () => (await s.events('Preempted'))[0]);
    expect(preempted.involvedObject.name).toBe('low');
    expect(preempted.message).toMatch(/^Preempted by pod .* on node n$/);
  });
});

describe('preemption order', () => {
  test('the nomination and FailedScheduling are written only once the victims are deleted, as upstream', async () => {
    const s = await start();
    await s.addNode(makeNode('n', { cpu: '1' }));
    await s.addPod('low', { cpu: '1', priority: 0 });
    expect(await s.nodeOf('low')).toBe('n');
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let deleteSeen = false;
    s.client.prependReactor(async (a) => {
      if (a.verb === 'delete' && a.resource === 'pods' && a.name === 'low') {
        deleteSeen = true;
        await held;
      }
    });
    await s.addPod('high', { cpu: '1', priority: 1000 });
    await until('the victim delete', () => deleteSeen || undefined);
    await new Promise((r) => setTimeout(r, 200));
    expect((await s.pod('high')).status?.nominatedNodeName).toBeUndefined();
    expect(await s.events('FailedScheduling')).toEqual([]);
    release();
    expect(await until('the nomination', async () => (await s.pod('high')).status?.nominatedNodeName ?? (await s.pod('high')).spec?.nodeName)).toBe('n');
    expect(await s.nodeOf('high')).toBe('n');
    expect((await s.events('FailedScheduling'))[0]?.message).toMatch(/Insufficient cpu/);
  });
});

describe('nodeUpdateEvents', () => {
  test('heartbeats move nobody; real changes name what changed', async () => {
    const { nodeUpdateEvents } = await import('./scheduler.js');
    const base = makeNode('n', { cpu: '4' });
    const beat = structuredClone(base);
    (beat.status!.conditions![0] as { lastHeartbeatTime?: string }).lastHeartbeatTime = '2030-01-01T00:00:00Z';
    expect(nodeUpdateEvents(base, beat)).toEqual([]);
    expect(nodeUpdateEvents(base, makeNode('n', { cpu: '8' }))).toEqual(['NodeAllocatableChange']);
    expect(nodeUpdateEvents(base, makeNode('n', { cpu: '4', ready: 'False', labels: { a: 'b' } }))).toEqual(['NodeLabelChange', 'NodeConditionChange']);
    expect(nodeUpdateEvents(base, makeNode('n', { cpu: '4', unschedulable: true, taints: [{ key: 'k', effect: 'NoSchedule' }] }))).toEqual(['NodeTaintChange', 'NodeSchedulableChange']);
  });
});
