import { afterEach, describe, expect, test } from 'vitest';
import type { Lease, Node, Pod } from '../../api/index.js';
import { FakeClock, rfc3339, rfc3339Micro } from '../../base/index.js';
import { Resources, type EventRecorder } from '../../client/index.js';
import { createAll, eventually, fakeEnv, makeNode, makePod, type FakeEnv } from '../../../test/support/controllers.js';
import { NodeLifecycleController, computeZoneState } from './node-lifecycle-controller.js';
import { RateLimitedTimedQueue } from './rate-limited-queue.js';
import { TaintEvictionController } from './taint-eviction-controller.js';
import { matchingTolerations, minTolerationMs, toleratesTaint } from './taints.js';

let env: FakeEnv | undefined;
let running: Promise<void> | undefined;
afterEach(async () => {
  await env?.stop();
  await running;
  env = undefined;
  running = undefined;
});

function recorder(): EventRecorder & { events: { reason: string; message: string; name?: string }[] } {
  const events: { reason: string; message: string; name?: string }[] = [];
  return {
    events,
    event: (obj, _t, reason, message) => events.push({ reason, message, name: 'metadata' in obj ? obj.metadata.name : obj.name }),
    eventf: (obj, _t, reason, fmt, ...args) => events.push({ reason, message: `${fmt} ${args.join(' ')}`, name: 'metadata' in obj ? obj.metadata.name : obj.name }),
  };
}

describe('tolerations', () => {
  test.each([
    [{ key: 'k', operator: 'Equal' as const, value: 'v', effect: 'NoExecute' as const }, true],
    [{ key: 'k', operator: 'Equal' as const, value: 'other' }, false],
    [{ key: 'k', operator: 'Exists' as const }, true],
    [{ operator: 'Exists' as const }, true],
    [{ key: 'k', operator: 'Exists' as const, effect: 'NoSchedule' as const }, false],
    [{ key: 'other', operator: 'Exists' as const }, false],
    [{ key: 'k', value: 'v' }, true],
  ])('%j tolerates k=v:NoExecute: %s', (tol, want) => {
    expect(toleratesTaint(tol, { key: 'k', value: 'v', effect: 'NoExecute' })).toBe(want);
  });

  test('the shortest tolerationSeconds of the tolerations used decides; none means forever', () => {
    const taints = [
      { key: 'a', effect: 'NoExecute' as const },
      { key: 'b', effect: 'NoExecute' as const },
    ];
    const m = matchingTolerations(taints, [
      { key: 'a', operator: 'Exists', tolerationSeconds: 300 },
      { key: 'b', operator: 'Exists', tolerationSeconds: 30 },
    ]);
    expect(m.allTolerated).toBe(true);
    expect(minTolerationMs(m.used)).toBe(30_000);
    expect(matchingTolerations(taints, [{ key: 'a', operator: 'Exists' }]).allTolerated).toBe(false);
    expect(minTolerationMs([{ key: 'a', operator: 'Exists' }])).toBe(-1);
    expect(minTolerationMs([{ key: 'a', operator: 'Exists', tolerationSeconds: 0 }])).toBe(0);
  });
});

describe('RateLimitedTimedQueue', () => {
  test('hands out one node per 1/qps seconds, in order; rate 0 stops it', async () => {
    const clock = new FakeClock();
    const q = new RateLimitedTimedQueue(0.1, clock);
    for (const n of ['a', 'b', 'c']) q.add(n, n);
    expect(q.add('a', 'a')).toBe(false);
    const done: string[] = [];
    const take = () => q.try(async (v) => (done.push(v.value), [true, 0]));
    await take();
    expect(done).toEqual(['a']);
    await clock.advance(5_000);
    await take();
    expect(done).toEqual(['a']);
    await clock.advance(5_000);
    await take();
    expect(done).toEqual(['a', 'b']);
    // A handled node is not queued again until it is removed (it became healthy in between).
    expect(q.add('a', 'a')).toBe(false);
    expect(q.remove('a')).toBe(true);
    expect(q.add('a', 'a')).toBe(true);
    q.swapLimiter(0);
    await clock.advance(60_000);
    await take();
    expect(done).toEqual(['a', 'b']);
  });
});

test('zone state: full disruption with no ready node, partial above the threshold with more than two down', () => {
  const c = (status: 'True' | 'False' | 'Unknown') => ({ type: 'Ready', status });
  expect(computeZoneState([c('False'), c('Unknown')], 0.55).state).toBe('FullDisruption');
  expect(computeZoneState([c('True'), c('False'), c('Unknown')], 0.55).state).toBe('Normal');
  expect(computeZoneState([c('True'), c('False'), c('Unknown'), c('False')], 0.55).state).toBe('PartialDisruption');
});

describe('NodeLifecycleController', () => {
  async function setup(nodeNames: string[], opts: { evictionQPS?: number } = {}) {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    env = fakeEnv(clock);
    const rec = recorder();
    const c = new NodeLifecycleController({ client: env.client, informers: env.informers, clock, recorder: rec, nodeMonitorGracePeriodMs: 40_000, evictionLimiterQPS: opts.evictionQPS ?? 0.1 });
    await env.startInformers();
    const now = rfc3339(clock.now());
    for (const n of nodeNames) {
      await createAll(env.client, [makeNode(n, { ready: 'True', heartbeat: now })]);
      await renew(n);
      await createAll(env.client, [makePod(`${n}-pod`, { nodeName: n, ip: '10.0.0.1', ready: true })]);
    }
    async function renew(n: string) {
      const leases = env!.client.resource(Resources.leases, 'kube-node-lease');
      const spec = { holderIdentity: n, leaseDurationSeconds: 40, renewTime: rfc3339Micro(clock.now()) };
      try {
        const l = await leases.get(n);
        await leases.update({ ...l, spec });
      } catch {
        await leases.create({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: n, namespace: 'kube-node-lease' }, spec } as Lease);
      }
    }
    const cache = (n: string) => env!.informers.lister(Resources.nodes).get(n);
    const leaseCache = (n: string) => env!.informers.lister(Resources.leases, { namespace: 'kube-node-lease' }).get(`kube-node-lease/${n}`);
    // Waits until the informers show the latest writes before each controller pass.
    async function settle() {
      const rv = env!.client.resourceVersion;
      await eventually(() => env!.informers.informerFor(Resources.nodes).lastSyncResourceVersion !== '' && [...nodeNames].every((n) => Number(cache(n)?.metadata.resourceVersion ?? 0) <= Number(rv)));
      await new Promise((r) => setTimeout(r, 30));
    }
    const node = (n: string) => env!.client.resource(Resources.nodes).get(n);
    const pod = (n: string) => env!.client.resource(Resources.pods, 'default').get(n);
    await eventually(() => nodeNames.every((n) => cache(n) && leaseCache(n)));
    return { clock, c, rec, renew, settle, node, pod };
  }

  const ready = (n: Node) => n.status?.conditions?.find((c) => c.type === 'Ready');
  const taintKeys = (n: Node) => (n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).sort();
  const podReady = (p: Pod) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status;

  test('a node whose heartbeats stop turns Unknown after the grace period, its pods not ready, then it is tainted; it recovers', async () => {
    const { clock, c, rec, renew, settle, node, pod } = await setup(['n1', 'n2', 'n3']);
    await c.monitorNodeHealth();
    // Leases keep n2 and n3 alive; n1 has gone silent.
    for (let t = 0; t < 4; t++) {
      await clock.advance(10_500);
      await renew('n2');
      await renew('n3');
      await settle();
      await c.monitorNodeHealth();
    }
    const n1 = await node('n1');
    expect(ready(n1)).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    expect(ready(await node('n2'))!.status).toBe('True');
    expect(podReady(await pod('n1-pod'))).toBe('False');
    expect(podReady(await pod('n2-pod'))).toBe('True');
    expect(rec.events.map((e) => e.reason)).toEqual(expect.arrayContaining(['RegisteredNode', 'NodeNotReady']));

    // Next pass queues it for the NoExecute taint; the tainting pass adds it.
    await settle();
    await c.monitorNodeHealth();
    await c.doNoExecuteTaintingPass();
    await c.doNoScheduleTaintingPass('n1');
    expect(taintKeys(await node('n1'))).toEqual(['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
    expect(taintKeys(await node('n2'))).toEqual([]);

    // The kubelet is back: Ready True with a fresh heartbeat; the taints go.
    const back = await node('n1');
    back.status!.conditions = [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: rfc3339(clock.now()), lastTransitionTime: rfc3339(clock.now()) }];
    await env!.client.resource(Resources.nodes).updateStatus(back);
    await renew('n1');
    await settle();
    await c.monitorNodeHealth();
    await settle();
    await c.doNoScheduleTaintingPass('n1');
    expect(taintKeys(await node('n1'))).toEqual([]);
  });

  test('a node reporting Ready=False gets the not-ready taints', async () => {
    const { c, settle, node } = await setup(['n1', 'n2']);
    const n1 = await node('n1');
    n1.status!.conditions![0] = { ...n1.status!.conditions![0]!, status: 'False', reason: 'KubeletNotReady', lastHeartbeatTime: '2026-01-01T00:00:01Z' };
    await env!.client.resource(Resources.nodes).updateStatus(n1);
    await settle();
    await c.monitorNodeHealth();
    await c.doNoExecuteTaintingPass();
    await c.doNoScheduleTaintingPass('n1');
    expect(taintKeys(await node('n1'))).toEqual(['node.kubernetes.io/not-ready:NoExecute', 'node.kubernetes.io/not-ready:NoSchedule']);
  });

  test('NoExecute taints are rate-limited by --node-eviction-rate', async () => {
    const { clock, c, renew, settle, node } = await setup(['a', 'b', 'c', 'd', 'e']);
    await c.monitorNodeHealth();
    for (let t = 0; t < 5; t++) {
      await clock.advance(10_000);
      for (const n of ['c', 'd', 'e']) await renew(n);
      await settle();
      await c.monitorNodeHealth();
    }
    // a and b are Unknown now; the next pass queues them for tainting.
    await settle();
    await c.monitorNodeHealth();
    await c.doNoExecuteTaintingPass();
    const tainted = async () => (await Promise.all(['a', 'b'].map(async (n) => taintKeys(await node(n)).length > 0))).filter(Boolean).length;
    expect(await tainted()).toBe(1);
    await clock.advance(5_000);
    await c.doNoExecuteTaintingPass();
    expect(await tainted()).toBe(1);
    await clock.advance(5_000);
    await c.doNoExecuteTaintingPass();
    expect(await tainted()).toBe(2);
  });

  test('when every node is down the controller assumes its own connectivity failed and taints nothing', async () => {
    const { clock, c, settle, node } = await setup(['a', 'b']);
    await c.monitorNodeHealth();
    for (let t = 0; t < 6; t++) {
      await clock.advance(10_000);
      await settle();
      await c.monitorNodeHealth();
    }
    expect(ready(await node('a'))!.status).toBe('Unknown');
    expect(c.zoneState('')).toBe('FullDisruption');
    await clock.advance(60_000);
    await c.doNoExecuteTaintingPass();
    expect(taintKeys(await node('a'))).toEqual([]);
    expect(taintKeys(await node('b'))).toEqual([]);
  });
});

describe('TaintEvictionController', () => {
  test('evicts pods that do not tolerate NoExecute taints at once, tolerating ones after tolerationSeconds, and cancels when the taint goes', async () => {
    const clock = new FakeClock();
    env = fakeEnv(clock);
    const rec = recorder();
    const c = new TaintEvictionController({ client: env.client, informers: env.informers, clock, recorder: rec });
    await env.startInformers();
    running = c.start(env.signal);
    const unreachable = { key: 'node.kubernetes.io/unreachable', operator: 'Exists' as const, effect: 'NoExecute' as const };
    await createAll(env.client, [
      makeNode('n1'),
      makeNode('n2'),
      makePod('plain', { nodeName: 'n1' }),
      makePod('thirty', { nodeName: 'n1', tolerations: [{ ...unreachable, tolerationSeconds: 30 }] }),
      makePod('forever', { nodeName: 'n1', tolerations: [unreachable] }),
      makePod('other-node', { nodeName: 'n2' }),
      makePod('n2-thirty', { nodeName: 'n2', tolerations: [{ ...unreachable, tolerationSeconds: 30 }] }),
    ]);
    const pods = env.client.resource(Resources.pods, 'default');
    const exists = async (n: string) => pods.get(n).then(() => true, () => false);
    await eventually(() => env!.informers.lister(Resources.pods).list().length === 5);
    const taint = async (name: string, on: boolean) => {
      const n = await env!.client.resource(Resources.nodes).get(name);
      n.spec = { ...n.spec, taints: on ? [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-01T00:00:00Z' }] : [] };
      await env!.client.resource(Resources.nodes).update(n);
    };
    await taint('n1', true);
    await taint('n2', true);
    await eventually(async () => !(await exists('plain')) && !(await exists('other-node')));
    expect(await exists('thirty')).toBe(true);
    await eventually(() => c.scheduled().length === 2);

    // n2's taint goes before the 30s are up: its pod stays.
    await taint('n2', false);
    await eventually(() => c.scheduled().length === 1);
    await clock.advance(29_000);
    expect(await exists('thirty')).toBe(true);
    await clock.advance(1_000);
    await eventually(async () => !(await exists('thirty')));
    await clock.advance(600_000);
    expect(await exists('forever')).toBe(true);
    expect(await exists('n2-thirty')).toBe(true);
    expect(rec.events.filter((e) => e.reason === 'TaintManagerEviction').map((e) => e.message.split(' ')[0])).toEqual(expect.arrayContaining(['Marking', 'Cancelling']));
  });
});
