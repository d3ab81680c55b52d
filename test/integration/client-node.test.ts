/**
 * The official JavaScript client, @kubernetes/client-node, against tkube unchanged: typed API
 * calls and its informer (list then watch, with resourceVersion bookkeeping).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import { api, startAPIServer, type TestAPIServer } from '../support/apiserver.js';

let s: TestAPIServer;
let kc: k8s.KubeConfig;

beforeAll(async () => {
  s = await startAPIServer();
  kc = new k8s.KubeConfig();
  // client-node 1.x refuses plain http:// servers unless TLS verification is marked skipped;
  // the insecure development port is plain HTTP on loopback.
  kc.loadFromOptions({
    clusters: [{ name: 'tkube', server: s.url, skipTLSVerify: true }],
    users: [{ name: 'admin' }],
    contexts: [{ name: 'tkube', cluster: 'tkube', user: 'admin' }],
    currentContext: 'tkube',
  });
});
afterAll(async () => s?.stop());

test('typed calls: create, read, patch, list with selectors, delete', async () => {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  await core.createNamespace({ body: { metadata: { name: 'cn' } } });
  const created = await core.createNamespacedConfigMap({ namespace: 'cn', body: { metadata: { name: 'one', labels: { app: 'x' } }, data: { a: '1' } } });
  expect(created.metadata?.uid).toBeTruthy();
  const read = await core.readNamespacedConfigMap({ name: 'one', namespace: 'cn' });
  expect(read.data).toEqual({ a: '1' });
  await core.patchNamespacedConfigMap({ name: 'one', namespace: 'cn', body: { data: { b: '2' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
  const list = await core.listNamespacedConfigMap({ namespace: 'cn', labelSelector: 'app=x' });
  expect(list.items.map((c) => c.data)).toEqual([{ a: '1', b: '2' }]);
  const dep = await apps.createNamespacedDeployment({
    namespace: 'cn',
    body: { metadata: { name: 'd' }, spec: { selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } } } },
  });
  expect(dep.spec?.strategy?.type).toBe('RollingUpdate');
  const missing = await core.readNamespacedConfigMap({ name: 'nope', namespace: 'cn' }).catch((e: unknown) => e as { code?: number; body?: string });
  expect((missing as { code?: number }).code).toBe(404);
  await core.deleteNamespacedConfigMap({ name: 'one', namespace: 'cn' });
});

test('the informer ends with a cache equal to a fresh list after 100 objects are created, updated and deleted', async () => {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'inf' } } });
  const informer = k8s.makeInformer(kc, '/api/v1/namespaces/inf/configmaps', () => core.listNamespacedConfigMap({ namespace: 'inf' }));
  const seen = { add: 0, update: 0, delete: 0 };
  informer.on('add', () => seen.add++);
  informer.on('update', () => seen.update++);
  informer.on('delete', () => seen.delete++);
  await informer.start();
  try {
    for (let i = 0; i < 100; i++) await core.createNamespacedConfigMap({ namespace: 'inf', body: { metadata: { name: `c${i}` }, data: { v: '0' } } });
    for (let i = 0; i < 100; i += 2) await api(s.url, 'PATCH', `/api/v1/namespaces/inf/configmaps/c${i}`, { data: { v: '1' } }, { 'content-type': 'application/merge-patch+json' });
    for (let i = 0; i < 100; i += 3) await core.deleteNamespacedConfigMap({ name: `c${i}`, namespace: 'inf' });

    const fresh = await core.listNamespacedConfigMap({ namespace: 'inf' });
    const want = new Map(fresh.items.map((c) => [c.metadata!.name!, c.metadata!.resourceVersion]));
    const deadline = Date.now() + 15_000;
    let got = new Map<string, string | undefined>();
    while (Date.now() < deadline) {
      got = new Map(informer.list('inf').map((c) => [c.metadata!.name!, c.metadata!.resourceVersion]));
      if (got.size === want.size && [...want].every(([k, v]) => got.get(k) === v)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(got).toEqual(want);
    expect(want.size).toBe(100 - 34);
    expect(seen.add).toBe(100);
    expect(seen.update).toBe(50);
    expect(seen.delete).toBe(34);
  } finally {
    await informer.stop();
  }
});
