/** The REST client against the real API server: typed CRUD, paging, patches, deletes, watch. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ConfigMap, Deployment, Pod } from '../../lib/api/index.js';
import { RESTClient, Resources, loadClientConfig, type WatchEvent } from '../../lib/client/index.js';
import { isAlreadyExists, isConflict, isGone, isInvalid, isNotFound, parseLabelSelector } from '../../lib/machinery/index.js';
import { startAPIServer, type TestAPIServer } from '../support/apiserver.js';

let s: TestAPIServer;
let restarted: TestAPIServer | undefined;
let client: RESTClient;
beforeAll(async () => {
  s = await startAPIServer();
  client = new RESTClient({ config: loadClientConfig({ kubeconfig: s.kubeconfig, env: {} }), component: 'rest-test', qps: 0 });
  await client.resource(Resources.namespaces).create({ metadata: { name: 'rest' } });
});
afterAll(async () => {
  client?.close();
  await restarted?.stop();
  await s?.stop();
});

const cms = () => client.resource(Resources.configMaps, 'rest');

describe('CRUD', () => {
  test('create, get, update with optimistic locking, and the errors callers branch on', async () => {
    const created = await cms().create({ metadata: { name: 'crud', labels: { app: 'a' } }, data: { k: 'v1' } });
    expect(created.metadata.uid).toBeTruthy();
    expect(created.kind).toBe('ConfigMap');
    expect(isAlreadyExists(await cms().create({ metadata: { name: 'crud' } }).catch((e: unknown) => e))).toBe(true);
    const got = await cms().get('crud');
    const updated = await cms().update({ ...got, data: { k: 'v2' } });
    expect(updated.data).toEqual({ k: 'v2' });
    // A write based on the stale copy is refused.
    expect(isConflict(await cms().update({ ...got, data: { k: 'stale' } }).catch((e: unknown) => e))).toBe(true);
    expect(isNotFound(await cms().get('missing').catch((e: unknown) => e))).toBe(true);
    expect(isInvalid(await cms().create({ metadata: { name: 'Bad_Name' } }).catch((e: unknown) => e))).toBe(true);
    // Create takes the namespace from the object when the client is not scoped.
    const other = await client.resource(Resources.configMaps).create({ metadata: { name: 'unscoped', namespace: 'rest' } });
    expect(other.metadata.namespace).toBe('rest');
  });

  test('list with selectors, and listAll walking pages of one snapshot', async () => {
    for (let i = 0; i < 25; i++) await cms().create({ metadata: { name: `page-${String(i).padStart(2, '0')}`, labels: { set: 'paged', parity: i % 2 ? 'odd' : 'even' } } });
    const first = await cms().list({ labelSelector: 'set=paged', limit: 10 });
    expect(first.items.length).toBe(10);
    expect(first.metadata.continue).toBeTruthy();
    const all = await cms().listAll({ labelSelector: parseLabelSelector('set=paged'), pageSize: 10 });
    expect(all.items.map((o: ConfigMap) => o.metadata.name)).toEqual(Array.from({ length: 25 }, (_, i) => `page-${String(i).padStart(2, '0')}`));
    expect(all.metadata.continue).toBeUndefined();
    const odd = await cms().list({ labelSelector: 'set=paged,parity=odd' });
    expect(odd.items.length).toBe(12);
    const byName = await cms().list({ fieldSelector: 'metadata.name=page-03' });
    expect(byName.items.map((o: ConfigMap) => o.metadata.name)).toEqual(['page-03']);
  });

  test('patches: merge, JSON, strategic (by merge key) and server-side apply', async () => {
    const deploys = client.resource(Resources.deployments, 'rest');
    await deploys.create({
      metadata: { name: 'web' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'nginx:1' }, { name: 'side', image: 'busybox' }] } },
      },
    } as Deployment);
    const merged = await deploys.patch('web', 'merge', { metadata: { labels: { tier: 'front' } } });
    expect(merged.metadata.labels).toEqual({ tier: 'front' });
    const json = await deploys.patch('web', 'json', [{ op: 'replace', path: '/spec/replicas', value: 3 }]);
    expect(json.spec?.replicas).toBe(3);
    // Strategic merge updates one container by name and keeps the other.
    const smp = await deploys.patch('web', 'strategic', { spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:2' }] } } } });
    expect(smp.spec?.template.spec?.containers.map((c) => `${c.name}=${c.image}`)).toEqual(['app=nginx:2', 'side=busybox']);
    const applied = await client.resource(Resources.configMaps, 'rest').apply({ metadata: { name: 'applied' }, data: { a: '1' } }, { fieldManager: 'rest-test', force: true });
    expect(applied.data).toEqual({ a: '1' });
    const status = await deploys.patch('web', 'merge', { status: { replicas: 3 } }, { subresource: 'status' });
    expect(status.status?.replicas).toBe(3);
  });

  test('updateStatus changes status only', async () => {
    const pods = client.resource(Resources.pods, 'rest');
    const p = await pods.create({ metadata: { name: 'st' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } as Pod);
    const out = await pods.updateStatus({ ...p, spec: { ...p.spec!, activeDeadlineSeconds: 5 }, status: { phase: 'Running' } });
    expect(out.status?.phase).toBe('Running');
    expect(out.spec?.activeDeadlineSeconds).toBeUndefined();
    const bound = await pods.createSubresource('st', 'binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'st' }, target: { kind: 'Node', name: 'node-1' } });
    expect(bound).toMatchObject({ status: 'Success' });
    expect((await pods.get('st')).spec?.nodeName).toBe('node-1');
  });

  test('delete with preconditions, and deleteCollection by label', async () => {
    const c = await cms().create({ metadata: { name: 'doomed' } });
    expect(isConflict(await cms().delete('doomed', { preconditions: { uid: 'not-its-uid' } }).catch((e: unknown) => e))).toBe(true);
    await cms().delete('doomed', { preconditions: { uid: c.metadata.uid, resourceVersion: c.metadata.resourceVersion }, gracePeriodSeconds: 0 });
    expect(isNotFound(await cms().get('doomed').catch((e: unknown) => e))).toBe(true);
    const gone = await cms().deleteCollection({ labelSelector: 'parity=even' });
    expect(gone.items.length).toBe(13);
    expect((await cms().list({ labelSelector: 'set=paged' })).items.length).toBe(12);
  });
});

describe('watch', () => {
  test('from a resourceVersion: every later change, in order; stop ends it', async () => {
    const start = await cms().list();
    const w = await cms().watch({ resourceVersion: start.metadata.resourceVersion, allowWatchBookmarks: true });
    await cms().create({ metadata: { name: 'w1' }, data: { v: '1' } });
    await cms().patch('w1', 'merge', { data: { v: '2' } });
    await cms().delete('w1');
    const got: string[] = [];
    for await (const ev of w as AsyncIterable<WatchEvent<ConfigMap>>) {
      if (ev.type === 'BOOKMARK' || ev.type === 'ERROR') continue;
      got.push(`${ev.type}:${ev.object.metadata.name}:${ev.object.data?.v ?? ''}`);
      if (got.length === 3) w.stop();
    }
    expect(got).toEqual(['ADDED:w1:1', 'MODIFIED:w1:2', 'DELETED:w1:2']);
  });

  test('a watch from a compacted resourceVersion fails with 410', async () => {
    const rv = Number((await cms().list()).metadata.resourceVersion);
    await cms().create({ metadata: { name: 'after-compact' } });
    // A restarted API server's watch cache starts now, so a watch from before is asked of etcd,
    // which has compacted that history away.
    await s.stopServer();
    restarted = await startAPIServer({ etcd: s.etcd, insecurePort: Number(new URL(s.url).port) });
    await restarted.server.storage.compact(rv + 1);
    let err: unknown;
    try {
      const w = await cms().watch({ resourceVersion: String(rv - 1), timeoutSeconds: 10 });
      for await (const ev of w) {
        if (ev.type === 'ERROR') {
          err = ev.object;
          break;
        }
      }
    } catch (e) {
      err = e;
    }
    // Either form of 410: before the stream (StatusError) or as an ERROR event (Status).
    expect(isGone(err) || (err as { code?: number } | undefined)?.code === 410).toBe(true);
  });
});

describe('raw requests', () => {
  test('non-resource paths and the client user agent', async () => {
    const v = await client.request<{ gitVersion: string }>({ path: '/version' });
    expect(v.gitVersion).toMatch(/tkube/);
    expect(await client.request({ path: '/healthz' })).toBe('ok');
  });
});
