/**
 * tkube-scheduler against a real API server: among nodes that all fit, pods go where the
 * scores say (least allocated, balanced resources, preferences, spreading, images).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { ReplicaSet } from '../../lib/api/index.js';
import { Resources, type RESTClient } from '../../lib/client/index.js';
import { startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { clientFor, createNode, createPod, nodeOf, podObject, startScheduler, until, type PodOptions, type RunningScheduler } from './scheduler-support.js';

let s: TestAPIServer;
let client: RESTClient;
let sched: RunningScheduler;

beforeAll(async () => {
  s = await startAPIServer();
  const c = clientFor(s);
  client = c.client;
  sched = await startScheduler(c.config);
});
afterAll(async () => {
  await sched?.stop();
  await s?.stop();
});
afterEach(async () => {
  const pods = client.resource(Resources.pods);
  for (const p of (await pods.list()).items) await pods.inNamespace(p.metadata.namespace).delete(p.metadata.name!, { gracePeriodSeconds: 0 });
  const nodes = client.resource(Resources.nodes);
  for (const n of (await nodes.list()).items) await nodes.delete(n.metadata.name!);
  await until('the scheduler cache to empty', () => {
    const st = sched.server.scheduler!.cache.stats();
    return st.nodes === 0 && st.pods === 0;
  });
});

/** Creates pods one after another (each placed before the next), returning their nodes. */
async function placeInTurn(prefix: string, n: number, opts: PodOptions = {}): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    await createPod(client, `${prefix}-${i}`, opts);
    out.push(await nodeOf(client, `${prefix}-${i}`));
  }
  return out;
}

const count = (xs: string[], x: string) => xs.filter((v) => v === x).length;

describe('scores', () => {
  test('least allocated: pods spread to the emptier nodes', async () => {
    await createNode(client, 'a', { cpu: '4', memory: '8Gi' });
    await createNode(client, 'b', { cpu: '4', memory: '8Gi' });
    const spots = await placeInTurn('p', 6, { cpu: '500m', memory: '512Mi' });
    expect(count(spots, 'a')).toBe(3);
    expect(count(spots, 'b')).toBe(3);
  });

  test('balanced allocation: a CPU-heavy pod goes where memory is the busier resource', async () => {
    // Both nodes are half used, one in memory, one in CPU; least-allocated ties, balance decides.
    await createNode(client, 'mem-busy', { cpu: '4', memory: '8Gi' });
    await createNode(client, 'cpu-busy', { cpu: '4', memory: '8Gi' });
    await createPod(client, 'mem-hog', { cpu: '100m', memory: '4Gi', spec: { nodeName: 'mem-busy' } });
    await createPod(client, 'cpu-hog', { cpu: '2', memory: '200Mi', spec: { nodeName: 'cpu-busy' } });
    await until('the hogs in the cache', () => sched.server.scheduler!.cache.stats().pods === 2);
    const spots = await placeInTurn('cpu-job', 2, { cpu: '1', memory: '100Mi' });
    expect(spots).toEqual(['mem-busy', 'mem-busy']);
  });

  test('preferred node affinity', async () => {
    await createNode(client, 'fast', { labels: { disk: 'ssd' }, cpu: '2' });
    await createNode(client, 'slow', { labels: { disk: 'hdd' }, cpu: '8' });
    const affinity = { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchExpressions: [{ key: 'disk', operator: 'In' as const, values: ['ssd'] }] } }] } };
    expect(await placeInTurn('p', 3, { cpu: '100m', spec: { affinity } })).toEqual(['fast', 'fast', 'fast']);
  });

  test('preferred pod affinity and anti-affinity', async () => {
    await createNode(client, 'n1', { cpu: '8' });
    await createNode(client, 'n2', { cpu: '2' });
    await createPod(client, 'cache', { labels: { app: 'cache' }, spec: { nodeName: 'n2' } });
    await until('the cache pod in the cache', () => sched.server.scheduler!.cache.stats().pods === 1);
    const near = { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { app: 'cache' } }, topologyKey: 'kubernetes.io/hostname' } }] } };
    expect(await placeInTurn('near', 3, { cpu: '100m', spec: { affinity: near } })).toEqual(['n2', 'n2', 'n2']);
    const away = { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { app: 'cache' } }, topologyKey: 'kubernetes.io/hostname' } }] } };
    expect(await placeInTurn('away', 2, { cpu: '100m', spec: { affinity: away } })).toEqual(['n1', 'n1']);
  });

  test('topology spread: ScheduleAnyway prefers the emptier zone, DoNotSchedule refuses to skew', async () => {
    // Zone a has the much larger node, so without spreading everything would go there.
    await createNode(client, 'a-big', { cpu: '64', memory: '64Gi', labels: { 'topology.kubernetes.io/zone': 'a' } });
    await createNode(client, 'b-small', { cpu: '2', memory: '4Gi', labels: { 'topology.kubernetes.io/zone': 'b' } });
    const spread = (when: 'ScheduleAnyway' | 'DoNotSchedule') => ({
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: when, labelSelector: { matchLabels: { app: 'web' } } }],
    });
    const soft = await placeInTurn('soft', 4, { cpu: '100m', labels: { app: 'web' }, spec: spread('ScheduleAnyway') });
    expect(count(soft, 'a-big')).toBe(2);
    expect(count(soft, 'b-small')).toBe(2);
    const hard = await placeInTurn('hard', 4, { cpu: '100m', labels: { app: 'web' }, spec: spread('DoNotSchedule') });
    expect(count(hard, 'a-big')).toBe(2);
    expect(count(hard, 'b-small')).toBe(2);
  });

  test('default spreading: replicas of one ReplicaSet spread over nodes', async () => {
    for (const n of ['n1', 'n2', 'n3']) await createNode(client, n, { cpu: n === 'n1' ? '64' : '4', memory: '64Gi' });
    const rs = await client.resource(Resources.replicaSets, 'default').create({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web', namespace: 'default' },
      spec: { replicas: 0, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'busybox' }] } } },
    } as ReplicaSet);
    try {
      await until('the ReplicaSet in the scheduler', () => sched.server.scheduler!.listers.replicaSets?.namespace('default').get('web'));
      const owner = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata.uid!, controller: true }];
      const spots = [];
      for (let i = 0; i < 3; i++) {
        const pod = { labels: { app: 'web' }, cpu: '100m' };
        await client.resource(Resources.pods, 'default').create({ ...podObject(`web-${i}`, pod), metadata: { name: `web-${i}`, namespace: 'default', labels: { app: 'web' }, ownerReferences: owner } });
        spots.push(await nodeOf(client, `web-${i}`));
      }
      expect(new Set(spots).size).toBe(3);
    } finally {
      await client.resource(Resources.replicaSets, 'default').delete('web');
    }
  });

  test('PreferNoSchedule taints are avoided when possible', async () => {
    await createNode(client, 'spot', { cpu: '64', taints: [{ key: 'spot', effect: 'PreferNoSchedule' }] });
    await createNode(client, 'steady', { cpu: '2' });
    expect(await placeInTurn('p', 3, { cpu: '100m' })).toEqual(['steady', 'steady', 'steady']);
  });

  test('image locality: the node that has the image already', async () => {
    const gb = 1024 * 1024 * 1024;
    await createNode(client, 'warm', { cpu: '4', images: [{ names: ['docker.io/example/huge:1.0'], sizeBytes: gb }] });
    await createNode(client, 'cold-1', { cpu: '4' });
    await createNode(client, 'cold-2', { cpu: '4' });
    expect(await placeInTurn('p', 2, { cpu: '100m', image: 'example/huge:1.0' })).toEqual(['warm', 'warm']);
  });
});
