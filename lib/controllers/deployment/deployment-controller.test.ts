import { afterEach, describe, expect, test } from 'vitest';
import type { Deployment, ReplicaSet } from '../../api/index.js';
import { Resources } from '../../client/index.js';
import { ReplicaSetController, replicaSetKind } from '../replicaset/index.js';
import { eventually, makePodsReady, newHarness, settle, type Harness } from '../replicaset/testing.js';
import { DeploymentController } from './deployment-controller.js';
import * as u from './util.js';

let h: Harness;
afterEach(async () => {
  await h?.stop();
});

const deployments = () => h.client.resource(Resources.deployments, 'default');
const replicaSets = () => h.client.resource(Resources.replicaSets, 'default');
const pods = () => h.client.resource(Resources.pods, 'default');

function deployment(name: string, replicas: number, spec: Partial<NonNullable<Deployment['spec']>> = {}, image = 'nginx:1'): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image }] } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      ...spec,
    },
  };
}

async function start(): Promise<void> {
  h = newHarness();
  const opts = { client: h.client, informers: h.factory, recorder: h.recorder, clock: h.clock };
  await h.run(new DeploymentController(opts), new ReplicaSetController(replicaSetKind, opts));
}

async function rsByName(): Promise<Map<string, ReplicaSet>> {
  return new Map((await replicaSets().list()).items.map((rs) => [rs.metadata.name!, rs]));
}

// Oldest revision first (the fake clock stands still, so creation times tie).
const sizes = async () =>
  (await replicaSets().list()).items
    .sort(u.byRevision)
    .map((rs) => rs.spec?.replicas ?? 0);

async function setImage(name: string, image: string): Promise<void> {
  const d = await deployments().get(name);
  d.spec!.template.spec!.containers[0]!.image = image;
  await deployments().update(d);
}

describe('Deployment controller', () => {
  test('creates a replica set named after the template hash, with revision annotations, and reports progress', async () => {
    await start();
    await deployments().create(deployment('web', 3));
    await eventually(async () => (await pods().list()).items.length === 3, '3 pods');
    const [rs] = (await replicaSets().list()).items;
    const hash = rs!.metadata.labels!['pod-template-hash']!;
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(rs!.metadata.name).toBe(`web-${hash}`);
    expect(rs!.spec!.selector.matchLabels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(rs!.spec!.template!.metadata!.labels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(rs!.metadata.annotations).toMatchObject({ 'deployment.kubernetes.io/revision': '1', 'deployment.kubernetes.io/desired-replicas': '3', 'deployment.kubernetes.io/max-replicas': '4' });
    expect(rs!.metadata.ownerReferences![0]).toMatchObject({ kind: 'Deployment', name: 'web', controller: true, blockOwnerDeletion: true });

    await eventually(async () => (await deployments().get('web')).status?.replicas === 3, 'status');
    let d = await deployments().get('web');
    expect(d.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    // Pods were created since the replica set was: progressing.
    expect(u.getCondition(d.status, 'Progressing')).toMatchObject({ status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "web-${hash}" is progressing.` });
    expect(u.getCondition(d.status, 'Available')).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable' });

    await makePodsReady(h, 'default');
    await eventually(async () => (await deployments().get('web')).status?.availableReplicas === 3, 'available');
    await settle(h);
    d = await deployments().get('web');
    expect(d.status).toMatchObject({ observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
    expect(u.getCondition(d.status, 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' });
    expect(u.getCondition(d.status, 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "web-${hash}" has successfully progressed.` });
    expect(h.recorder.lines((e) => e.kind === 'Deployment')).toEqual([`ScalingReplicaSet: Scaled up replica set web-${hash} to 3`]);
  });

  test('rolls out step by step within maxSurge 1 and maxUnavailable 0', async () => {
    await start();
    await deployments().create(deployment('web', 4, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }));
    await eventually(async () => (await pods().list()).items.length === 4, '4 pods');
    await makePodsReady(h, 'default');
    await eventually(async () => (await deployments().get('web')).status?.availableReplicas === 4, 'available');
    await settle(h);
    const oldHash = (await replicaSets().list()).items[0]!.metadata.labels!['pod-template-hash'];

    await setImage('web', 'nginx:2');
    const steps: number[][] = [];
    for (let i = 0; i < 20; i++) {
      await settle(h);
      const s = await sizes();
      steps.push(s);
      // Never more than 4 + 1 pods, never fewer than 4 available.
      const all = (await pods().list()).items;
      expect(all.length).toBeLessThanOrEqual(5);
      expect(all.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length).toBeGreaterThanOrEqual(4);
      if (s[0] === 0 && s[1] === 4 && (await deployments().get('web')).status?.availableReplicas === 4) break;
      await makePodsReady(h, 'default', (p) => p.metadata.labels?.['pod-template-hash'] !== oldHash);
    }
    expect(steps).toEqual([
      [4, 1],
      [3, 2],
      [2, 3],
      [1, 4],
      [0, 4],
    ]);
    const d = await deployments().get('web');
    expect(d.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    expect(u.getCondition(d.status, 'Progressing')?.reason).toBe('NewReplicaSetAvailable');
    const rs = await rsByName();
    const newName = [...rs.keys()].find((n) => !n.endsWith(oldHash!))!;
    expect(h.recorder.lines((e) => e.kind === 'Deployment').slice(1)).toEqual([
      `ScalingReplicaSet: Scaled up replica set ${newName} to 1`,
      `ScalingReplicaSet: Scaled down replica set web-${oldHash} to 3 from 4`,
      `ScalingReplicaSet: Scaled up replica set ${newName} to 2 from 1`,
      `ScalingReplicaSet: Scaled down replica set web-${oldHash} to 2 from 3`,
      `ScalingReplicaSet: Scaled up replica set ${newName} to 3 from 2`,
      `ScalingReplicaSet: Scaled down replica set web-${oldHash} to 1 from 2`,
      `ScalingReplicaSet: Scaled up replica set ${newName} to 4 from 3`,
      `ScalingReplicaSet: Scaled down replica set web-${oldHash} to 0 from 1`,
    ]);
  });

  test('an old replica set whose status still counts the pods it is deleting is not scaled down past maxUnavailable', async () => {
    // The deployment controller alone: the test plays the replica set controller, late.
    h = newHarness();
    await h.run(new DeploymentController({ client: h.client, informers: h.factory, recorder: h.recorder, clock: h.clock }));
    await deployments().create(deployment('web', 4, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } }));
    await eventually(async () => (await replicaSets().list()).items.length === 1, 'the first replica set');
    const setStatus = async (name: string, replicas: number, available: number) => {
      const rs = await replicaSets().get(name);
      await replicaSets().updateStatus({ ...rs, status: { replicas, fullyLabeledReplicas: replicas, readyReplicas: available, availableReplicas: available, observedGeneration: rs.metadata.generation } });
    };
    const oldName = (await replicaSets().list()).items[0]!.metadata.name!;
    await setStatus(oldName, 4, 4);
    await settle(h);

    // The rollout starts: 4 old + 1 new, then old 3 (one may be unavailable), new 2.
    await setImage('web', 'nginx:2');
    await eventually(async () => (await sizes()).join() === '3,2', 'old 3, new 2');
    await settle(h);
    const newName = (await replicaSets().list()).items.find((rs) => rs.metadata.name !== oldName)!.metadata.name!;
    // Both new pods become available while the old replica set has not yet deleted its fourth
    // pod: its status still says 4 available, of which its spec keeps 3.
    await setStatus(newName, 2, 2);
    await eventually(async () => (await sizes()).join() === '1,4', 'old 1, new 4');
    await settle(h);
    // 1 old + 2 new pods stay available: replicas 4 - maxUnavailable 1. Counting the old
    // replica set's 4 would have scaled it to 0, leaving 2.
    expect(await sizes()).toEqual([1, 4]);
    expect(h.recorder.lines((e) => e.kind === 'Deployment').filter((l) => l.includes(`down replica set ${oldName}`))).toEqual([
      `ScalingReplicaSet: Scaled down replica set ${oldName} to 3 from 4`,
      `ScalingReplicaSet: Scaled down replica set ${oldName} to 1 from 3`,
    ]);
  });

  test('Recreate scales the old replica set to zero and waits for its pods to go before creating the new one', async () => {
    await start();
    await deployments().create(deployment('web', 2, { strategy: { type: 'Recreate' } }));
    await eventually(async () => (await pods().list()).items.length === 2, '2 pods');
    await makePodsReady(h, 'default');
    await settle(h);
    // Old pods linger (a finalizer holds them, as a slow kubelet would).
    for (const p of (await pods().list()).items) await pods().patch(p.metadata.name!, 'merge', { metadata: { finalizers: ['test/hold'] } });
    await setImage('web', 'nginx:2');
    await eventually(async () => (await sizes())[0] === 0, 'old scaled to 0');
    await settle(h);
    expect((await replicaSets().list()).items.length).toBe(1); // no new replica set while old pods exist
    for (const p of (await pods().list()).items) await pods().patch(p.metadata.name!, 'merge', { metadata: { finalizers: null } });
    await eventually(async () => (await sizes()).join() === '0,2', 'new replica set at 2');
    const lines = h.recorder.lines((e) => e.kind === 'Deployment');
    expect(lines[1]).toMatch(/^ScalingReplicaSet: Scaled down replica set web-\w+ to 0 from 2$/);
    expect(lines[2]).toMatch(/^ScalingReplicaSet: Scaled up replica set web-\w+ to 2$/);
  });

  test('a template going back to an older one reuses its replica set with the next revision (rollback)', async () => {
    await start();
    await deployments().create(deployment('web', 1));
    await eventually(async () => (await replicaSets().list()).items.length === 1, 'rs 1');
    await makePodsReady(h, 'default');
    await settle(h);
    const first = (await replicaSets().list()).items[0]!.metadata.name!;
    await setImage('web', 'nginx:2');
    await eventually(async () => (await replicaSets().list()).items.length === 2, 'rs 2');
    await makePodsReady(h, 'default');
    await settle(h);
    await makePodsReady(h, 'default');
    await settle(h);
    await setImage('web', 'nginx:1');
    await eventually(async () => (await replicaSets().get(first)).metadata.annotations?.['deployment.kubernetes.io/revision'] === '3', 'revision 3');
    const rs = await replicaSets().get(first);
    expect(rs.metadata.annotations?.['deployment.kubernetes.io/revision-history']).toBe('1');
    await eventually(async () => (await deployments().get('web')).metadata.annotations?.['deployment.kubernetes.io/revision'] === '3', 'deployment revision 3');
    expect((await replicaSets().list()).items.length).toBe(2);
  });

  test('keeps revisionHistoryLimit old replica sets, deleting the oldest drained ones', async () => {
    await start();
    await deployments().create(deployment('web', 1, { revisionHistoryLimit: 1 }));
    for (const image of ['nginx:2', 'nginx:3', 'nginx:4']) {
      await eventually(async () => (await pods().list()).items.length >= 1, 'pod');
      await makePodsReady(h, 'default');
      await settle(h);
      await makePodsReady(h, 'default');
      await settle(h);
      await setImage('web', image);
    }
    await makePodsReady(h, 'default');
    await settle(h);
    await makePodsReady(h, 'default');
    await eventually(async () => (await replicaSets().list()).items.length === 2, '1 old + new');
    const revs = (await replicaSets().list()).items.map((rs) => rs.metadata.annotations?.['deployment.kubernetes.io/revision']).sort();
    expect(revs).toEqual(['3', '4']);
  });

  test('a paused deployment does not roll out; resuming it does, with the paused and resumed conditions', async () => {
    await start();
    await deployments().create(deployment('web', 2));
    await eventually(async () => (await pods().list()).items.length === 2, 'pods');
    await makePodsReady(h, 'default');
    await settle(h);
    await deployments().patch('web', 'merge', { spec: { paused: true } });
    await setImage('web', 'nginx:2');
    await eventually(async () => u.getCondition((await deployments().get('web')).status, 'Progressing')?.reason === 'DeploymentPaused', 'paused condition');
    await settle(h);
    expect((await replicaSets().list()).items.length).toBe(1);
    expect(u.getCondition((await deployments().get('web')).status, 'Progressing')).toMatchObject({ status: 'Unknown', message: 'Deployment is paused' });
    // Scaling still works while paused.
    await deployments().patch('web', 'merge', { spec: { replicas: 3 } });
    await eventually(async () => (await sizes()).join() === '3', 'scaled while paused');
    await deployments().patch('web', 'merge', { spec: { paused: false } });
    await eventually(async () => (await replicaSets().list()).items.length === 2, 'rollout after resume');
    const events = h.recorder.lines((e) => e.kind === 'Deployment');
    expect(events).toContain(`ScalingReplicaSet: Scaled up replica set ${(await replicaSets().list()).items.sort(u.byRevision)[0]!.metadata.name} to 3 from 2`);
  });

  test('reports ProgressDeadlineExceeded when the new pods never become available in time', async () => {
    await start();
    await deployments().create(deployment('web', 1, { progressDeadlineSeconds: 60 }));
    await eventually(async () => (await pods().list()).items.length === 1, 'pod');
    await settle(h);
    expect(u.getCondition((await deployments().get('web')).status, 'Progressing')?.status).toBe('True');
    await h.clock.advance(62_000);
    await eventually(async () => u.getCondition((await deployments().get('web')).status, 'Progressing')?.reason === 'ProgressDeadlineExceeded', 'timed out');
    const c = u.getCondition((await deployments().get('web')).status, 'Progressing')!;
    expect(c.status).toBe('False');
    expect(c.message).toMatch(/^ReplicaSet "web-\w+" has timed out progressing\.$/);
  });

  test('scaling mid-rollout spreads the new replicas over the replica sets in proportion', async () => {
    await start();
    await deployments().create(deployment('web', 10, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } } }));
    await eventually(async () => (await pods().list()).items.length === 10, '10 pods');
    await makePodsReady(h, 'default');
    await settle(h);
    await setImage('web', 'nginx:broken'); // its pods never become ready
    // 10 + 3 surge: 8 old (2 unavailable allowed) and 5 new that never become ready.
    await eventually(async () => (await sizes()).join() === '8,5', 'rollout stuck at 8 old + 5 new');
    await deployments().patch('web', 'merge', { spec: { replicas: 15 } });
    // 15 + 3 surge = 18 allowed, 5 more: the old set gets round(8*18/13)-8 = 3, the new one
    // round(5*18/13)-5 = 2 (the documentation's example).
    await eventually(async () => (await sizes()).join() === '11,7', 'proportional scale-up');
    const lines = h.recorder.lines((e) => e.kind === 'Deployment');
    expect(lines.slice(-2).map((l) => l.replace(/web-\w+/, 'web-X'))).toEqual(['ScalingReplicaSet: Scaled up replica set web-X to 11 from 8', 'ScalingReplicaSet: Scaled up replica set web-X to 7 from 5']);
  });

  test('a deployment that selects everything is refused with an event', async () => {
    await start();
    const d = deployment('all', 1);
    d.spec!.selector = {};
    await deployments().create(d);
    await eventually(() => h.recorder.events.some((e) => e.reason === 'SelectingAll'), 'SelectingAll');
    expect(h.recorder.lines((e) => e.reason === 'SelectingAll')[0]).toBe('SelectingAll: This deployment is selecting all pods. A non-empty selector is required.');
    expect((await replicaSets().list()).items).toEqual([]);
  });
});

describe('rollout arithmetic', () => {
  test.each([
    // surge, unavailable, desired → surge count, unavailable count
    ['25%', '25%', 10, 3, 2],
    ['25%', '25%', 1, 1, 0],
    [0, 0, 5, 0, 1],
    [1, 0, 4, 1, 0],
    ['50%', '10%', 3, 2, 0],
  ] as const)('fenceposts of surge %s / unavailable %s for %d replicas', (s, un, desired, surge, unavailable) => {
    expect(u.resolveFenceposts(s, un, desired)).toEqual({ surge, unavailable });
  });

  test('the new replica set grows by what the surge leaves, never past desired', () => {
    const d = deployment('web', 4, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } });
    const rs = (n: number): ReplicaSet => ({ metadata: { name: `rs${n}` }, spec: { replicas: n, selector: {} } });
    expect(u.newRSNewReplicas(d, [rs(4), rs(0)], rs(0))).toBe(1);
    const newRS = rs(2);
    expect(u.newRSNewReplicas(d, [rs(3), newRS], newRS)).toBe(2); // 5 already: no room
    expect(u.newRSNewReplicas(d, [rs(1), rs(3)], rs(3))).toBe(4);
    expect(u.newRSNewReplicas(deployment('web', 4, { strategy: { type: 'Recreate' } }), [rs(0)], rs(0))).toBe(4);
  });

  test('a replica set that becomes new again records its earlier revisions', () => {
    const d = deployment('web', 1);
    const rs: ReplicaSet = { metadata: { name: 'web-a', annotations: { [u.revisionAnnotation]: '1' } }, spec: { selector: {} } };
    expect(u.setNewReplicaSetAnnotations(d, rs, 3, true)).toBe(true);
    expect(rs.metadata.annotations).toMatchObject({ [u.revisionAnnotation]: '3', [u.revisionHistoryAnnotation]: '1' });
    u.setNewReplicaSetAnnotations(d, rs, 5, true);
    expect(rs.metadata.annotations![u.revisionHistoryAnnotation]).toBe('1,3');
    // Never lowered.
    expect(u.setNewReplicaSetAnnotations(d, rs, 2, true)).toBe(false);
  });

  test('change-cause and other annotations are copied to the replica set, the controller’s own are not', () => {
    const d = deployment('web', 1);
    d.metadata.annotations = { 'kubernetes.io/change-cause': 'kubectl set image', [u.revisionAnnotation]: '7', [u.lastAppliedAnnotation]: '{}' };
    const rs: ReplicaSet = { metadata: { name: 'web-a' }, spec: { selector: {} } };
    u.setNewReplicaSetAnnotations(d, rs, 1, false);
    expect(rs.metadata.annotations).toEqual({ 'kubernetes.io/change-cause': 'kubectl set image', [u.revisionAnnotation]: '1', [u.desiredReplicasAnnotation]: '1', [u.maxReplicasAnnotation]: '2' });
  });

  test('templates that differ only by the pod-template-hash label are equal', () => {
    const t = (labels: Record<string, string>, image = 'a') => ({ metadata: { labels }, spec: { containers: [{ name: 'c', image }] } });
    expect(u.equalIgnoreHash(t({ app: 'x', 'pod-template-hash': 'abc' }), t({ app: 'x' }))).toBe(true);
    expect(u.equalIgnoreHash(t({ app: 'x' }), t({ app: 'x' }, 'b'))).toBe(false);
  });
});

