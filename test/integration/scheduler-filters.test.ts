/**
 * tkube-scheduler against a real etcd and API server: pods land only where every filter
 * allows, and a pod nothing fits is told why (event and condition) and placed once a node fits.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../../lib/api/index.js';
import { silentLogger } from '../../lib/base/index.js';
import { PersistentVolumeController } from '../../lib/controllers/index.js';
import { Resources, SharedInformerFactory, findDescriptor, type RESTClient, type ResourceDescriptor } from '../../lib/client/index.js';
import { startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { clientFor, createNode, createPod, eventsFor, nodeOf, startScheduler, until, type RunningScheduler } from './scheduler-support.js';

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

/** Places `n` copies of a pod and returns where each went. */
async function place(prefix: string, n: number, opts: Parameters<typeof createPod>[2] = {}): Promise<string[]> {
  for (let i = 0; i < n; i++) await createPod(client, `${prefix}-${i}`, opts);
  return Promise.all(Array.from({ length: n }, (_, i) => nodeOf(client, `${prefix}-${i}`)));
}

describe('filters', () => {
  test('requests must fit in allocatable, counting the pods already there', async () => {
    await createNode(client, 'small', { cpu: '1', memory: '1Gi' });
    await createNode(client, 'large', { cpu: '4', memory: '8Gi' });
    expect(await place('big', 1, { cpu: '2' })).toEqual(['large']);
    // large has 2 CPUs left: two more 1-CPU pods fit there, small takes one; a fourth fits nowhere... but small.
    const spots = await place('one', 3, { cpu: '1' });
    expect(spots.filter((n) => n === 'large').length).toBe(2);
    expect(spots.filter((n) => n === 'small').length).toBe(1);
  });

  test('the pods allocatable caps the pod count', async () => {
    await createNode(client, 'tiny', { pods: 2 });
    await createNode(client, 'roomy', { pods: 110, cpu: '1' });
    const spots = await place('p', 6);
    expect(spots.filter((n) => n === 'tiny').length).toBeLessThanOrEqual(2);
  });

  test('cordoned and not-ready nodes take no pods; a not-ready taint is honoured', async () => {
    await createNode(client, 'cordoned', { unschedulable: true, cpu: '64' });
    await createNode(client, 'down', { ready: 'False', cpu: '64' });
    await createNode(client, 'tainted', { cpu: '64', taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }] });
    await createNode(client, 'ok', { cpu: '1' });
    expect(new Set(await place('p', 4))).toEqual(new Set(['ok']));
  });

  test('host ports are free on the chosen node', async () => {
    // Scores alone would put both on the much larger node a.
    await createNode(client, 'a', { cpu: '64', memory: '64Gi' });
    await createNode(client, 'b', { cpu: '1', memory: '1Gi' });
    const spots = await place('web', 2, { hostPort: 8080 });
    expect(spots.sort()).toEqual(['a', 'b']);
  });

  test('nodeSelector and required node affinity', async () => {
    await createNode(client, 'ssd-1', { labels: { disk: 'ssd', zone: 'z1' } });
    await createNode(client, 'ssd-2', { labels: { disk: 'ssd', zone: 'z2' } });
    await createNode(client, 'hdd', { labels: { disk: 'hdd', zone: 'z1' }, cpu: '64' });
    const spots = await place('sel', 3, { spec: { nodeSelector: { disk: 'ssd' } } });
    expect(spots.every((n) => n === 'ssd-1' || n === 'ssd-2')).toBe(true);
    const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In' as const, values: ['z2'] }] }] } } };
    expect(await place('aff', 2, { spec: { affinity } })).toEqual(['ssd-2', 'ssd-2']);
  });

  test('taints and tolerations (NoSchedule, NoExecute)', async () => {
    await createNode(client, 'gpu', { cpu: '64', taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }] });
    await createNode(client, 'quarantine', { cpu: '64', taints: [{ key: 'bad', effect: 'NoExecute' }] });
    await createNode(client, 'plain', { cpu: '1' });
    expect(new Set(await place('plain', 3))).toEqual(new Set(['plain']));
    expect(await place('tol', 1, { cpu: '2', spec: { tolerations: [{ key: 'gpu', operator: 'Equal', value: 'true', effect: 'NoSchedule' }] } })).toEqual(['gpu']);
  });

  test('required pod affinity and anti-affinity', async () => {
    for (const z of ['a', 'b', 'c']) await createNode(client, `node-${z}`, { labels: { 'topology.kubernetes.io/zone': z } });
    await createPod(client, 'db', { labels: { app: 'db' } });
    const dbNode = await nodeOf(client, 'db');
    const near = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'topology.kubernetes.io/zone' }] } };
    expect(await place('near', 3, { spec: { affinity: near } })).toEqual([dbNode, dbNode, dbNode]);
    const apart = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } };
    const webs = await place('web', 3, { labels: { app: 'web' }, spec: { affinity: apart } });
    expect(new Set(webs).size).toBe(3);
    // A fourth has nowhere to go.
    await createPod(client, 'web-3', { labels: { app: 'web' }, spec: { affinity: apart } });
    const ev = await until('FailedScheduling for web-3', async () => (await eventsFor(client, 'web-3', 'FailedScheduling'))[0]);
    expect(ev.message).toMatch(/^0\/3 nodes are available: 3 node\(s\) didn't match pod anti-affinity rules\./);
  });

  test("a bound claim's PersistentVolume node affinity pins the pod to that node", async () => {
    await createNode(client, 'disk-node');
    await createNode(client, 'other', { cpu: '64' });
    const pv: PersistentVolume = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: 'local-pv' },
      spec: {
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        local: { path: '/mnt/disks/1' },
        storageClassName: 'local',
        claimRef: { namespace: 'default', name: 'data' },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['disk-node'] }] }] } },
      },
    };
    const pvc: PersistentVolumeClaim = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data', namespace: 'default' },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'local', volumeName: 'local-pv', resources: { requests: { storage: '1Gi' } } },
    };
    const pvs = client.resource(findDescriptor('persistentvolumes') as ResourceDescriptor<PersistentVolume>);
    const pvcs = client.resource(findDescriptor('persistentvolumeclaims') as ResourceDescriptor<PersistentVolumeClaim>, 'default');
    await pvs.create(pv);
    await pvcs.create(pvc);
    try {
      expect(await place('user', 2, { spec: { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }] } })).toEqual(['disk-node', 'disk-node']);
      // A claim that does not exist keeps the pod pending, saying so.
      await createPod(client, 'orphan', { spec: { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'nope' } }] } });
      const ev = await until('FailedScheduling for orphan', async () => (await eventsFor(client, 'orphan', 'FailedScheduling'))[0]);
      expect(ev.message).toBe('0/2 nodes are available: persistentvolumeclaim "nope" not found. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.');
    } finally {
      await pvcs.delete('data');
      await pvs.delete('local-pv');
    }
  });
});

describe('WaitForFirstConsumer volumes', () => {
  test('the scheduler binds the claim to a local volume of the node it picks; the PersistentVolume controller completes the binding', async () => {
    await createNode(client, 'n-disk');
    await createNode(client, 'n-bare', { cpu: '64', memory: '64Gi' });
    const ctl = new AbortController();
    const informers = new SharedInformerFactory({ client, log: silentLogger() });
    const pvController = new PersistentVolumeController({ client, informers, syncPeriodMs: 1000 });
    const running = informers.start(ctl.signal);
    const controller = pvController.start(ctl.signal);
    const scs = client.resource(Resources.storageClasses);
    const pvs = client.resource(Resources.persistentVolumes);
    const pvcs = client.resource(Resources.persistentVolumeClaims, 'default');
    try {
      await scs.create({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'local-wffc' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' } as StorageClass);
      await pvs.create({
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name: 'wffc-pv' },
        spec: {
          capacity: { storage: '1Gi' },
          accessModes: ['ReadWriteOnce'],
          local: { path: '/mnt/disks/wffc' },
          storageClassName: 'local-wffc',
          nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n-disk'] }] }] } },
        },
      });
      await pvcs.create({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'wffc-data', namespace: 'default' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'local-wffc', resources: { requests: { storage: '500Mi' } } } });
      // Nothing binds the claim before a pod uses it.
      await until('the claim Pending', async () => ((await pvcs.get('wffc-data')).status?.phase === 'Pending' ? true : undefined));
      await new Promise((r) => setTimeout(r, 1500));
      expect((await pvcs.get('wffc-data')).spec?.volumeName).toBeUndefined();

      expect(await place('wffc', 1, { spec: { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'wffc-data' } }] } })).toEqual(['n-disk']);
      const claim = await pvcs.get('wffc-data');
      expect(claim.status?.phase).toBe('Bound');
      expect(claim.spec?.volumeName).toBe('wffc-pv');
      expect((await pvs.get('wffc-pv')).spec?.claimRef).toMatchObject({ name: 'wffc-data', namespace: 'default', uid: claim.metadata.uid });

      // The volume is taken: a second claim of the class finds none, and its pod says so.
      await pvcs.create({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'wffc-more', namespace: 'default' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'local-wffc', resources: { requests: { storage: '500Mi' } } } });
      await createPod(client, 'wffc-late', { spec: { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'wffc-more' } }] } });
      const ev = await until('FailedScheduling for wffc-late', async () => (await eventsFor(client, 'wffc-late', 'FailedScheduling'))[0]);
      expect(ev.message).toContain("2 node(s) didn't find available persistent volumes to bind");
    } finally {
      ctl.abort();
      await Promise.allSettled([running, controller]);
    }
  });
});

describe('an unschedulable pod', () => {
  test('gets FailedScheduling with the reasons per filter and PodScheduled=False, and is placed when a node fits', async () => {
    await createNode(client, 'control-plane', { cpu: '8', taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] });
    await createNode(client, 'worker-1', { cpu: '1' });
    await createNode(client, 'worker-2', { cpu: '1' });
    await createPod(client, 'hungry', { cpu: '2' });
    const want =
      '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.';
    const ev = await until('FailedScheduling', async () => (await eventsFor(client, 'hungry', 'FailedScheduling'))[0]);
    expect(ev).toMatchObject({ type: 'Warning', message: want, source: { component: 'default-scheduler' } });
    const pods = client.resource(Resources.pods, 'default');
    const cond = await until('PodScheduled=False', async () => (await pods.get('hungry')).status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False'));
    expect(cond).toMatchObject({ reason: 'Unschedulable', message: want });
    expect((await pods.get('hungry')).status?.phase).toBe('Pending');

    await createNode(client, 'worker-3', { cpu: '4' });
    expect(await nodeOf(client, 'hungry')).toBe('worker-3');
    const bound = await pods.get('hungry');
    expect(bound.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status).toBe('True');
    const scheduled = await until('Scheduled event', async () => (await eventsFor(client, 'hungry', 'Scheduled'))[0]);
    expect(scheduled.message).toBe('Successfully assigned default/hungry to worker-3');
  });

  test('is retried when a pod that took the room is deleted', async () => {
    await createNode(client, 'only', { cpu: '1' });
    await createPod(client, 'first', { cpu: '1' });
    expect(await nodeOf(client, 'first')).toBe('only');
    await createPod(client, 'second', { cpu: '1' });
    await until('FailedScheduling for second', async () => (await eventsFor(client, 'second', 'FailedScheduling'))[0]);
    await client.resource(Resources.pods, 'default').delete('first', { gracePeriodSeconds: 0 });
    expect(await nodeOf(client, 'second')).toBe('only');
  });
});

describe('health and metrics', () => {
  test('serves /healthz, /livez, /readyz and /metrics with attempt counts and latency histograms', async () => {
    await createNode(client, 'n');
    await place('m', 2);
    const base = `http://127.0.0.1:${sched.port}`;
    for (const p of ['/healthz', '/livez', '/readyz']) {
      const r = await fetch(base + p);
      expect(r.status).toBe(200);
      expect(await r.text()).toBe('ok');
    }
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^scheduler_schedule_attempts_total\{profile="default-scheduler",result="scheduled"\} \d+$/m);
    expect(metrics).toMatch(/^scheduler_scheduling_attempt_duration_seconds_bucket\{profile="default-scheduler",result="scheduled",le="0\.001"\} \d+$/m);
    expect(metrics).toMatch(/^scheduler_pod_scheduling_sli_duration_seconds_count\{attempts="1"\} \d+$/m);
    expect(metrics).toMatch(/^scheduler_pending_pods\{queue="active"\} 0$/m);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });
});
