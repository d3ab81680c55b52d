/** VolumeBinding (bound claims) and VolumeRestrictions. */
import { describe, expect, test } from 'vitest';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../../api/index.js';
import { clusterOf, filterResults, listerOf, makeNode, makePod, podInfo } from '../testing.js';
import { VolumeBinding } from './volume-binding.js';
import { VolumeRestrictions } from './volume-restrictions.js';

const pvc = (name: string, o: { volumeName?: string; storageClassName?: string; accessModes?: PersistentVolumeClaim['spec'] extends infer S ? S extends { accessModes?: infer A } ? A : never : never } = {}): PersistentVolumeClaim => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name, namespace: 'default' },
  spec: { accessModes: o.accessModes ?? ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...(o.volumeName ? { volumeName: o.volumeName } : {}), ...(o.storageClassName ? { storageClassName: o.storageClassName } : {}) },
});
const localPV = (name: string, node: string): PersistentVolume => ({
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  metadata: { name },
  spec: {
    capacity: { storage: '1Gi' },
    local: { path: '/mnt/disk' },
    nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
  },
});
const withClaim = (claim: string) => ({ volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim } }] });

describe('VolumeBinding', () => {
  const wffc: StorageClass = { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'local' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' };
  const listers = {
    persistentVolumeClaims: listerOf([pvc('bound', { volumeName: 'pv-a' }), pvc('pending'), pvc('late', { storageClassName: 'local' }), pvc('dangling', { volumeName: 'nope' })]),
    persistentVolumes: listerOf([localPV('pv-a', 'a')]),
    storageClasses: listerOf([wffc]),
  };
  const cluster = () => clusterOf([makeNode('a'), makeNode('b')], [], listers);
  test.each<[string, string, Record<string, string>]>([
    ['a bound local volume pins the pod to its node', 'bound', { a: 'ok', b: 'UnschedulableAndUnresolvable: node(s) had volume node affinity conflict' }],
    ['a missing claim fails every node', 'absent', { a: 'UnschedulableAndUnresolvable: persistentvolumeclaim "absent" not found', b: 'UnschedulableAndUnresolvable: persistentvolumeclaim "absent" not found' }],
    ['an unbound immediate claim waits', 'pending', { a: 'UnschedulableAndUnresolvable: pod has unbound immediate PersistentVolumeClaims', b: 'UnschedulableAndUnresolvable: pod has unbound immediate PersistentVolumeClaims' }],
    ['a claim bound to a volume that does not exist', 'dangling', { a: 'UnschedulableAndUnresolvable: node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)', b: expect.stringMatching(/non-existent/) as unknown as string }],
  ])('%s', (_n, claim, want) => {
    const c = cluster();
    expect(filterResults(new VolumeBinding(c), podInfo('p', withClaim(claim)), c)).toEqual(want);
  });
  test('a WaitForFirstConsumer claim passes on the nodes where an Available volume fits it, one volume per claim', () => {
    const local = (name: string, node: string, size = '1Gi'): PersistentVolume => ({ ...localPV(name, node), spec: { ...localPV(name, node).spec, storageClassName: 'local', accessModes: ['ReadWriteOnce'], capacity: { storage: size } }, status: { phase: 'Available' } });
    const claims = [pvc('late', { storageClassName: 'local' }), pvc('late2', { storageClassName: 'local' })];
    const withVolumes = (pvs: PersistentVolume[]) => clusterOf([makeNode('a'), makeNode('b')], [], { ...listers, persistentVolumeClaims: listerOf(claims), persistentVolumes: listerOf(pvs) });
    const conflict = "UnschedulableAndUnresolvable: node(s) didn't find available persistent volumes to bind";
    let c = withVolumes([local('small-a', 'a', '1Mi'), local('disk-b', 'b')]);
    expect(filterResults(new VolumeBinding(c), podInfo('p', withClaim('late')), c)).toEqual({ a: conflict, b: 'ok' });
    // Two claims need two volumes on the same node.
    const two = { volumes: [{ name: 'x', persistentVolumeClaim: { claimName: 'late' } }, { name: 'y', persistentVolumeClaim: { claimName: 'late2' } }] };
    expect(filterResults(new VolumeBinding(c), podInfo('p', two), c)).toEqual({ a: conflict, b: conflict });
    c = withVolumes([local('disk-b', 'b'), local('disk-b2', 'b')]);
    expect(filterResults(new VolumeBinding(c), podInfo('p', two), c)).toEqual({ a: conflict, b: 'ok' });
  });
  test('an ephemeral volume waits for its claim, which must be the pod\'s own', () => {
    const eph = { volumes: [{ name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: {} } } }] };
    let c = cluster();
    const waiting = 'UnschedulableAndUnresolvable: waiting for ephemeral volume controller to create the persistentvolumeclaim "p-scratch"';
    expect(filterResults(new VolumeBinding(c), podInfo('p', eph as never), c)).toEqual({ a: waiting, b: waiting });
    c = clusterOf([makeNode('a'), makeNode('b')], [], { ...listers, persistentVolumeClaims: listerOf([pvc('p-scratch', { volumeName: 'pv-a' })]) });
    const foreign = 'UnschedulableAndUnresolvable: PVC default/p-scratch was not created for pod default/p (pod is not owner)';
    expect(filterResults(new VolumeBinding(c), podInfo('p', eph as never), c)).toEqual({ a: foreign, b: foreign });
  });

  test('pods without claims are not checked', () => {
    const c = cluster();
    expect(filterResults(new VolumeBinding(c), podInfo('p'), c)).toEqual({ a: 'ok', b: 'ok' });
  });
});

describe('VolumeRestrictions', () => {
  test('a ReadWriteOncePod claim in use by another pod blocks every node', () => {
    const listers = { persistentVolumeClaims: listerOf([pvc('solo', { volumeName: 'v', accessModes: ['ReadWriteOncePod'] }), pvc('shared', { volumeName: 'w' })]) };
    const c = clusterOf([makeNode('a'), makeNode('b')], [makePod('user', { nodeName: 'a', ...withClaim('solo') }), makePod('user2', { nodeName: 'a', ...withClaim('shared') })], listers);
    const conflict = 'Unschedulable: node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode';
    expect(filterResults(new VolumeRestrictions(c), podInfo('p', withClaim('solo')), c)).toEqual({ a: conflict, b: conflict });
    expect(filterResults(new VolumeRestrictions(c), podInfo('p', withClaim('shared')), c)).toEqual({ a: 'ok', b: 'ok' });
  });
  test('the same disk cannot be mounted read-write twice on a node', () => {
    const disk = (readOnly: boolean) => ({ volumes: [{ name: 'd', gcePersistentDisk: { pdName: 'disk-1', readOnly } }] });
    const c = clusterOf([makeNode('a'), makeNode('b')], [makePod('user', { nodeName: 'a', ...disk(false) }), makePod('reader', { nodeName: 'b', ...disk(true) })]);
    expect(filterResults(new VolumeRestrictions(c), podInfo('p', disk(false)), c)).toEqual({ a: 'Unschedulable: node(s) had no available disk', b: 'Unschedulable: node(s) had no available disk' });
    expect(filterResults(new VolumeRestrictions(c), podInfo('p', disk(true)), c)).toEqual({ a: 'Unschedulable: node(s) had no available disk', b: 'ok' });
  });
});
