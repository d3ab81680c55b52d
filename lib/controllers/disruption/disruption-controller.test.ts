import { afterEach, describe, expect, test } from 'vitest';
import type { KubeObject, Pod, PodDisruptionBudget } from '../../api/index.js';
import { rfc3339 } from '../../base/index.js';
import { Resources } from '../../client/index.js';
import { eventually, newHarness, settle, type Harness } from '../replicaset/testing.js';
import { DisruptionController } from './disruption-controller.js';

let h: Harness;
afterEach(async () => {
  await h?.stop();
});

const pdbs = () => h.client.resource(Resources.podDisruptionBudgets, 'default');
const pods = () => h.client.resource(Resources.pods, 'default');

async function start(): Promise<void> {
  h = newHarness();
  await h.run(new DisruptionController({ client: h.client, informers: h.factory, recorder: h.recorder, clock: h.clock }));
}

const ref = (o: KubeObject, apiVersion: string, kind: string) => [{ apiVersion, kind, name: o.metadata.name!, uid: o.metadata.uid!, controller: true }];

async function pod(name: string, owner: { apiVersion: string; kind: string; obj: KubeObject } | undefined, ready = true): Promise<Pod> {
  const p = await pods().create({
    metadata: { name, namespace: 'default', labels: { app: 'web' }, ownerReferences: owner ? ref(owner.obj, owner.apiVersion, owner.kind) : undefined },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x' }] },
  });
  return pods().updateStatus({ ...p, status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: rfc3339(h.clock.now()) }] } });
}

async function deploymentWithPods(replicas: number, podCount: number, readyCount = podCount) {
  const d = await h.client.resource(Resources.deployments, 'default').create({ metadata: { name: 'web', namespace: 'default' }, spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [] } } } });
  const rs = await h.client.resource(Resources.replicaSets, 'default').create({
    metadata: { name: 'web-abc', namespace: 'default', ownerReferences: ref(d, 'apps/v1', 'Deployment') },
    spec: { replicas, selector: { matchLabels: { app: 'web' } } },
  });
  for (let i = 0; i < podCount; i++) await pod(`web-abc-${i}`, { apiVersion: 'apps/v1', kind: 'ReplicaSet', obj: rs }, i < readyCount);
}

function budget(spec: NonNullable<PodDisruptionBudget['spec']>): PodDisruptionBudget {
  return { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web-pdb', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec } };
}

const status = async () => (await pdbs().get('web-pdb')).status;

describe('disruption controller', () => {
  test.each([
    ['minAvailable 2 of 3 ready pods', { minAvailable: 2 }, 3, 3, 3, { expectedPods: 3, desiredHealthy: 2, currentHealthy: 3, disruptionsAllowed: 1 }],
    ['minAvailable 3 of 3: none to spare', { minAvailable: 3 }, 3, 3, 3, { expectedPods: 3, desiredHealthy: 3, currentHealthy: 3, disruptionsAllowed: 0 }],
    ['minAvailable counts ready pods only', { minAvailable: 2 }, 3, 3, 1, { expectedPods: 3, desiredHealthy: 2, currentHealthy: 1, disruptionsAllowed: 0 }],
    // Percentages and maxUnavailable use the deployment's replicas, not the pods found.
    ['maxUnavailable 1 of a 4-replica deployment with 3 pods', { maxUnavailable: 1 }, 4, 3, 3, { expectedPods: 4, desiredHealthy: 3, currentHealthy: 3, disruptionsAllowed: 0 }],
    ['maxUnavailable 50% (rounded up)', { maxUnavailable: '50%' }, 5, 5, 5, { expectedPods: 5, desiredHealthy: 2, currentHealthy: 5, disruptionsAllowed: 3 }],
    ['minAvailable 50% (rounded up)', { minAvailable: '50%' }, 5, 5, 4, { expectedPods: 5, desiredHealthy: 3, currentHealthy: 4, disruptionsAllowed: 1 }],
  ] as const)('%s', async (_what, spec, replicas, podCount, ready, want) => {
    await start();
    await deploymentWithPods(replicas, podCount, ready);
    await pdbs().create(budget(spec as NonNullable<PodDisruptionBudget['spec']>));
    await eventually(async () => (await status())?.observedGeneration === 1, 'status');
    const st = (await status())!;
    expect(st).toMatchObject(want);
    expect(st.conditions).toEqual([
      expect.objectContaining({ type: 'DisruptionAllowed', status: want.disruptionsAllowed > 0 ? 'True' : 'False', reason: want.disruptionsAllowed > 0 ? 'SufficientPods' : 'InsufficientPods', observedGeneration: 1 }),
    ]);
  });

  test('follows pods becoming ready and going away', async () => {
    await start();
    await deploymentWithPods(3, 3, 2);
    await pdbs().create(budget({ minAvailable: 2 }));
    await eventually(async () => (await status())?.currentHealthy === 2, 'healthy 2');
    expect((await status())!.disruptionsAllowed).toBe(0);
    const p = await pods().get('web-abc-2');
    await pods().updateStatus({ ...p, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
    await eventually(async () => (await status())?.disruptionsAllowed === 1, 'allowed 1');
    await pods().delete('web-abc-0');
    await eventually(async () => (await status())?.disruptionsAllowed === 0, 'allowed 0 again');
  });

  test('a pod just evicted counts as unhealthy for two minutes unless seen going', async () => {
    await start();
    await deploymentWithPods(3, 3);
    await pdbs().create(budget({ minAvailable: 1 }));
    await eventually(async () => (await status())?.disruptionsAllowed === 2, 'allowed 2');
    // What the eviction subresource writes before deleting the pod.
    const cur = await pdbs().get('web-pdb');
    await pdbs().updateStatus({ ...cur, status: { ...cur.status!, disruptionsAllowed: 1, disruptedPods: { 'web-abc-0': rfc3339(h.clock.now()) } } });
    await settle(h);
    expect(await status()).toMatchObject({ currentHealthy: 2, disruptionsAllowed: 1, disruptedPods: { 'web-abc-0': rfc3339(h.clock.now()) } });
    // The pod was never deleted: after two minutes it counts again, and the budget says so.
    await h.clock.advance(121_000);
    await eventually(async () => (await status())?.currentHealthy === 3, 'healthy again');
    expect((await status())!.disruptedPods).toBeUndefined();
    expect(h.recorder.lines((e) => e.reason === 'NotDeleted')[0]).toBe("NotDeleted: Pod was expected by PDB default/web-pdb to be deleted but it wasn't");
  });

  test('no pods: nothing may be disrupted, and an event says so', async () => {
    await start();
    await pdbs().create(budget({ maxUnavailable: 1 }));
    await eventually(async () => (await status())?.observedGeneration === 1, 'status');
    expect(await status()).toMatchObject({ expectedPods: 0, currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0 });
    expect(h.recorder.lines()).toContain('NoPods: No matching pods found');
  });

  test('percentages over pods without a scalable controller fail safe with SyncFailed', async () => {
    await start();
    const job = await h.client.resource(Resources.jobs, 'default').create({ metadata: { name: 'batch', namespace: 'default' }, spec: { template: { spec: { containers: [] } } } });
    await pod('batch-x', { apiVersion: 'batch/v1', kind: 'Job', obj: job });
    await pdbs().create(budget({ maxUnavailable: '10%' }));
    await eventually(async () => (await status())?.conditions?.[0]?.reason === 'SyncFailed', 'sync failed');
    expect((await status())!.conditions![0]).toMatchObject({ status: 'False', message: 'jobs.batch does not implement the scale subresource' });
    expect((await status())!.disruptionsAllowed).toBe(0);
  });

  test('bare pods with a percentage are reported as unmanaged', async () => {
    await start();
    await pod('lonely', undefined);
    await pdbs().create(budget({ maxUnavailable: '50%' }));
    await eventually(() => h.recorder.events.some((e) => e.reason === 'UnmanagedPods'), 'event');
    expect(h.recorder.lines((e) => e.reason === 'UnmanagedPods')[0]).toContain('Pods selected by this PodDisruptionBudget (selector: app=web) were found to be unmanaged.');
  });
});
