import { describe, expect, test } from 'vitest';
import type { PersistentVolumeClaim, Pod } from '../../api/index.js';
import { Resources } from '../../client/index.js';
import { eventually, fakeEnvPerTest, makePod } from '../../../test/support/controllers.js';
import { FakeRecorder } from '../replicaset/testing.js';
import { EphemeralVolumeController } from './ephemeral-controller.js';

const envs = fakeEnvPerTest();

function podWithScratch(name: string): Pod {
  const p = makePod(name);
  p.spec!.volumes = [
    {
      name: 'scratch',
      ephemeral: { volumeClaimTemplate: { metadata: { labels: { type: 'scratch' }, annotations: { note: 'x' } }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'local', resources: { requests: { storage: '1Gi' } } } } },
    },
    { name: 'tmp', emptyDir: {} },
  ];
  return p;
}

describe('EphemeralVolumeController', () => {
  async function start() {
    const env = envs.start();
    const recorder = new FakeRecorder();
    const c = new EphemeralVolumeController({ client: env.client, informers: env.informers, recorder });
    await env.startInformers();
    envs.run(c.start(env.signal));
    return { e: env, recorder };
  }

  test('a pod with an ephemeral volume gets the claim <pod>-<volume> from its template, owned by the pod; deleted by hand, it comes back', async () => {
    const { e } = await start();
    const pod = await e.client.resource(Resources.pods, 'default').create(podWithScratch('app'));
    const pvcs = e.client.resource(Resources.persistentVolumeClaims, 'default');
    const claim = await eventually(async () => (await pvcs.list()).items.find((c) => c.metadata.name === 'app-scratch'));
    expect(claim.metadata).toMatchObject({ labels: { type: 'scratch' }, annotations: { note: 'x' }, ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'app', uid: pod.metadata.uid, controller: true, blockOwnerDeletion: true }] });
    expect(claim.spec).toMatchObject({ storageClassName: 'local', resources: { requests: { storage: '1Gi' } } });
    expect((await pvcs.list()).items).toHaveLength(1);
    await pvcs.delete('app-scratch');
    await eventually(async () => (await pvcs.list()).items.some((c) => c.metadata.name === 'app-scratch' && c.metadata.uid !== claim.metadata.uid));
  });

  test('a claim of that name the pod does not own is left alone, and the pod is told', async () => {
    const { e, recorder } = await start();
    const pvcs = e.client.resource(Resources.persistentVolumeClaims, 'default');
    const stranger: PersistentVolumeClaim = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'app-scratch', namespace: 'default' }, spec: { resources: { requests: { storage: '5Gi' } } } };
    await pvcs.create(stranger);
    await e.client.resource(Resources.pods, 'default').create(podWithScratch('app'));
    await eventually(() => recorder.lines().includes('FailedBinding: ephemeral volume scratch: PVC default/app-scratch was not created for pod default/app (pod is not owner)'));
    expect((await pvcs.get('app-scratch')).spec?.resources?.requests?.storage).toBe('5Gi');
  });
});
