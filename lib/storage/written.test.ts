import { describe, expect, test } from 'vitest';
import type { KubeObject } from '../api/index.js';
import { encodeForStorage, writtenJSON } from './written.js';

const withoutRV = (o: KubeObject) => {
  const { resourceVersion: _rv, ...meta } = o.metadata ?? {};
  return o.metadata ? { ...o, metadata: meta } : o;
};

const cases: [string, KubeObject][] = [
  [
    'a pod as stored',
    {
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: { name: 'web', namespace: 'default', uid: '6b1c1f4e-1111-4222-8333-944455556666', resourceVersion: '12', creationTimestamp: '2026-11-22T10:00:00Z', labels: { uid: 'x', app: 'web' }, managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:spec': {} } }] },
      spec: { containers: [{ name: 'app', image: 'busybox', env: [{ name: 'A', value: '"quoted" \u2028 é' }] }] },
      status: {},
    } as unknown as KubeObject,
  ],
  ['members left undefined are left out, as JSON.stringify does', { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'c', uid: 'u-1', generation: undefined, resourceVersion: '3' }, data: undefined, binaryData: { a: 'AA==' } } as unknown as KubeObject],
  ['no uid: the version goes at the end of metadata', { kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'n', labels: { a: 'b' }, resourceVersion: '4' } } as unknown as KubeObject],
  ['metadata with nothing but the version', { kind: 'Event', apiVersion: 'v1', metadata: { resourceVersion: '5' } } as unknown as KubeObject],
  ['metadata first or last among the members', { spec: { n: 1 }, metadata: { uid: 'u-2', name: 'late', resourceVersion: '6' }, kind: 'X', apiVersion: 'example.com/v1' } as unknown as KubeObject],
  ['nested toJSON values', { kind: 'X', apiVersion: 'v1', metadata: { name: 'd', uid: 'u-3', resourceVersion: '7' }, spec: { at: new Date(0) } } as unknown as KubeObject],
];

describe('one encoding per write', () => {
  test.each(cases)('%s: the stored text is JSON.stringify of the object without its version', (_name, obj) => {
    expect(encodeForStorage(obj)).toBe(JSON.stringify(withoutRV(obj)));
  });

  test.each(cases)('%s: the answer is the stored text with the version, and parses to the object', (_name, obj) => {
    encodeForStorage(obj);
    const answer = writtenJSON(obj)!;
    expect(JSON.parse(answer)).toEqual(JSON.parse(JSON.stringify(obj)));
  });

  test('the version sits right after metadata.uid, where upstream puts it', () => {
    const obj = cases[0]![1];
    encodeForStorage(obj);
    expect(Object.keys(JSON.parse(writtenJSON(obj)!).metadata)).toEqual(['name', 'namespace', 'uid', 'resourceVersion', 'creationTimestamp', 'labels', 'managedFields']);
  });

  test('the version given after the write is the one answered', () => {
    const obj = { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'c', uid: 'u-9' } } as unknown as KubeObject;
    encodeForStorage(obj);
    expect(writtenJSON(obj)).toBeUndefined(); // no version yet
    obj.metadata.resourceVersion = '42';
    expect(JSON.parse(writtenJSON(obj)!).metadata.resourceVersion).toBe('42');
  });

  test('an object no storage encoded has no written JSON', () => {
    expect(writtenJSON({ kind: 'X', apiVersion: 'v1', metadata: { name: 'x', resourceVersion: '1' } } as unknown as KubeObject)).toBeUndefined();
  });
});
