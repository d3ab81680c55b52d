/**
 * tkube-apiserver against a real etcd: one key per object, resourceVersion = etcd revision,
 * optimistic locking, metadata bookkeeping, finalizers and graceful deletion.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Etcd3 } from 'etcd3';
import { api, startAPIServer, type TestAPIServer } from '../support/apiserver.js';

let s: TestAPIServer;
let etcd: Etcd3;

beforeAll(async () => {
  s = await startAPIServer();
  etcd = new Etcd3({ hosts: s.etcd.endpoints.map((e) => e.replace('http://', '')) });
});
afterAll(async () => {
  etcd?.close();
  await s?.stop();
});

const pod = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, ...extra },
  spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] },
});

describe('storage layout', () => {
  test('each object is one JSON key under /registry with the etcd revision as resourceVersion', async () => {
    const r = await api(s.url, 'POST', '/api/v1/namespaces/default/pods', pod('web-1'));
    expect(r.status).toBe(201);
    const kv = await etcd.get('/registry/pods/default/web-1').exec();
    expect(kv.kvs).toHaveLength(1);
    const stored = JSON.parse(kv.kvs[0]!.value.toString());
    expect(stored.metadata.name).toBe('web-1');
    expect(stored.kind).toBe('Pod');
    // The version lives in etcd's revision, not in the value.
    expect(stored.metadata.resourceVersion).toBeUndefined();
    expect(r.body.metadata.resourceVersion).toBe(kv.kvs[0]!.mod_revision);
    const ns = await etcd.get('/registry/namespaces/default').exec();
    expect(JSON.parse(ns.kvs[0]!.value.toString()).metadata.name).toBe('default');
  });

  test('metadata: uid, creationTimestamp and generation are set by the server', async () => {
    const r = await api(s.url, 'POST', '/apis/apps/v1/namespaces/default/deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'gen', uid: 'client-chosen' },
      spec: { selector: { matchLabels: { app: 'gen' } }, template: { metadata: { labels: { app: 'gen' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    });
    expect(r.status).toBe(201);
    expect(r.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.body.metadata.uid).not.toBe('client-chosen');
    expect(Date.parse(r.body.metadata.creationTimestamp)).toBeGreaterThan(Date.now() - 60_000);
    expect(r.body.metadata.generation).toBe(1);
    // A label change leaves generation alone; a spec change bumps it.
    const labelled = await api(s.url, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/gen', { metadata: { labels: { x: 'y' } } }, { 'content-type': 'application/merge-patch+json' });
    expect(labelled.body.metadata.generation).toBe(1);
    const scaled = await api(s.url, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/gen', { spec: { replicas: 3 } }, { 'content-type': 'application/merge-patch+json' });
    expect(scaled.body.metadata.generation).toBe(2);
    // Status writes never change the spec.
    const st = await api(s.url, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/gen/status', { spec: { replicas: 9 }, status: { replicas: 1 } }, { 'content-type': 'application/merge-patch+json' });
    expect(st.status).toBe(200);
    expect(st.body.spec.replicas).toBe(3);
    expect(st.body.status.replicas).toBe(1);
    expect(st.body.metadata.generation).toBe(2);
  });

  test('generateName makes a unique name', async () => {
    const a = await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { generateName: 'cfg-' }, data: { a: '1' } });
    const b = await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { generateName: 'cfg-' }, data: { a: '1' } });
    expect(a.status).toBe(201);
    expect(a.body.metadata.name).toMatch(/^cfg-[a-z0-9]{5}$/);
    expect(b.body.metadata.name).not.toBe(a.body.metadata.name);
  });
});

describe('optimistic locking', () => {
  test('create of an existing name is 409 AlreadyExists', async () => {
    await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'dup' } });
    const r = await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'dup' } });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'AlreadyExists', code: 409, message: 'configmaps "dup" already exists', details: { name: 'dup', kind: 'configmaps' } });
  });

  test('an update with a stale resourceVersion is 409 Conflict and changes nothing', async () => {
    const c = await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'lock' }, data: { v: '1' } });
    const rv = c.body.metadata.resourceVersion;
    const u1 = await api(s.url, 'PUT', '/api/v1/namespaces/default/configmaps/lock', { metadata: { name: 'lock', resourceVersion: rv }, data: { v: '2' } });
    expect(u1.status).toBe(200);
    const u2 = await api(s.url, 'PUT', '/api/v1/namespaces/default/configmaps/lock', { metadata: { name: 'lock', resourceVersion: rv }, data: { v: '3' } });
    expect(u2.status).toBe(409);
    expect(u2.body.reason).toBe('Conflict');
    expect(u2.body.message).toContain('the object has been modified');
    const g = await api(s.url, 'GET', '/api/v1/namespaces/default/configmaps/lock');
    expect(g.body.data.v).toBe('2');
  });

  test('concurrent read-modify-write clients lose no update', async () => {
    await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'counter' }, data: { n: '0' } });
    const writers = 20;
    let conflicts = 0;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        for (;;) {
          const g = await api(s.url, 'GET', '/api/v1/namespaces/default/configmaps/counter');
          const next = { ...g.body, data: { n: String(Number(g.body.data.n) + 1) } };
          const u = await api(s.url, 'PUT', '/api/v1/namespaces/default/configmaps/counter', next);
          if (u.status === 200) return;
          expect(u.status).toBe(409);
          conflicts++;
        }
      }),
    );
    const g = await api(s.url, 'GET', '/api/v1/namespaces/default/configmaps/counter');
    expect(g.body.data.n).toBe(String(writers));
    expect(conflicts).toBeGreaterThan(0);
  });

  test('concurrent patches without a resourceVersion are all applied', async () => {
    await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'patched' } });
    await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        api(s.url, 'PATCH', '/api/v1/namespaces/default/configmaps/patched', { metadata: { labels: { [`l${i}`]: 'x' } } }, { 'content-type': 'application/merge-patch+json' }),
      ),
    );
    const g = await api(s.url, 'GET', '/api/v1/namespaces/default/configmaps/patched');
    expect(Object.keys(g.body.metadata.labels)).toHaveLength(25);
  });
});

describe('deletion', () => {
  test('an object with finalizers is only marked, and goes when the last finalizer is removed', async () => {
    await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'fin', finalizers: ['example.com/hold', 'example.com/other'] } });
    const d = await api(s.url, 'DELETE', '/api/v1/namespaces/default/configmaps/fin');
    expect(d.status).toBe(202);
    expect(d.body.metadata.deletionTimestamp).toBeTruthy();
    const g = await api(s.url, 'GET', '/api/v1/namespaces/default/configmaps/fin');
    expect(g.status).toBe(200);
    expect(g.body.metadata.deletionTimestamp).toBeTruthy();
    // No new finalizers on an object being deleted.
    const add = await api(s.url, 'PATCH', '/api/v1/namespaces/default/configmaps/fin', { metadata: { finalizers: ['example.com/hold', 'example.com/other', 'example.com/new'] } }, { 'content-type': 'application/merge-patch+json' });
    expect(add.status).toBe(422);
    await api(s.url, 'PATCH', '/api/v1/namespaces/default/configmaps/fin', { metadata: { finalizers: ['example.com/other'] } }, { 'content-type': 'application/merge-patch+json' });
    expect((await api(s.url, 'GET', '/api/v1/namespaces/default/configmaps/fin')).status).toBe(200);
    await api(s.url, 'PATCH', '/api/v1/namespaces/default/configmaps/fin', { metadata: { finalizers: null } }, { 'content-type': 'application/merge-patch+json' });
    expect((await api(s.url, 'GET', '/api/v1/namespaces/default/configmaps/fin')).status).toBe(404);
  });

  test('an unbound pod is deleted at once; a bound pod gracefully, until its kubelet confirms with grace 0', async () => {
    await api(s.url, 'POST', '/api/v1/namespaces/default/pods', pod('unbound'));
    const d1 = await api(s.url, 'DELETE', '/api/v1/namespaces/default/pods/unbound');
    expect(d1.status).toBe(200);
    expect((await api(s.url, 'GET', '/api/v1/namespaces/default/pods/unbound')).status).toBe(404);

    await api(s.url, 'POST', '/api/v1/namespaces/default/pods', pod('bound'));
    const b = await api(s.url, 'POST', '/api/v1/namespaces/default/pods/bound/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bound' }, target: { kind: 'Node', name: 'node-1' } });
    expect(b.status).toBe(201);
    const d2 = await api(s.url, 'DELETE', '/api/v1/namespaces/default/pods/bound');
    expect(d2.status).toBe(202);
    expect(d2.body.metadata.deletionGracePeriodSeconds).toBe(30);
    expect(Date.parse(d2.body.metadata.deletionTimestamp)).toBeGreaterThan(Date.now() + 20_000);
    const still = await api(s.url, 'GET', '/api/v1/namespaces/default/pods/bound');
    expect(still.status).toBe(200);
    const uid = still.body.metadata.uid;
    const d3 = await api(s.url, 'DELETE', '/api/v1/namespaces/default/pods/bound', { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid } });
    expect(d3.status).toBe(200);
    expect((await api(s.url, 'GET', '/api/v1/namespaces/default/pods/bound')).status).toBe(404);
  });

  test('binding an already bound pod is a conflict', async () => {
    await api(s.url, 'POST', '/api/v1/namespaces/default/pods', pod('twice'));
    const body = { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'twice' }, target: { kind: 'Node', name: 'node-1' } };
    expect((await api(s.url, 'POST', '/api/v1/namespaces/default/pods/twice/binding', body)).status).toBe(201);
    const again = await api(s.url, 'POST', '/api/v1/namespaces/default/pods/twice/binding', { ...body, target: { kind: 'Node', name: 'node-2' } });
    expect(again.status).toBe(409);
    const p = await api(s.url, 'GET', '/api/v1/namespaces/default/pods/twice');
    expect(p.body.spec.nodeName).toBe('node-1');
    expect(p.body.status.conditions).toContainEqual(expect.objectContaining({ type: 'PodScheduled', status: 'True' }));
  });
});
