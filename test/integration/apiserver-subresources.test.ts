/** scale, eviction (with disruption budgets), dry runs, deletecollection, legacy watch paths, resourceVersion semantics. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { openWatch } from '../support/watch.js';

let s: TestAPIServer;
beforeAll(async () => {
  s = await startAPIServer();
});
afterAll(async () => s?.stop());

const deployment = (name: string, replicas = 2) => ({
  metadata: { name },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'x:1' }] } } },
});

describe('scale', () => {
  test('reads and writes replicas through autoscaling/v1 Scale', async () => {
    await api(s.url, 'POST', '/apis/apps/v1/namespaces/default/deployments', deployment('sc', 2));
    const g = await api(s.url, 'GET', '/apis/apps/v1/namespaces/default/deployments/sc/scale');
    expect(g.body).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'sc' }, spec: { replicas: 2 }, status: { replicas: 0, selector: 'app=sc' } });
    const p = await api(s.url, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/sc/scale', { spec: { replicas: 5 } }, { 'content-type': 'application/merge-patch+json' });
    expect(p.status).toBe(200);
    expect(p.body.spec.replicas).toBe(5);
    const u = await api(s.url, 'PUT', '/apis/apps/v1/namespaces/default/deployments/sc/scale', { ...p.body, spec: { replicas: 1 } });
    expect(u.body.spec.replicas).toBe(1);
    const stale = await api(s.url, 'PUT', '/apis/apps/v1/namespaces/default/deployments/sc/scale', { ...p.body, spec: { replicas: 7 } });
    expect(stale.status).toBe(409);
    const bad = await api(s.url, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/sc/scale', { spec: { replicas: -1 } }, { 'content-type': 'application/merge-patch+json' });
    expect(bad.status).toBe(422);
    const d = await api(s.url, 'GET', '/apis/apps/v1/namespaces/default/deployments/sc');
    expect(d.body.spec.replicas).toBe(1);
    expect(d.body.metadata.generation).toBe(3);
  });
});

describe('eviction', () => {
  const pod = (name: string, labels: Record<string, string>) => ({ metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'x' }] } });

  test('evicts a pod, unless a disruption budget allows no disruption (429)', async () => {
    await api(s.url, 'POST', '/api/v1/namespaces/default/pods', pod('ev1', { app: 'free' }));
    const e1 = await api(s.url, 'POST', '/api/v1/namespaces/default/pods/ev1/eviction', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'ev1' } });
    expect(e1.status).toBe(201);
    expect((await api(s.url, 'GET', '/api/v1/namespaces/default/pods/ev1')).status).toBe(404);

    await api(s.url, 'POST', '/api/v1/namespaces/default/pods', pod('ev2', { app: 'guarded' }));
    const pdb = await api(s.url, 'POST', '/apis/policy/v1/namespaces/default/poddisruptionbudgets', { metadata: { name: 'guard' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'guarded' } } } });
    // The disruption controller would compute this; set it as it would.
    await api(s.url, 'PUT', '/apis/policy/v1/namespaces/default/poddisruptionbudgets/guard/status', {
      ...pdb.body,
      status: { observedGeneration: 1, disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 },
    });
    const e2 = await api(s.url, 'POST', '/api/v1/namespaces/default/pods/ev2/eviction', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'ev2' } });
    expect(e2.status).toBe(429);
    expect(e2.body.message).toContain("would violate the pod's disruption budget");
    expect((await api(s.url, 'GET', '/api/v1/namespaces/default/pods/ev2')).status).toBe(200);
  });
});

describe('dry run and deletecollection', () => {
  test('dryRun=All validates and answers without storing', async () => {
    const c = await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps?dryRun=All', { metadata: { name: 'dry' }, data: { a: '1' } });
    expect(c.status).toBe(201);
    expect(c.body.metadata.uid).toBeTruthy();
    expect((await api(s.url, 'GET', '/api/v1/namespaces/default/configmaps/dry')).status).toBe(404);
    const bad = await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps?dryRun=All', { metadata: { name: 'Dry!' } });
    expect(bad.status).toBe(422);
    await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'real' }, data: { a: '1' } });
    const u = await api(s.url, 'PATCH', '/api/v1/namespaces/default/configmaps/real?dryRun=All', { data: { a: '2' } }, { 'content-type': 'application/merge-patch+json' });
    expect(u.body.data.a).toBe('2');
    expect((await api(s.url, 'GET', '/api/v1/namespaces/default/configmaps/real')).body.data.a).toBe('1');
    const d = await api(s.url, 'DELETE', '/api/v1/namespaces/default/configmaps/real?dryRun=All');
    expect(d.status).toBe(200);
    expect((await api(s.url, 'GET', '/api/v1/namespaces/default/configmaps/real')).status).toBe(200);
  });

  test('deletecollection deletes what the selector selects', async () => {
    await api(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'dc' } });
    for (let i = 0; i < 6; i++) await api(s.url, 'POST', '/api/v1/namespaces/dc/configmaps', { metadata: { name: `x${i}`, labels: { even: String(i % 2 === 0) } } });
    const r = await api(s.url, 'DELETE', '/api/v1/namespaces/dc/configmaps?labelSelector=even%3Dtrue');
    expect(r.status).toBe(200);
    const left = await api(s.url, 'GET', '/api/v1/namespaces/dc/configmaps');
    expect(left.body.items.map((o: any) => o.metadata.name)).toEqual(['x1', 'x3', 'x5']);
  });
});

describe('resourceVersion semantics', () => {
  test('Exact reads the past; NotOlderThan reads at least that version; garbage is 400', async () => {
    const a = await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'rv1' } });
    const rv = a.body.metadata.resourceVersion;
    await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'rv2' } });
    const exact = await api(s.url, 'GET', `/api/v1/namespaces/default/configmaps?resourceVersion=${rv}&resourceVersionMatch=Exact`);
    expect(exact.body.metadata.resourceVersion).toBe(rv);
    const names = exact.body.items.map((o: any) => o.metadata.name);
    expect(names).toContain('rv1');
    expect(names).not.toContain('rv2');
    const notOlder = await api(s.url, 'GET', `/api/v1/namespaces/default/configmaps?resourceVersion=${rv}&resourceVersionMatch=NotOlderThan`);
    expect(Number(notOlder.body.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(rv));
    expect((await api(s.url, 'GET', '/api/v1/namespaces/default/configmaps?resourceVersion=abc')).status).toBe(400);
    expect((await api(s.url, 'GET', '/api/v1/namespaces/default/configmaps?resourceVersionMatch=Exact')).status).toBe(400);
  });

  test('the deprecated /watch/ paths stream like ?watch=true, and watching one object by name works', async () => {
    const list = await api(s.url, 'GET', '/api/v1/namespaces/default/configmaps');
    const all = await openWatch(s.url, `/api/v1/watch/namespaces/default/configmaps?resourceVersion=${list.body.metadata.resourceVersion}`);
    const one = await openWatch(s.url, `/api/v1/watch/namespaces/default/configmaps/target?resourceVersion=${list.body.metadata.resourceVersion}`);
    await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'other' } });
    await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'target' } });
    await all.waitFor(2);
    const evs = await one.waitFor(1);
    await new Promise((r) => setTimeout(r, 100));
    all.close();
    one.close();
    expect(evs[0]!.object.metadata.name).toBe('target');
    expect(one.events).toHaveLength(1);
  });
});
