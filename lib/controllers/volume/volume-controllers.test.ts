import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from '../../api/index.js';
import { Resources } from '../../client/index.js';
import { eventually, fakeEnv, makePod, type FakeEnv } from '../../../test/support/controllers.js';
import { FakeRecorder } from '../replicaset/testing.js';
import { findMatchingVolume, volumeMismatch } from './binding.js';
import { PersistentVolumeController } from './pv-controller.js';
import { PVCProtectionController, PVProtectionController } from './protection.js';

let env: FakeEnv | undefined;
const running: Promise<void>[] = [];
/** Folders a test made or had provisioned on this machine: removed whatever the outcome. */
const madeDirs: string[] = [];
afterEach(async () => {
  await env?.stop();
  await Promise.all(running.splice(0));
  env = undefined;
  for (const d of madeDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  // The provisioner's parent folder, if a test left it empty.
  try {
    fs.rmdirSync('/tmp/hostpath_pv');
  } catch {
    // not empty (a real cluster's volumes) or absent
  }
});

function pv(name: string, size: string, o: { modes?: string[]; cls?: string; labels?: Record<string, string>; phase?: string; claimRef?: NonNullable<PersistentVolume['spec']>['claimRef']; path?: string; policy?: 'Retain' | 'Delete' | 'Recycle'; local?: boolean } = {}): PersistentVolume {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, ...(o.labels ? { labels: o.labels } : {}) },
    spec: {
      capacity: { storage: size },
      accessModes: (o.modes ?? ['ReadWriteOnce']) as never,
      ...(o.local ? { local: { path: o.path ?? '/mnt/disk' } } : { hostPath: { path: o.path ?? `/tmp/tkube-pv-${name}` } }),
      ...(o.cls !== undefined ? { storageClassName: o.cls } : {}),
      ...(o.claimRef ? { claimRef: o.claimRef } : {}),
      persistentVolumeReclaimPolicy: o.policy ?? 'Retain',
    },
    ...(o.phase ? { status: { phase: o.phase as never } } : {}),
  };
}

function pvc(name: string, size: string, o: { modes?: string[]; cls?: string | null; selector?: Record<string, string>; volumeName?: string; uid?: string } = {}): PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: 'default', ...(o.uid ? { uid: o.uid } : {}) },
    spec: {
      accessModes: (o.modes ?? ['ReadWriteOnce']) as never,
      resources: { requests: { storage: size } },
      ...(o.cls !== undefined && o.cls !== null ? { storageClassName: o.cls } : {}),
      ...(o.selector ? { selector: { matchLabels: o.selector } } : {}),
      ...(o.volumeName ? { volumeName: o.volumeName } : {}),
    },
  };
}

describe('findMatchingVolume', () => {
  const available = (v: PersistentVolume) => ({ ...v, status: { phase: 'Available' as const } });

  test('the smallest volume that is big enough, of the same class, with the access modes asked for', () => {
    const vols = [
      available(pv('small', '500Mi', { cls: '' })),
      available(pv('big', '10Gi', { cls: '' })),
      available(pv('right', '2Gi', { cls: '' })),
      available(pv('other-class', '1Gi', { cls: 'fast' })),
      available(pv('rox', '1Gi', { cls: '', modes: ['ReadOnlyMany'] })),
    ];
    expect(findMatchingVolume(pvc('c', '1Gi', { cls: '' }), vols)?.metadata.name).toBe('right');
    expect(findMatchingVolume(pvc('c', '1Gi', { cls: 'fast' }), vols)?.metadata.name).toBe('other-class');
    expect(findMatchingVolume(pvc('c', '20Gi', { cls: '' }), vols)).toBeUndefined();
    expect(findMatchingVolume(pvc('c', '1Gi', { cls: '', modes: ['ReadWriteMany'] }), vols)).toBeUndefined();
  });

  test('selectors, volumes bound or reserved for others, and volumes not Available are passed over; a reservation for the claim wins', () => {
    const claim = { ...pvc('c', '1Gi', { cls: '', selector: { disk: 'ssd' } }), metadata: { name: 'c', namespace: 'default', uid: 'u1' } };
    const vols = [
      available(pv('hdd', '1Gi', { cls: '', labels: { disk: 'hdd' } })),
      available(pv('ssd-taken', '1Gi', { cls: '', labels: { disk: 'ssd' }, claimRef: { namespace: 'default', name: 'other' } })),
      pv('ssd-released', '1Gi', { cls: '', labels: { disk: 'ssd' }, phase: 'Released' }),
      available(pv('ssd', '5Gi', { cls: '', labels: { disk: 'ssd' } })),
    ];
    expect(findMatchingVolume(claim, vols)?.metadata.name).toBe('ssd');
    const reserved = available(pv('mine', '1Gi', { cls: 'any', claimRef: { namespace: 'default', name: 'c' } }));
    expect(findMatchingVolume(claim, [...vols, reserved])?.metadata.name).toBe('mine');
  });

  test('volumeMismatch names what does not fit, as upstream', () => {
    expect(volumeMismatch(pv('v', '1Gi', { cls: '' }), pvc('c', '2Gi', { cls: '' }))).toBe('requested PV is too small');
    expect(volumeMismatch(pv('v', '1Gi', { cls: 'a' }), pvc('c', '1Gi', { cls: 'b' }))).toBe('storageClassName does not match');
    expect(volumeMismatch(pv('v', '1Gi', { cls: '' }), pvc('c', '1Gi', { cls: '', modes: ['ReadWriteMany'] }))).toBe('incompatible accessMode');
    expect(volumeMismatch(pv('v', '1Gi', { cls: '' }), pvc('c', '1Gi', { cls: '' }))).toBeUndefined();
  });
});

describe('PersistentVolumeController', () => {
  async function start(enableHostPathProvisioner = false): Promise<{ e: FakeEnv; recorder: FakeRecorder }> {
    env = fakeEnv();
    const recorder = new FakeRecorder();
    const c = new PersistentVolumeController({ client: env.client, informers: env.informers, recorder, syncPeriodMs: 200, enableHostPathProvisioner });
    await env.startInformers();
    running.push(c.start(env.signal));
    return { e: env, recorder };
  }
  const pvs = (e: FakeEnv) => e.client.resource(Resources.persistentVolumes);
  const pvcs = (e: FakeEnv) => e.client.resource(Resources.persistentVolumeClaims, 'default');

  test('binds a claim to a matching volume: claimRef, volumeName, annotations, phases, capacity', async () => {
    const { e } = await start();
    await pvs(e).create(pv('vol', '2Gi', { cls: '' }));
    await eventually(async () => (await pvs(e).get('vol')).status?.phase === 'Available');
    const claim = await pvcs(e).create(pvc('data', '1Gi', { cls: '' }));
    const bound = await eventually(async () => {
      const c = await pvcs(e).get('data');
      return c.status?.phase === 'Bound' && c;
    });
    expect(bound.spec?.volumeName).toBe('vol');
    expect(bound.metadata.annotations).toMatchObject({ 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' });
    expect(bound.status).toMatchObject({ phase: 'Bound', capacity: { storage: '2Gi' }, accessModes: ['ReadWriteOnce'] });
    const vol = await eventually(async () => {
      const v = await pvs(e).get('vol');
      return v.status?.phase === 'Bound' && v;
    });
    expect(vol.spec?.claimRef).toMatchObject({ kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data', uid: claim.metadata.uid });
    expect(vol.metadata.annotations?.['pv.kubernetes.io/bound-by-controller']).toBe('yes');
  });

  test('no volume: the claim stays Pending with an event saying why', async () => {
    const { e, recorder } = await start();
    await pvcs(e).create(pvc('lonely', '1Gi', { cls: '' }));
    await pvcs(e).create(pvc('classy', '1Gi', { cls: 'gold' }));
    await e.client.resource(Resources.storageClasses).create({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'late' }, provisioner: 'example.com/nfs', volumeBindingMode: 'WaitForFirstConsumer' } as StorageClass);
    await pvcs(e).create(pvc('late', '1Gi', { cls: 'late' }));
    await eventually(async () => (await pvcs(e).get('lonely')).status?.phase === 'Pending');
    await eventually(() => recorder.lines().includes('FailedBinding: no persistent volumes available for this claim and no storage class is set'));
    await eventually(() => recorder.lines().includes('ProvisioningFailed: storageclass.storage.k8s.io "gold" not found'));
    await eventually(() => recorder.lines().includes('WaitForFirstConsumer: waiting for first consumer to be created before binding'));
  });

  test('a claim without a class gets the default StorageClass once one exists', async () => {
    const { e, recorder } = await start();
    await pvcs(e).create(pvc('c', '1Gi', { cls: null }));
    await e.client.resource(Resources.storageClasses).create({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'example.com/nfs',
    } as StorageClass);
    await eventually(async () => (await pvcs(e).get('c')).spec?.storageClassName === 'standard');
    await eventually(() => recorder.lines().some((l) => l.startsWith("ExternalProvisioning: Waiting for a volume to be created either by the external provisioner 'example.com/nfs'")));
  });

  test('claim deleted: a Retain volume is Released and kept; a Delete volume under /tmp is removed with its files; elsewhere it fails', async () => {
    const { e, recorder } = await start();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-pv-'));
    madeDirs.push(dir);
    fs.writeFileSync(path.join(dir, 'data'), 'x');
    await pvs(e).create(pv('keep', '1Gi', { cls: 'a' }));
    await pvs(e).create(pv('scratch', '1Gi', { cls: 'b', path: dir, policy: 'Delete' }));
    await pvs(e).create(pv('local', '1Gi', { cls: 'c', local: true, policy: 'Delete' }));
    for (const [n, cls] of [['c1', 'a'], ['c2', 'b'], ['c3', 'c']] as const) await pvcs(e).create(pvc(n, '1Gi', { cls }));
    await eventually(async () => (await pvs(e).list()).items.every((v) => v.status?.phase === 'Bound'));
    for (const n of ['c1', 'c2', 'c3']) await pvcs(e).delete(n);

    await eventually(async () => (await pvs(e).get('keep')).status?.phase === 'Released');
    await eventually(async () => !(await pvs(e).list()).items.some((v) => v.metadata.name === 'scratch'));
    expect(fs.existsSync(dir)).toBe(false);
    const failed = await eventually(async () => {
      const v = await pvs(e).get('local');
      return v.status?.phase === 'Failed' && v;
    });
    expect(failed.status?.message).toBe('error getting deleter volume plugin for volume "local": no deletable volume plugin matched');
    expect(recorder.lines()).toContain('VolumeFailedDelete: error getting deleter volume plugin for volume "local": no deletable volume plugin matched');

    // Released stays Released; removing the claimRef by hand makes it Available again.
    const keep = await pvs(e).get('keep');
    expect(keep.spec?.claimRef?.name).toBe('c1');
    const next = structuredClone(keep);
    delete next.spec!.claimRef;
    await pvs(e).update(next);
    await eventually(async () => (await pvs(e).get('keep')).status?.phase === 'Available');
  });

  test('with --enable-hostpath-provisioner, a claim of a kubernetes.io/host-path class gets a volume made for it, deleted with the claim', async () => {
    const { e, recorder } = await start(true);
    await e.client.resource(Resources.storageClasses).create({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'hostpath' }, provisioner: 'kubernetes.io/host-path' } as StorageClass);
    const claim = await pvcs(e).create(pvc('auto', '300Mi', { cls: 'hostpath' }));
    const bound = await eventually(async () => {
      const c = await pvcs(e).get('auto');
      return c.status?.phase === 'Bound' && c;
    });
    expect(bound.spec?.volumeName).toBe(`pvc-${claim.metadata.uid}`);
    expect(bound.metadata.annotations?.['volume.kubernetes.io/storage-provisioner']).toBe('kubernetes.io/host-path');
    const vol = await pvs(e).get(`pvc-${claim.metadata.uid}`);
    expect(vol.spec).toMatchObject({ capacity: { storage: '300Mi' }, persistentVolumeReclaimPolicy: 'Delete', storageClassName: 'hostpath', accessModes: ['ReadWriteOnce'] });
    expect(vol.metadata.annotations?.['pv.kubernetes.io/provisioned-by']).toBe('kubernetes.io/host-path');
    const dir = vol.spec!.hostPath!.path;
    madeDirs.push(dir);
    expect(dir).toMatch(/^\/tmp\/hostpath_pv\/[0-9a-f-]{36}$/);
    expect(fs.statSync(dir).isDirectory()).toBe(true);
    expect(recorder.lines()).toContain(`ProvisioningSucceeded: Successfully provisioned volume pvc-${claim.metadata.uid} using kubernetes.io/host-path`);
    await pvcs(e).delete('auto');
    await eventually(async () => !(await pvs(e).list()).items.length);
    expect(fs.existsSync(dir)).toBe(false);
  });

  test('without the flag, a kubernetes.io/host-path class says provisioning is disabled', async () => {
    const { e, recorder } = await start(false);
    await e.client.resource(Resources.storageClasses).create({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'hostpath' }, provisioner: 'kubernetes.io/host-path' } as StorageClass);
    await pvcs(e).create(pvc('auto', '300Mi', { cls: 'hostpath' }));
    await eventually(() => recorder.lines().includes('ProvisioningFailed: Failed to create provisioner: provisioning in volume plugin "kubernetes.io/host-path" is disabled'));
    expect((await pvs(e).list()).items).toEqual([]);
  });

  test('a claim naming its volume binds to it, or says why it cannot; a bound claim whose volume vanished is Lost', async () => {
    const { e, recorder } = await start();
    await pvs(e).create(pv('wanted', '5Gi', { cls: '' }));
    await pvs(e).create(pv('tiny', '1Mi', { cls: '' }));
    await pvcs(e).create(pvc('named', '1Gi', { cls: '', volumeName: 'wanted' }));
    await pvcs(e).create(pvc('greedy', '1Gi', { cls: '', volumeName: 'tiny' }));
    await eventually(async () => (await pvcs(e).get('named')).status?.phase === 'Bound');
    const named = await pvcs(e).get('named');
    // The user named the volume: the claim is not marked bound by the controller.
    expect(named.metadata.annotations?.['pv.kubernetes.io/bound-by-controller']).toBeUndefined();
    await eventually(() => recorder.lines().includes('VolumeMismatch: Cannot bind to requested volume "tiny": requested PV is too small'));
    expect((await pvcs(e).get('greedy')).status?.phase).toBe('Pending');

    const v = await pvs(e).get('wanted');
    await pvs(e).update({ ...v, metadata: { ...v.metadata, finalizers: [] } });
    await pvs(e).delete('wanted');
    await eventually(async () => (await pvcs(e).get('named')).status?.phase === 'Lost');
    expect(recorder.lines()).toContain('ClaimLost: Bound claim has lost reference to PersistentVolume. Data on the volume is lost!');
  });
});

describe('protection controllers', () => {
  test('a claim being deleted stays while a scheduled pod uses it, and goes with the pod', async () => {
    env = fakeEnv();
    const c = new PVCProtectionController({ client: env.client, informers: env.informers });
    await env.startInformers();
    running.push(c.start(env.signal));
    const pvcs = env.client.resource(Resources.persistentVolumeClaims, 'default');
    const pods = env.client.resource(Resources.pods, 'default');
    await pvcs.create({ ...pvc('data', '1Gi'), metadata: { name: 'data', namespace: 'default', finalizers: ['kubernetes.io/pvc-protection'] } });
    const user: Pod = makePod('user', { nodeName: 'n1' });
    user.spec!.volumes = [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }];
    await pods.create(user);
    await pvcs.delete('data');
    await new Promise((r) => setTimeout(r, 300));
    expect((await pvcs.get('data')).metadata.deletionTimestamp).toBeTruthy();
    await pods.delete('user');
    await eventually(async () => !(await pvcs.list()).items.length);
  });

  test('a volume being deleted stays while Bound', async () => {
    env = fakeEnv();
    const c = new PVProtectionController({ client: env.client, informers: env.informers });
    await env.startInformers();
    running.push(c.start(env.signal));
    const pvs = env.client.resource(Resources.persistentVolumes);
    const created = await pvs.create({ ...pv('v', '1Gi'), metadata: { name: 'v', finalizers: ['kubernetes.io/pv-protection'] } });
    const bound = await pvs.updateStatus({ ...created, status: { phase: 'Bound' } });
    await pvs.delete('v');
    await new Promise((r) => setTimeout(r, 300));
    expect((await pvs.get('v')).metadata.deletionTimestamp).toBeTruthy();
    await pvs.updateStatus({ ...(await pvs.get('v')), status: { ...bound.status, phase: 'Released' } });
    await eventually(async () => !(await pvs.list()).items.length);
  });
});
