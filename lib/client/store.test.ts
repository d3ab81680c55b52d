import { describe, expect, test } from 'vitest';
import type { KubeObject } from '../api/index.js';
import { parseLabelSelector } from '../machinery/index.js';
import { Lister } from './lister.js';
import { CacheIndexer, deepFreeze, indexByNamespace, indexByOwnerUID, metaNamespaceKey, namespaceIndex, ownerUIDIndex, splitMetaNamespaceKey } from './store.js';

const pod = (ns: string, name: string, extra: { node?: string; labels?: Record<string, string>; owner?: string } = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace: ns, name, labels: extra.labels, ownerReferences: extra.owner ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: extra.owner }] : undefined },
  spec: { nodeName: extra.node },
});

const byNode = (o: KubeObject) => {
  const n = (o.spec as { nodeName?: string } | undefined)?.nodeName;
  return n ? [n] : [];
};

describe('keys', () => {
  test('namespace/name, or name alone for cluster-scoped objects', () => {
    expect(metaNamespaceKey(pod('default', 'web'))).toBe('default/web');
    expect(metaNamespaceKey({ metadata: { name: 'node-1' } })).toBe('node-1');
    expect(splitMetaNamespaceKey('default/web')).toEqual({ namespace: 'default', name: 'web' });
    expect(splitMetaNamespaceKey('node-1')).toEqual({ namespace: undefined, name: 'node-1' });
    expect(() => splitMetaNamespaceKey('a/b/c')).toThrow(/unexpected key/);
    expect(() => metaNamespaceKey({ metadata: {} })).toThrow(/no metadata.name/);
  });
});

describe('CacheIndexer', () => {
  test('indexes follow adds, updates and deletes', () => {
    const s = new CacheIndexer<KubeObject>({ [namespaceIndex]: indexByNamespace, node: byNode });
    s.add(pod('a', 'p1', { node: 'n1' }));
    s.add(pod('a', 'p2', { node: 'n1' }));
    s.add(pod('b', 'p3', { node: 'n2' }));
    expect(s.indexKeys('node', 'n1').sort()).toEqual(['a/p1', 'a/p2']);
    expect(s.byIndex(namespaceIndex, 'b').map((o) => o.metadata.name)).toEqual(['p3']);
    // p2 moves to n2: it leaves n1's entry.
    s.update(pod('a', 'p2', { node: 'n2' }));
    expect(s.indexKeys('node', 'n1')).toEqual(['a/p1']);
    expect(s.indexKeys('node', 'n2').sort()).toEqual(['a/p2', 'b/p3']);
    s.delete(pod('a', 'p1'));
    expect(s.indexKeys('node', 'n1')).toEqual([]);
    expect(s.listIndexFuncValues('node')).toEqual(['n2']);
    expect(s.index('node', pod('x', 'y', { node: 'n2' })).length).toBe(2);
    expect(s.size).toBe(2);
  });

  test('an index added later covers objects already there', () => {
    const s = new CacheIndexer<KubeObject>();
    s.add(pod('a', 'p1', { owner: 'u1' }));
    s.add(pod('a', 'p2', { owner: 'u1' }));
    s.add(pod('a', 'p3'));
    s.addIndexers({ [ownerUIDIndex]: indexByOwnerUID });
    expect(s.indexKeys(ownerUIDIndex, 'u1').sort()).toEqual(['a/p1', 'a/p2']);
    expect(() => s.addIndexers({ [ownerUIDIndex]: indexByOwnerUID })).toThrow(/already exists/);
    expect(() => s.byIndex('nope', 'x')).toThrow(/index "nope" does not exist/);
  });

  test('replace swaps the whole content and its indexes', () => {
    const s = new CacheIndexer<KubeObject>({ node: byNode });
    s.add(pod('a', 'old', { node: 'n1' }));
    s.replace([pod('a', 'new', { node: 'n2' })], '10');
    expect(s.listKeys()).toEqual(['a/new']);
    expect(s.indexKeys('node', 'n1')).toEqual([]);
    expect(s.getByKey('a/new')?.metadata.name).toBe('new');
  });
});

describe('Lister', () => {
  test('lists by namespace and label selector, gets by name', () => {
    const s = new CacheIndexer<KubeObject>({ [namespaceIndex]: indexByNamespace });
    s.add(pod('a', 'web-1', { labels: { app: 'web' } }));
    s.add(pod('a', 'db-1', { labels: { app: 'db' } }));
    s.add(pod('b', 'web-2', { labels: { app: 'web' } }));
    const l = new Lister(s);
    expect(l.list(parseLabelSelector('app=web')).map((o) => o.metadata.name).sort()).toEqual(['web-1', 'web-2']);
    expect(l.namespace('a').list().length).toBe(2);
    expect(l.namespace('a').list(parseLabelSelector('app=web')).map((o) => o.metadata.name)).toEqual(['web-1']);
    expect(l.namespace('b').get('web-2')?.metadata.namespace).toBe('b');
    expect(l.namespace('b').get('web-1')).toBeUndefined();
  });
});

describe('deepFreeze', () => {
  test('a frozen object cannot be changed at any depth', () => {
    const o = deepFreeze(pod('a', 'p', { labels: { x: 'y' } }));
    expect(() => {
      o.metadata.labels!.x = 'z';
    }).toThrow(TypeError);
    expect(() => {
      (o.spec as Record<string, unknown>).nodeName = 'n';
    }).toThrow(TypeError);
  });
});
