/**
 * Controllers whose pod watch lags behind the API server (every pod event delivered 700ms
 * late) while their own objects keep changing, so that they sync again and again on a cache
 * that does not show the pods they just made. Expectations must keep them from making more.
 */
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import type { DaemonSet, Event, Job, ReplicaSet, StatefulSet } from '../../lib/api/index.js';
import { Resources } from '../../lib/client/index.js';
import { startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { startControllers, until, type ControllerHarness } from '../support/workload-harness.js';
import { node, registerNode } from '../support/fake-kubelet.js';

let s: TestAPIServer;
let h: ControllerHarness | undefined;

beforeAll(async () => {
  s = await startAPIServer();
});
afterEach(async () => {
  await h?.stop();
  h = undefined;
});
afterAll(async () => {
  await s?.stop();
});

const lag = { resources: ['pods'], ms: 700 };
const template = (app: string) => ({ metadata: { labels: { app } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });

async function namespace(name: string): Promise<string> {
  await h!.client.resource(Resources.namespaces).create({ metadata: { name } });
  return name;
}

/** Changes an object's annotation `n` times, 100ms apart: each change is another sync. */
async function poke(patch: (i: number) => Promise<unknown>, n = 6): Promise<void> {
  for (let i = 0; i < n; i++) {
    await patch(i);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('ReplicaSet: exactly replicas pods', async () => {
  h = await startControllers(s, { controllers: ['replicaset'], lag, kubelet: { nodes: [] } });
  const ns = await namespace('lag-rs');
  const rs: ReplicaSet = { metadata: { name: 'burst', namespace: ns }, spec: { replicas: 5, selector: { matchLabels: { app: 'burst' } }, template: template('burst') } };
  const client = h.client.resource(Resources.replicaSets, ns);
  await client.create(rs);
  await poke((i) => client.patch('burst', 'merge', { metadata: { annotations: { poke: String(i) } } }));
  await until(async () => (await client.get('burst')).status?.replicas === 5, 'status 5');
  await new Promise((r) => setTimeout(r, 1500));
  expect((await h.client.resource(Resources.pods, ns).list()).items.length).toBe(5);
});

test('DaemonSet: one pod per node', async () => {
  h = await startControllers(s, { controllers: ['daemonset'], lag, kubelet: false });
  const ns = await namespace('lag-ds');
  for (const n of ['lag-1', 'lag-2', 'lag-3']) await registerNode(h.client, node(n));
  const ds: DaemonSet = { metadata: { name: 'agent', namespace: ns }, spec: { selector: { matchLabels: { app: 'agent' } }, template: template('agent') } };
  const client = h.client.resource(Resources.daemonSets, ns);
  await client.create(ds);
  await poke((i) => client.patch('agent', 'merge', { metadata: { annotations: { poke: String(i) } } }));
  await until(async () => (await client.get('agent')).status?.currentNumberScheduled === 3, 'scheduled 3');
  await new Promise((r) => setTimeout(r, 1500));
  expect((await h.client.resource(Resources.pods, ns).list()).items.length).toBe(3);
});

test('Job: exactly parallelism pods', async () => {
  h = await startControllers(s, { controllers: ['job'], lag, kubelet: false });
  const ns = await namespace('lag-job');
  const job: Job = { metadata: { name: 'wide', namespace: ns }, spec: { parallelism: 4, completions: 8, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } };
  const client = h.client.resource(Resources.jobs, ns);
  await client.create(job);
  await poke((i) => client.patch('wide', 'merge', { metadata: { annotations: { poke: String(i) } } }));
  await until(async () => (await client.get('wide')).status?.active === 4, 'active 4');
  await new Promise((r) => setTimeout(r, 1500));
  expect((await h.client.resource(Resources.pods, ns).list()).items.length).toBe(4);
});

test('StatefulSet (Parallel): every ordinal once, and no failed creates of names that exist', async () => {
  h = await startControllers(s, { controllers: ['statefulset'], lag, kubelet: false });
  const ns = await namespace('lag-sts');
  const set: StatefulSet = { metadata: { name: 'db', namespace: ns }, spec: { replicas: 4, podManagementPolicy: 'Parallel', serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: template('db') } };
  const client = h.client.resource(Resources.statefulSets, ns);
  await client.create(set);
  await poke((i) => client.patch('db', 'merge', { metadata: { annotations: { poke: String(i) } } }));
  await until(async () => (await client.get('db')).status?.replicas === 4, 'replicas 4');
  await new Promise((r) => setTimeout(r, 1500));
  expect((await h.client.resource(Resources.pods, ns).list()).items.map((p) => p.metadata.name).sort()).toEqual(['db-0', 'db-1', 'db-2', 'db-3']);
  await h.broadcaster.flush();
  const failed = (await h.client.resource(Resources.events, ns).list()).items.filter((e: Event) => e.reason === 'FailedCreate');
  expect(failed).toEqual([]);
});
