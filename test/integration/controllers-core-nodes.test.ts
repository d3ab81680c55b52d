/**
 * Node controllers against a real API server with simulated nodes: heartbeat loss → Unknown →
 * taints → eviction, node IPAM over 200 nodes, and pod garbage collection.
 */
import { afterEach, expect, test } from 'vitest';
import type { Node, Pod } from '../../lib/api/index.js';
import { Resources } from '../../lib/client/index.js';
import { CIDRSet, parseCIDR, cidrsOverlap } from '../../lib/controllers/index.js';
import { eventually } from '../support/controllers.js';
import { startCluster, type TestCluster } from '../support/cluster.js';

let c: TestCluster | undefined;
afterEach(async () => {
  await c?.stop();
  c = undefined;
});

function pod(name: string, node: string, o: { tolerationSeconds?: number; owner?: { name: string; uid: string } } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      labels: { app: 'rs' },
      ...(o.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: o.owner.name, uid: o.owner.uid, controller: true, blockOwnerDeletion: true }] } : {}),
    },
    spec: {
      nodeName: node,
      containers: [{ name: 'app', image: 'nginx' }],
      ...(o.tolerationSeconds !== undefined
        ? {
            tolerations: [
              { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: o.tolerationSeconds },
              { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: o.tolerationSeconds },
            ],
          }
        : {}),
    },
  };
}

const ready = (n: Node) => n.status?.conditions?.find((x) => x.type === 'Ready');
const taintKeys = (n: Node) => (n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).sort();

test('a node that stops heartbeating goes Unknown, is tainted, and its pods are evicted after their tolerationSeconds; it recovers', async () => {
  c = await startCluster({
    controllers: ['nodelifecycle', 'taint-eviction-controller'],
    options: { nodeMonitorGracePeriodMs: 3000, nodeEvictionRate: 10 },
    sim: { nodes: [{ name: 'n1' }, { name: 'n2' }, { name: 'n3' }], leaseRenewIntervalMs: 500, statusReportIntervalMs: 60_000 },
  });
  const pods = c.client.resource(Resources.pods, 'default');
  const nodes = c.client.resource(Resources.nodes);
  // Pods of a ReplicaSet on n1: one without tolerations, one tolerating the taint for 4s, one for long.
  const rs = { name: 'web-7d4b9', uid: '0d8d2a8e-3b8e-4f7a-9c1e-5a6b7c8d9e0f' };
  await pods.create(pod('plain', 'n1', { owner: rs }));
  await pods.create(pod('tolerant', 'n1', { owner: rs, tolerationSeconds: 4 }));
  await pods.create(pod('patient', 'n1', { owner: rs, tolerationSeconds: 3600 }));
  await pods.create(pod('elsewhere', 'n2', { owner: rs }));
  await eventually(async () => (await pods.list()).items.every((p) => p.status?.phase === 'Running'));

  const lostAt = Date.now();
  c.sim!.stopHeartbeat('n1');
  const n1 = await eventually(async () => {
    const n = await nodes.get('n1');
    return ready(n)?.status === 'Unknown' && n;
  }, 20_000);
  expect(Date.now() - lostAt).toBeGreaterThanOrEqual(2500);
  expect(ready(n1)).toMatchObject({ reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
  // The pods of the silent node are no longer ready.
  await eventually(async () => (await pods.get('patient')).status?.conditions?.find((x) => x.type === 'Ready')?.status === 'False');
  expect((await pods.get('elsewhere')).status?.conditions?.find((x) => x.type === 'Ready')?.status).toBe('True');

  await eventually(async () => taintKeys(await nodes.get('n1')).join() === 'node.kubernetes.io/unreachable:NoExecute,node.kubernetes.io/unreachable:NoSchedule', 10_000);
  const taintedAt = Date.now();
  // Without a toleration: evicted at once (deleted gracefully; the dead kubelet never confirms).
  const evicted = await eventually(async () => {
    const p = await pods.get('plain');
    return p.metadata.deletionTimestamp && p;
  });
  expect(evicted.status!.conditions!.find((x) => x.type === 'DisruptionTarget')).toMatchObject({ status: 'True', reason: 'DeletionByTaintManager' });
  // With tolerationSeconds 4: only after those 4 seconds.
  expect((await pods.get('tolerant')).metadata.deletionTimestamp).toBeUndefined();
  await eventually(async () => (await pods.get('tolerant')).metadata.deletionTimestamp, 15_000);
  expect(Date.now() - taintedAt).toBeGreaterThanOrEqual(3000);
  expect((await pods.get('patient')).metadata.deletionTimestamp).toBeUndefined();
  expect((await pods.get('elsewhere')).metadata.deletionTimestamp).toBeUndefined();
  // The pods' owner (a ReplicaSet controller, on another branch) would now create replacements.
  const events = (await c.client.resource(Resources.events, 'default').list()).items;
  expect(events.some((e) => e.reason === 'TaintManagerEviction' && e.involvedObject.name === 'plain')).toBe(true);

  // The kubelet comes back: Ready again, taints gone.
  c.sim!.resumeHeartbeat('n1');
  await eventually(async () => {
    const n = await nodes.get('n1');
    return ready(n)?.status === 'True' && taintKeys(n).length === 0;
  }, 15_000);
  expect((await nodes.get('n2')).spec?.taints ?? []).toEqual([]);
});

test('nodes reporting Ready=False are tainted not-ready, no faster than --node-eviction-rate', async () => {
  c = await startCluster({ controllers: ['nodelifecycle'], options: { nodeEvictionRate: 0.5 }, sim: { nodes: ['n1', 'n2', 'n3', 'n4', 'n5'].map((name) => ({ name })), leaseRenewIntervalMs: 500 } });
  const nodes = c.client.resource(Resources.nodes);
  const tainted = async (n: string) => taintKeys(await nodes.get(n)).includes('node.kubernetes.io/not-ready:NoExecute');
  await Promise.all([c.sim!.setNodeReady('n1', false), c.sim!.setNodeReady('n2', false)]);
  const first = await eventually(async () => ((await tainted('n1')) || (await tainted('n2'))) && Date.now(), 15_000);
  const second = await eventually(async () => (await tainted('n1')) && (await tainted('n2')) && Date.now(), 15_000);
  // 0.5 nodes per second: the second taint comes about 2s after the first.
  expect(second - first).toBeGreaterThanOrEqual(1500);
  expect(taintKeys(await nodes.get('n1'))).toEqual(['node.kubernetes.io/not-ready:NoExecute', 'node.kubernetes.io/not-ready:NoSchedule']);
  await c.sim!.setNodeReady('n1', true);
  await eventually(async () => taintKeys(await nodes.get('n1')).length === 0, 15_000);
});

test('node IPAM: 200 nodes get non-overlapping /24s outside the service range; deleted nodes release theirs; a restart reuses nothing live', async () => {
  c = await startCluster({ controllers: ['nodeipam'], options: { allocateNodeCIDRs: true, clusterCIDR: '10.244.0.0/16', nodeCIDRMaskSize: 24, serviceClusterIPRange: '10.96.0.0/12' } });
  const nodes = c.client.resource(Resources.nodes);
  const create = (i: number) => nodes.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${String(i).padStart(3, '0')}` } });
  for (let i = 0; i < 200; i += 20) await Promise.all(Array.from({ length: 20 }, (_, k) => create(i + k)));
  const all = await eventually(async () => {
    const items = (await nodes.list()).items;
    return items.length === 200 && items.every((n) => n.spec?.podCIDR) && items;
  }, 60_000);
  const cidrs = all.map((n) => n.spec!.podCIDR!);
  expect(new Set(cidrs).size).toBe(200);
  for (const n of all) expect(n.spec!.podCIDRs).toEqual([n.spec!.podCIDR]);
  const parsed = cidrs.map(parseCIDR);
  for (const p of parsed) {
    expect(p.prefix).toBe(24);
    expect(cidrsOverlap(p, parseCIDR('10.244.0.0/16'))).toBe(true);
    expect(cidrsOverlap(p, parseCIDR('10.96.0.0/12'))).toBe(false);
  }
  const set = new CIDRSet('10.244.0.0/16', 24);
  for (const cidr of cidrs) {
    expect(set.isUsed(cidr)).toBe(false);
    set.occupy(cidr);
  }

  // Delete 20 nodes; restart the controller manager; add 76: the /16 has exactly 256 /24s.
  const gone = all.slice(0, 20).map((n) => n.metadata.name!);
  await Promise.all(gone.map((n) => nodes.delete(n)));
  await new Promise((r) => setTimeout(r, 500));
  await c.stopManager();
  c.startManager();
  for (let i = 200; i < 276; i += 19) await Promise.all(Array.from({ length: Math.min(19, 276 - i) }, (_, k) => create(i + k)));
  const after = await eventually(async () => {
    const items = (await nodes.list()).items;
    return items.length === 256 && items.every((n) => n.spec?.podCIDR) && items;
  }, 60_000);
  expect(new Set(after.map((n) => n.spec!.podCIDR)).size).toBe(256);
  // One more node: the range is exhausted, and the controller says so.
  await create(999);
  await eventually(async () => (await c!.client.resource(Resources.events, 'default').list()).items.some((e) => e.reason === 'CIDRNotAvailable' && e.involvedObject.name === 'node-999'), 20_000);
  expect((await nodes.get('node-999')).spec?.podCIDR).toBeUndefined();
}, 180_000);

test('PodGC: terminated pods beyond the threshold, and pods of deleted nodes (running or stuck terminating), are deleted', async () => {
  c = await startCluster({ controllers: ['podgc'], options: { terminatedPodGCThreshold: 2 }, sim: { nodes: [{ name: 'n1' }, { name: 'n2' }], leaseRenewIntervalMs: 500 } });
  const pods = c.client.resource(Resources.pods, 'default');
  const job = (name: string, node: string) => {
    const p = pod(name, node);
    p.metadata.annotations = { 'simnode.tkube.io/outcome': 'succeed' };
    p.spec!.restartPolicy = 'Never';
    return p;
  };
  for (let i = 0; i < 5; i++) {
    await pods.create(job(`done-${i}`, 'n1'));
    await new Promise((r) => setTimeout(r, 1100)); // distinct creation timestamps (seconds)
  }
  await pods.create(pod('on-n2', 'n2'));
  await pods.create(pod('stuck-on-n2', 'n2'));
  await eventually(async () => (await pods.list()).items.filter((p) => p.status?.phase === 'Succeeded').length <= 2 && (await pods.list()).items.length === 4, 20_000);
  expect((await pods.list()).items.map((p) => p.metadata.name).sort()).toEqual(['done-3', 'done-4', 'on-n2', 'stuck-on-n2']);

  // n2's kubelet dies; a pod deleted then stays Terminating (nobody confirms)...
  await eventually(async () => (await pods.get('stuck-on-n2')).status?.phase === 'Running');
  c.sim!.stopHeartbeat('n2');
  await pods.delete('stuck-on-n2');
  await new Promise((r) => setTimeout(r, 1500));
  expect((await pods.get('stuck-on-n2')).metadata.deletionTimestamp).toBeDefined();
  // ...until the node is deleted: after the quarantine, both its pods are force-deleted.
  await c.sim!.removeNode('n2', { deleteNode: true });
  await eventually(async () => (await pods.list()).items.every((p) => p.spec?.nodeName !== 'n2'), 20_000);
  expect((await pods.list()).items.map((p) => p.metadata.name).sort()).toEqual(['done-3', 'done-4']);
});
