import { afterEach, describe, expect, test } from 'vitest';
import type { PersistentVolumeClaim, StatefulSet } from '../../api/index.js';
import { rfc3339 } from '../../base/index.js';
import { Resources, findDescriptor, type ResourceDescriptor } from '../../client/index.js';
import { eventually, newHarness, settle, type Harness } from '../replicaset/testing.js';
import { parentAndOrdinal } from './identity.js';
import { StatefulSetController } from './statefulset-controller.js';

let h: Harness;
afterEach(async () => {
  await h?.stop();
});

const pvcs = () => h.client.resource(findDescriptor('persistentvolumeclaims') as ResourceDescriptor<PersistentVolumeClaim>, 'default');
const pods = () => h.client.resource(Resources.pods, 'default');
const sets = () => h.client.resource(Resources.statefulSets, 'default');
const revisions = () => h.client.resource(Resources.controllerRevisions, 'default');

function statefulSet(replicas: number, spec: Partial<NonNullable<StatefulSet['spec']>> = {}): StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas,
      serviceName: 'nginx',
      selector: { matchLabels: { app: 'nginx' } },
      template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1' }] } },
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      revisionHistoryLimit: 10,
      ...spec,
    },
  };
}

async function start(): Promise<void> {
  h = newHarness();
  await h.run(new StatefulSetController({ client: h.client, informers: h.factory, recorder: h.recorder, clock: h.clock }));
}

const names = async () =>
  (await pods().list()).items
    .filter((p) => !p.metadata.deletionTimestamp)
    .map((p) => p.metadata.name!)
    .sort((a, b) => parentAndOrdinal(a).ordinal - parentAndOrdinal(b).ordinal);

async function ready(name: string): Promise<void> {
  const p = await pods().get(name);
  const bound = p.spec?.nodeName ? p : await pods().update({ ...p, spec: { ...p.spec!, nodeName: 'node-1' } });
  await pods().updateStatus({ ...bound, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: rfc3339(h.clock.now()) }] } });
}

describe('StatefulSet controller', () => {
  test('OrderedReady creates web-0, waits for it to be Running and Ready, then web-1, then web-2', async () => {
    await start();
    await sets().create(statefulSet(3));
    await eventually(async () => (await names()).join() === 'web-0', 'web-0');
    await settle(h);
    expect(await names()).toEqual(['web-0']); // web-1 waits for web-0
    const p = await pods().get('web-0');
    expect(p.spec).toMatchObject({ hostname: 'web-0', subdomain: 'nginx' });
    expect(p.metadata.labels).toMatchObject({ app: 'nginx', 'statefulset.kubernetes.io/pod-name': 'web-0', 'apps.kubernetes.io/pod-index': '0' });
    expect(p.metadata.ownerReferences![0]).toMatchObject({ kind: 'StatefulSet', name: 'web', controller: true, blockOwnerDeletion: true });
    // Running but not ready is not enough.
    await pods().updateStatus({ ...p, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] } });
    await settle(h);
    expect(await names()).toEqual(['web-0']);
    await ready('web-0');
    await eventually(async () => (await names()).join() === 'web-0,web-1', 'web-1');
    await settle(h);
    expect(await names()).toEqual(['web-0', 'web-1']);
    await ready('web-1');
    await eventually(async () => (await names()).join() === 'web-0,web-1,web-2', 'web-2');
    await ready('web-2');
    await eventually(async () => (await sets().get('web')).status?.readyReplicas === 3, 'status');
    const st = (await sets().get('web')).status!;
    const rev = (await revisions().list()).items[0]!;
    expect(st).toMatchObject({ replicas: 3, readyReplicas: 3, availableReplicas: 3, currentReplicas: 3, updatedReplicas: 3, currentRevision: rev.metadata.name, updateRevision: rev.metadata.name, observedGeneration: 1 });
    expect(p.metadata.labels!['controller-revision-hash']).toBe(rev.metadata.name);
    expect(h.recorder.lines()).toEqual([
      'SuccessfulCreate: create Pod web-0 in StatefulSet web successful',
      'SuccessfulCreate: create Pod web-1 in StatefulSet web successful',
      'SuccessfulCreate: create Pod web-2 in StatefulSet web successful',
    ]);
  });

  test('scales down from the highest ordinal, one pod at a time', async () => {
    await start();
    await sets().create(statefulSet(3, { podManagementPolicy: 'Parallel' }));
    await eventually(async () => (await names()).length === 3, '3 pods');
    for (const n of await names()) await ready(n);
    await settle(h);
    await sets().patch('web', 'merge', { spec: { replicas: 1, podManagementPolicy: 'OrderedReady' } });
    await eventually(async () => (await names()).join() === 'web-0', 'scaled down');
    expect(h.recorder.lines((e) => e.reason === 'SuccessfulDelete')).toEqual(['SuccessfulDelete: delete Pod web-2 in StatefulSet web successful', 'SuccessfulDelete: delete Pod web-1 in StatefulSet web successful']);
  });

  test('Parallel creates every pod at once', async () => {
    await start();
    await sets().create(statefulSet(3, { podManagementPolicy: 'Parallel' }));
    await eventually(async () => (await names()).length === 3, '3 pods');
    expect(await names()).toEqual(['web-0', 'web-1', 'web-2']);
  });

  test('makes a claim per pod from volumeClaimTemplates, named <claim>-<pod>, and mounts it', async () => {
    await start();
    await sets().create(
      statefulSet(2, {
        podManagementPolicy: 'Parallel',
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      }),
    );
    await eventually(async () => (await pvcs().list()).items.length === 2, 'claims');
    expect((await pvcs().list()).items.map((c) => c.metadata.name).sort()).toEqual(['data-web-0', 'data-web-1']);
    const claim = await pvcs().get('data-web-0');
    expect(claim.metadata.labels).toEqual({ app: 'nginx' });
    expect(claim.spec?.resources?.requests?.storage).toBe('1Gi');
    await eventually(async () => (await names()).length === 2, 'pods');
    const p = await pods().get('web-1');
    expect(p.spec!.volumes).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-1' } }]);
    expect(h.recorder.lines((e) => e.message.includes('Claim'))).toContain('SuccessfulCreate: create Claim data-web-0 Pod web-0 in StatefulSet web success');
  });

  test('a rolling update replaces pods from the highest ordinal down, honouring the partition', async () => {
    await start();
    await sets().create(statefulSet(3, { podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } }));
    await eventually(async () => (await names()).length === 3, '3 pods');
    for (const n of await names()) await ready(n);
    await settle(h);
    const rev1 = (await sets().get('web')).status!.updateRevision!;
    const set = await sets().get('web');
    set.spec!.template.spec!.containers[0]!.image = 'nginx:2';
    await sets().update(set);
    await eventually(async () => (await sets().get('web')).status?.updateRevision !== rev1, 'new update revision');
    const rev2 = (await sets().get('web')).status!.updateRevision!;
    const order: string[] = [];
    for (let i = 0; i < 10; i++) {
      await settle(h);
      const list = (await pods().list()).items;
      for (const p of list) {
        if (p.metadata.labels!['controller-revision-hash'] === rev2 && !order.includes(p.metadata.name!)) {
          order.push(p.metadata.name!);
          await ready(p.metadata.name!);
        }
      }
    }
    // web-0 is below the partition and keeps the old template.
    expect(order).toEqual(['web-2', 'web-1']);
    expect((await pods().get('web-0')).metadata.labels!['controller-revision-hash']).toBe(rev1);
    const st = (await sets().get('web')).status!;
    expect(st).toMatchObject({ currentRevision: rev1, updateRevision: rev2, updatedReplicas: 2, currentReplicas: 1 });
    // Partition 0 completes the update, and currentRevision follows.
    await sets().patch('web', 'merge', { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } });
    await eventually(async () => (await pods().list()).items.some((p) => p.metadata.name === 'web-0' && p.metadata.labels!['controller-revision-hash'] === rev2), 'web-0 updated');
    await ready('web-0');
    await eventually(async () => (await sets().get('web')).status?.currentRevision === rev2, 'update complete');
  });

  test('a failed pod is recreated under the same name', async () => {
    await start();
    await sets().create(statefulSet(1));
    await eventually(async () => (await names()).length === 1, 'pod');
    const p = await pods().get('web-0');
    await pods().updateStatus({ ...p, status: { phase: 'Failed' } });
    await eventually(async () => {
      const cur = await pods().get('web-0').catch(() => undefined);
      return !!cur && cur.metadata.uid !== p.metadata.uid;
    }, 'recreated');
    expect(h.recorder.lines((e) => e.reason === 'RecreatingFailedPod')).toEqual(['RecreatingFailedPod: StatefulSet default/web is recreating failed Pod web-0']);
  });

  test('going back to an old template reuses its revision with the next number', async () => {
    await start();
    await sets().create(statefulSet(1));
    await eventually(async () => (await revisions().list()).items.length === 1, 'revision 1');
    for (const image of ['nginx:2', 'nginx:1']) {
      const set = await sets().get('web');
      set.spec!.template.spec!.containers[0]!.image = image;
      await sets().update(set);
      await settle(h);
    }
    const revs = (await revisions().list()).items.sort((a, b) => a.revision - b.revision);
    expect(revs.length).toBe(2);
    expect(revs.map((r) => r.revision)).toEqual([2, 3]);
    expect(revs[1]!.metadata.name).toBe((await sets().get('web')).status?.updateRevision);
    expect(revs[1]!.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
  });
});

