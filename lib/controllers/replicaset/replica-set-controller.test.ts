import { afterEach, describe, expect, test } from 'vitest';
import type { Pod, ReplicaSet, ReplicationController } from '../../api/index.js';
import { rfc3339 } from '../../base/index.js';
import { Resources } from '../../client/index.js';
import { newForbidden } from '../../machinery/index.js';
import { ReplicaSetController, replicaSetKind, replicationControllerKind } from './replica-set-controller.js';
import { comparePodsForScaleDown } from './pod-util.js';
import { eventually, newHarness, settle, type Harness } from './testing.js';

let h: Harness;
afterEach(async () => {
  await h?.stop();
});

function rs(name: string, replicas: number, extra: Partial<NonNullable<ReplicaSet['spec']>> = {}): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      ...extra,
    },
  };
}

function pod(name: string, labels: Record<string, string>, extra: Partial<Pod> = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels }, spec: { containers: [{ name: 'c', image: 'busybox' }] }, ...extra };
}

function start(): ReplicaSetController<ReplicaSet> {
  h = newHarness();
  return new ReplicaSetController(replicaSetKind, { client: h.client, informers: h.factory, recorder: h.recorder, clock: h.clock, workers: 2 });
}

const pods = () => h.client.resource(Resources.pods, 'default');
const replicaSets = () => h.client.resource(Resources.replicaSets, 'default');

describe('ReplicaSet controller', () => {
  test('creates the missing pods from the template, owned by the replica set, and reports them in status', async () => {
    const ctl = start();
    const created = await replicaSets().create(rs('web', 3));
    await h.run(ctl);
    await eventually(async () => (await pods().list()).items.length === 3, '3 pods');
    await settle(h);
    const list = (await pods().list()).items;
    for (const p of list) {
      expect(p.metadata.generateName).toBe('web-');
      expect(p.metadata.labels).toEqual({ app: 'web' });
      expect(p.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: created.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    }
    expect(h.recorder.lines().sort()).toEqual(list.map((p) => `SuccessfulCreate: Created pod: ${p.metadata.name}`).sort());
    const after = await replicaSets().get('web');
    expect(after.status).toMatchObject({ replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 0, availableReplicas: 0, observedGeneration: 1 });
  });

  test('creates in slow-start batches and stops at the first failing batch, reporting ReplicaFailure', async () => {
    const ctl = start();
    let creates = 0;
    let failFrom = 4; // the 4th create fails: batches of 1 and 2 succeed, the batch of 4 fails
    h.client.prependReactor((a) => {
      if (a.verb === 'create' && a.resource === 'pods') {
        creates++;
        if (creates >= failFrom) throw newForbidden({ group: '', resource: 'pods' }, 'web-x', 'exceeded quota: pods');
      }
    });
    await replicaSets().create(rs('web', 10));
    await h.run(); // one sync, driven by the test
    await expect(ctl.sync('default/web')).rejects.toThrow(/exceeded quota/);
    // 1 + 2 + 4 attempted; the remaining 3 were never tried.
    expect(creates).toBe(7);
    expect(h.recorder.events.filter((e) => e.reason === 'FailedCreate').length).toBe(4);
    expect(h.recorder.events.filter((e) => e.reason === 'SuccessfulCreate').length).toBe(3);
    const cond = (await replicaSets().get('web')).status!.conditions![0]!;
    expect(cond).toMatchObject({ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate' });
    expect(cond.message).toContain('exceeded quota');
    // Quota freed: the running controller fills up and clears the condition.
    failFrom = Infinity;
    await h.run(ctl);
    await eventually(async () => (await pods().list()).items.length === 10, '10 pods');
    await eventually(async () => (await replicaSets().get('web')).status?.conditions === undefined, 'condition cleared');
  });

  test('scales down the least useful pods first: unscheduled, then pending, then not ready, then newest', async () => {
    const ctl = start();
    const ready = (since: string) => ({ phase: 'Running' as const, conditions: [{ type: 'Ready', status: 'True' as const, lastTransitionTime: since }] });
    const owner = await replicaSets().create(rs('web', 5));
    const ref = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true }];
    const mk = async (name: string, nodeName: string | undefined, status: Pod['status']) => {
      const p = await pods().create({ ...pod(name, { app: 'web' }), metadata: { name, namespace: 'default', labels: { app: 'web' }, ownerReferences: ref } });
      if (nodeName) await pods().update({ ...p, spec: { ...p.spec!, nodeName } });
      const cur = await pods().get(name);
      await pods().updateStatus({ ...cur, status });
    };
    await mk('old-ready', 'n1', ready('2025-01-01T00:00:00Z'));
    await mk('new-ready', 'n1', ready('2025-12-31T00:00:00Z'));
    await mk('not-ready', 'n1', { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] });
    await mk('pending', 'n1', { phase: 'Pending' });
    await mk('unscheduled', undefined, { phase: 'Pending' });
    await h.run(ctl);
    await settle(h);
    expect((await pods().list()).items.length).toBe(5);
    for (const [n, gone] of [
      [4, 'unscheduled'],
      [3, 'pending'],
      [2, 'not-ready'],
      [1, 'new-ready'],
    ] as const) {
      await replicaSets().patch('web', 'merge', { spec: { replicas: n } });
      await eventually(async () => (await pods().list()).items.length === n, `${n} pods`);
      expect((await pods().list()).items.map((p) => p.metadata.name)).not.toContain(gone);
    }
    expect((await pods().list()).items.map((p) => p.metadata.name)).toEqual(['old-ready']);
    expect(h.recorder.lines((e) => e.reason === 'SuccessfulDelete')).toEqual([
      'SuccessfulDelete: Deleted pod: unscheduled',
      'SuccessfulDelete: Deleted pod: pending',
      'SuccessfulDelete: Deleted pod: not-ready',
      'SuccessfulDelete: Deleted pod: new-ready',
    ]);
  });

  test('adopts a matching orphan instead of creating, and releases a pod whose labels stop matching', async () => {
    const ctl = start();
    await pods().create(pod('orphan', { app: 'web' }));
    await pods().create(pod('stranger', { app: 'other' }));
    const owner = await replicaSets().create(rs('web', 2));
    await h.run(ctl);
    await eventually(async () => (await pods().list({ labelSelector: 'app=web' })).items.length === 2, '2 pods');
    await settle(h);
    const orphan = await pods().get('orphan');
    expect(orphan.metadata.ownerReferences).toEqual([expect.objectContaining({ uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true })]);
    expect((await pods().get('stranger')).metadata.ownerReferences).toBeUndefined();
    expect(h.recorder.lines().filter((l) => l.startsWith('SuccessfulCreate')).length).toBe(1);

    // Relabelled: the replica set lets go of it and makes a replacement.
    await pods().patch('orphan', 'merge', { metadata: { labels: { app: 'debug' } } });
    await eventually(async () => (await pods().get('orphan')).metadata.ownerReferences?.length === 0 || !(await pods().get('orphan')).metadata.ownerReferences, 'released');
    await eventually(async () => (await pods().list({ labelSelector: 'app=web' })).items.length === 2, 'replacement');
  });

  test('two syncs of one replica set at once create the pods once', async () => {
    const ctl = start();
    await replicaSets().create(rs('web', 4));
    await h.run(); // caches only: the test drives the syncs
    await Promise.all([ctl.sync('default/web'), ctl.sync('default/web'), ctl.sync('default/web')]);
    await settle(h);
    expect((await pods().list()).items.length).toBe(4);
  });

  test('a pod watch that lags behind does not lead to a second round of creates', async () => {
    const ctl = start();
    let release!: () => void;
    const stalled = new Promise<void>((r) => (release = r));
    // The pod informer lists (nothing) and then its watch hangs: the cache shows no pods.
    h.client.prependReactor(async (a) => {
      if (a.verb === 'watch' && a.resource === 'pods') await stalled;
    });
    await replicaSets().create(rs('web', 3));
    await h.run(ctl);
    await eventually(() => h.client.actions.filter((a) => a.verb === 'create' && a.resource === 'pods').length === 3, '3 creates');
    // More syncs while the cache still shows no pods: each RS change enqueues it again.
    for (let i = 0; i < 5; i++) await replicaSets().patch('web', 'merge', { metadata: { annotations: { poke: String(i) } } });
    await settle(h);
    expect(h.client.actions.filter((a) => a.verb === 'create' && a.resource === 'pods').length).toBe(3);
    release();
    await eventually(async () => (await replicaSets().get('web')).status?.replicas === 3, 'status caught up');
    await settle(h);
    expect((await pods().list()).items.length).toBe(3);
  });

  test('availableReplicas waits for minReadySeconds, and the controller looks again when they pass', async () => {
    const ctl = start();
    await replicaSets().create(rs('web', 1, { minReadySeconds: 30 }));
    await h.run(ctl);
    await eventually(async () => (await pods().list()).items.length === 1, 'pod');
    const p = (await pods().list()).items[0]!;
    await pods().updateStatus({ ...p, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: rfc3339(h.clock.now()) }] } });
    await eventually(async () => (await replicaSets().get('web')).status?.readyReplicas === 1, 'ready');
    expect((await replicaSets().get('web')).status?.availableReplicas).toBe(0);
    await h.clock.advance(32_000);
    await eventually(async () => (await replicaSets().get('web')).status?.availableReplicas === 1, 'available');
  });
});

describe('ReplicationController', () => {
  test('is run by the same controller with its own kind, selector map and event source', async () => {
    h = newHarness();
    const ctl = new ReplicaSetController(replicationControllerKind, { client: h.client, informers: h.factory, recorder: h.recorder, clock: h.clock });
    const rcs = h.client.resource(Resources.replicationControllers, 'default');
    const rc: ReplicationController = {
      apiVersion: 'v1',
      kind: 'ReplicationController',
      metadata: { name: 'legacy', namespace: 'default' },
      spec: { replicas: 2, template: { metadata: { labels: { app: 'legacy' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    };
    await rcs.create(rc);
    await h.run(ctl);
    await eventually(async () => (await pods().list()).items.length === 2, '2 pods');
    await eventually(async () => (await rcs.get('legacy')).status?.replicas === 2, 'status');
    expect((await pods().list()).items[0]!.metadata.ownerReferences![0]).toMatchObject({ apiVersion: 'v1', kind: 'ReplicationController', name: 'legacy' });
  });
});

describe('scale-down order', () => {
  const now = Date.UTC(2026, 0, 1);
  const at = (s: number) => rfc3339(now - s * 1000);
  const p = (name: string, o: { node?: string; phase?: Pod['status'] extends infer S ? S extends { phase?: infer P } ? P : never : never; ready?: number; restarts?: number; created?: number; cost?: string }): Pod => ({
    metadata: { name, uid: name, creationTimestamp: at(o.created ?? 1000), annotations: o.cost ? { 'controller.kubernetes.io/pod-deletion-cost': o.cost } : undefined },
    spec: { nodeName: o.node, containers: [] },
    status: {
      phase: o.phase ?? 'Running',
      conditions: o.ready !== undefined ? [{ type: 'Ready', status: 'True', lastTransitionTime: at(o.ready) }] : [{ type: 'Ready', status: 'False' }],
      containerStatuses: [{ name: 'c', image: 'x', imageID: '', ready: true, restartCount: o.restarts ?? 0 }] as never,
    },
  });
  test.each([
    ['unscheduled before scheduled', p('a', { phase: 'Pending' }), p('b', { node: 'n', phase: 'Pending' }), 0, 0],
    ['pending before running', p('a', { node: 'n', phase: 'Pending' }), p('b', { node: 'n' }), 0, 0],
    ['not ready before ready', p('a', { node: 'n' }), p('b', { node: 'n', ready: 100 }), 0, 0],
    ['lower deletion cost first', p('a', { node: 'n', ready: 10, cost: '-5' }), p('b', { node: 'n', ready: 10 }), 0, 0],
    ['more pods of the deployment on its node first', p('a', { node: 'n', ready: 10 }), p('b', { node: 'm', ready: 10 }), 3, 1],
    ['recently ready before long ready', p('a', { node: 'n', ready: 10 }), p('b', { node: 'n', ready: 100_000 }), 0, 0],
    ['more restarts first', p('a', { node: 'n', restarts: 5 }), p('b', { node: 'n', restarts: 1 }), 0, 0],
    ['newer before older', p('a', { node: 'n', created: 10 }), p('b', { node: 'n', created: 100_000 }), 0, 0],
  ])('%s', (_what, a, b, ra, rb) => {
    expect(comparePodsForScaleDown(a, b, ra, rb, now)).toBeLessThan(0);
    expect(comparePodsForScaleDown(b, a, rb, ra, now)).toBeGreaterThan(0);
  });
});
