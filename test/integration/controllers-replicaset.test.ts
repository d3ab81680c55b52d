/**
 * ReplicaSets and ReplicationControllers against the real API server: adoption and release
 * through strategic merge patches of ownerReferences, scale-down order, and kubectl scale.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { ReplicaSet, ReplicationController } from '../../lib/api/index.js';
import { Resources } from '../../lib/client/index.js';
import { startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { startControllers, until, type ControllerHarness } from '../support/workload-harness.js';
import { kubectls, runKubectl, type Kubectl } from '../support/kubectl.js';

let s: TestAPIServer;
let h: ControllerHarness;
let k: Kubectl;

beforeAll(async () => {
  s = await startAPIServer();
  h = await startControllers(s, { controllers: ['replicaset', 'replicationcontroller'], kubelet: { nodes: ['node-a', 'node-b'] } });
  k = kubectls()[kubectls().length - 1]!;
});
afterAll(async () => {
  await h?.stop();
  await s?.stop();
});

const pods = () => h.client.resource(Resources.pods, 'default');
const live = async (selector: string) => (await pods().list({ labelSelector: selector })).items.filter((p) => !p.metadata.deletionTimestamp);

test('adopts a matching orphan, releases a pod relabelled away, and replaces it', async () => {
  await pods().create({ metadata: { name: 'early-bird', namespace: 'default', labels: { app: 'cache' } }, spec: { containers: [{ name: 'c', image: 'redis:7' }] } });
  const rs: ReplicaSet = {
    metadata: { name: 'cache', namespace: 'default' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'cache' } }, template: { metadata: { labels: { app: 'cache' } }, spec: { containers: [{ name: 'c', image: 'redis:7' }] } } },
  };
  const created = await h.client.resource(Resources.replicaSets, 'default').create(rs);
  await until(async () => (await live('app=cache')).length === 2 && (await pods().get('early-bird')).metadata.ownerReferences?.length === 1, 'adopted + 1 new');
  expect((await pods().get('early-bird')).metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'cache', uid: created.metadata.uid, controller: true, blockOwnerDeletion: true }]);

  const r = await runKubectl(k, s.kubeconfig, ['label', 'pod', 'early-bird', 'app=debug', '--overwrite']);
  expect(r.code, r.stderr).toBe(0);
  await until(async () => !(await pods().get('early-bird')).metadata.ownerReferences?.length, 'released');
  await until(async () => (await live('app=cache')).length === 2, 'replacement');
  const want = { replicas: 2, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 2, observedGeneration: 1 };
  const statusNow = async () => (await h.client.resource(Resources.replicaSets, 'default').get('cache')).status;
  // The release briefly drops the status to 1 before the replacement counts: wait until it settles.
  let settledFor = 0;
  await until(async () => {
    const st = (await statusNow()) as Record<string, unknown> | undefined;
    settledFor = Object.entries(want).every(([key, v]) => st?.[key] === v) ? settledFor + 1 : 0;
    return settledFor >= 10;
  }, 'status settled with the replacement ready');
  expect(await statusNow()).toMatchObject(want);
  expect((await live('app=cache')).map((p) => p.metadata.name)).not.toContain('early-bird');
});

test('a ReplicationController scaled with kubectl', async () => {
  const rc: ReplicationController = {
    metadata: { name: 'legacy', namespace: 'default' },
    spec: { replicas: 1, selector: { app: 'legacy' }, template: { metadata: { labels: { app: 'legacy' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } } },
  };
  await h.client.resource(Resources.replicationControllers, 'default').create(rc);
  await until(async () => (await live('app=legacy')).length === 1, '1 pod');
  const r = await runKubectl(k, s.kubeconfig, ['scale', 'rc', 'legacy', '--replicas=4']);
  expect(r.code, r.stderr).toBe(0);
  await until(async () => (await h.client.resource(Resources.replicationControllers, 'default').get('legacy')).status?.readyReplicas === 4, '4 ready');
  const get = await runKubectl(k, s.kubeconfig, ['get', 'rc', 'legacy', '--no-headers']);
  expect(get.stdout.trim().split(/\s+/).slice(0, 4)).toEqual(['legacy', '4', '4', '4']);
  await runKubectl(k, s.kubeconfig, ['scale', 'rc', 'legacy', '--replicas=1']);
  await until(async () => (await live('app=legacy')).length === 1, 'scaled down');
  await h.broadcaster.flush();
  const ev = await runKubectl(k, s.kubeconfig, ['get', 'events', '--field-selector', 'involvedObject.name=legacy,reason=SuccessfulDelete', '-o', 'jsonpath={range .items[*]}{.source.component}{"\\n"}{end}']);
  expect(ev.stdout.trim().split('\n')).toEqual(['replication-controller', 'replication-controller', 'replication-controller']);
});
