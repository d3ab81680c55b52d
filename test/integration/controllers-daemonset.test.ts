/**
 * DaemonSets against the real API server: one pod per eligible node (the stand-in scheduler
 * binds each by the node affinity the controller pins it with), a pod for a node that joins,
 * rolling updates with kubectl rollout status, history and undo through ControllerRevisions.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { DaemonSet } from '../../lib/api/index.js';
import { Resources } from '../../lib/client/index.js';
import { startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { startControllers, until, type ControllerHarness } from '../support/workload-harness.js';
import { FakeKubelet, node, registerNode } from '../support/fake-kubelet.js';
import { kubectls, runKubectl, type Kubectl } from '../support/kubectl.js';

let s: TestAPIServer;
let h: ControllerHarness;
let k: Kubectl;

beforeAll(async () => {
  s = await startAPIServer();
  h = await startControllers(s, { controllers: ['daemonset'] });
  k = kubectls()[kubectls().length - 1]!;
  await registerNode(h.client, node('node-a', { pool: 'general' }));
  await registerNode(h.client, node('node-b', { pool: 'general' }));
  await registerNode(h.client, node('node-c', { pool: 'gpu' }, [{ key: 'nvidia.com/gpu', value: 'true', effect: 'NoSchedule' }]));
});
afterAll(async () => {
  await h?.stop();
  await s?.stop();
});

async function kubectl(...args: string[]): Promise<string> {
  const r = await runKubectl(k, s.kubeconfig, args, { timeoutMs: 90_000 });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const pods = () => h.client.resource(Resources.pods, 'kube-system');
const daemonSets = () => h.client.resource(Resources.daemonSets, 'kube-system');

function daemonSet(name: string, tolerateGPU: boolean): DaemonSet {
  return {
    metadata: { name, namespace: 'kube-system' },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'agent', image: 'agent:1' }], tolerations: tolerateGPU ? [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] : undefined },
      },
    },
  };
}

const nodesOf = async (app: string) =>
  (await pods().list({ labelSelector: `app=${app}` })).items
    .filter((p) => !p.metadata.deletionTimestamp)
    .map((p) => p.spec!.nodeName ?? `(unbound: ${FakeKubelet.targetNode(p)})`)
    .sort();

test('one pod per eligible node, bound through the pinned affinity; the tainted node only with a toleration', async () => {
  await daemonSets().create(daemonSet('logs', false));
  await daemonSets().create(daemonSet('monitor', true));
  await until(async () => (await nodesOf('logs')).join() === 'node-a,node-b', 'logs on a and b');
  await until(async () => (await nodesOf('monitor')).join() === 'node-a,node-b,node-c', 'monitor everywhere');
  await until(async () => (await daemonSets().get('monitor')).status?.numberReady === 3, 'monitor ready');
  await until(async () => (await daemonSets().get('logs')).status?.numberAvailable === 2, 'logs available');
  expect((await daemonSets().get('logs')).status).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 2, updatedNumberScheduled: 2, numberAvailable: 2, numberMisscheduled: 0 });
  const out = await kubectl('get', 'daemonset', 'logs', '-n', 'kube-system', '--no-headers');
  expect(out.trim().split(/\s+/).slice(0, 6)).toEqual(['logs', '2', '2', '2', '2', '2']);
});

test('a node that joins gets its pod; a node that stops matching loses it', async () => {
  await registerNode(h.client, node('node-d', { pool: 'general' }));
  await until(async () => (await nodesOf('logs')).includes('node-d'), 'pod on node-d');
  const ds = daemonSet('pool-agent', false);
  ds.spec!.template.spec!.nodeSelector = { pool: 'general' };
  await daemonSets().create(ds);
  await until(async () => (await nodesOf('pool-agent')).join() === 'node-a,node-b,node-d', 'pool-agent on the general pool');
  await h.client.resource(Resources.nodes).patch('node-d', 'merge', { metadata: { labels: { pool: 'retired' } } });
  await until(async () => (await nodesOf('pool-agent')).join() === 'node-a,node-b', 'gone from node-d');
});

test('rolling update with kubectl: set image, rollout status, history and undo', async () => {
  await kubectl('set', 'image', 'daemonset/logs', 'agent=agent:2', '-n', 'kube-system');
  const status = await kubectl('rollout', 'status', 'daemonset/logs', '-n', 'kube-system', '--timeout=60s');
  expect(status).toContain('daemon set "logs" successfully rolled out');
  const images = (await pods().list({ labelSelector: 'app=logs' })).items.filter((p) => !p.metadata.deletionTimestamp).map((p) => p.spec!.containers[0]!.image);
  expect(images).toEqual(images.map(() => 'agent:2'));
  const history = await kubectl('rollout', 'history', 'daemonset/logs', '-n', 'kube-system');
  expect(history).toMatch(/^1\s+/m);
  expect(history).toMatch(/^2\s+/m);
  const revs = (await h.client.resource(Resources.controllerRevisions, 'kube-system').list()).items.filter((r) => r.metadata.ownerReferences?.[0]?.name === 'logs');
  expect(revs.map((r) => r.revision).sort()).toEqual([1, 2]);

  await kubectl('rollout', 'undo', 'daemonset/logs', '-n', 'kube-system');
  await kubectl('rollout', 'status', 'daemonset/logs', '-n', 'kube-system', '--timeout=60s');
  expect((await daemonSets().get('logs')).spec!.template.spec!.containers[0]!.image).toBe('agent:1');
  await until(async () => (await pods().list({ labelSelector: 'app=logs' })).items.filter((p) => !p.metadata.deletionTimestamp).every((p) => p.spec!.containers[0]!.image === 'agent:1'), 'pods back on agent:1');
  const after = (await h.client.resource(Resources.controllerRevisions, 'kube-system').list()).items.filter((r) => r.metadata.ownerReferences?.[0]?.name === 'logs');
  expect(after.map((r) => r.revision).sort()).toEqual([2, 3]);
});
