/**
 * Informers against the real API server and etcd: convergence under load, surviving an API
 * server restart without missing an event, and re-listing after a 410 caused by compaction.
 */
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, test } from 'vitest';
import type { ConfigMap } from '../../lib/api/index.js';
import { RESTClient, Resources, SharedInformerFactory, isTombstone, loadClientConfig, type SharedInformer } from '../../lib/client/index.js';
import { startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { startEtcd, type EtcdCluster } from '../support/etcd.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function clientFor(s: TestAPIServer): RESTClient {
  const c = new RESTClient({ config: loadClientConfig({ kubeconfig: s.kubeconfig, env: {} }), component: 'informer-test', qps: 0 });
  cleanups.push(() => c.close());
  return c;
}

function factoryFor(client: RESTClient): { factory: SharedInformerFactory; ctl: AbortController; running: Promise<void> } {
  const factory = new SharedInformerFactory({ client, informerOptions: { backoffInitialMs: 100, backoffMaxMs: 1000 } });
  const ctl = new AbortController();
  const holder = { running: Promise.resolve() };
  cleanups.push(async () => {
    ctl.abort();
    await holder.running;
  });
  return {
    factory,
    ctl,
    get running() {
      return holder.running;
    },
    set running(p: Promise<void>) {
      holder.running = p;
    },
  };
}

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 30_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** name=resourceVersion of every configmap in the namespace, as the cache and as a fresh list. */
const cacheView = (inf: SharedInformer<ConfigMap>) =>
  inf
    .getIndexer()
    .list()
    .map((o) => `${o.metadata.name}=${o.metadata.resourceVersion}`)
    .sort()
    .join(',');
async function listView(client: RESTClient, ns: string): Promise<string> {
  const l = await client.resource(Resources.configMaps, ns).listAll({ pageSize: 50 });
  return l.items
    .map((o) => `${o.metadata.name}=${o.metadata.resourceVersion}`)
    .sort()
    .join(',');
}

async function createNamespace(client: RESTClient, name: string): Promise<void> {
  await client.resource(Resources.namespaces).create({ metadata: { name } });
}

/** Records every notification per object: its sequence of `v` values, and deletions. */
function tracker() {
  const history = new Map<string, string[]>();
  const push = (name: string, what: string) => {
    if (!history.has(name)) history.set(name, []);
    history.get(name)!.push(what);
  };
  let adds = 0;
  let deletes = 0;
  return {
    history,
    counts: () => ({ adds, deletes }),
    handler: {
      onAdd: (o: ConfigMap) => {
        adds++;
        push(o.metadata.name!, `v${o.data?.v ?? ''}`);
      },
      onUpdate: (old: ConfigMap, o: ConfigMap) => {
        if (old.metadata.resourceVersion !== o.metadata.resourceVersion) push(o.metadata.name!, `v${o.data?.v ?? ''}`);
      },
      onDelete: (o: ConfigMap | { obj: ConfigMap }) => {
        deletes++;
        const obj = isTombstone(o as never) ? (o as { obj: ConfigMap }).obj : (o as ConfigMap);
        push(obj.metadata.name!, isTombstone(o as never) ? 'tombstone' : 'deleted');
      },
    },
  };
}

describe('informer against the real API server', () => {
  test('the cache ends equal to a fresh list after 200 objects are created, updated and deleted', async () => {
    const s = await startAPIServer();
    cleanups.push(() => s.stop());
    const client = clientFor(s);
    await createNamespace(client, 'load');
    const cms = client.resource(Resources.configMaps, 'load');
    const f = factoryFor(client);
    const inf = f.factory.informerFor(Resources.configMaps, { namespace: 'load' });
    const t = tracker();
    inf.addEventHandler(t.handler);
    f.running = f.factory.start(f.ctl.signal);
    expect(await f.factory.waitForCacheSync(f.ctl.signal)).toBe(true);

    const names = Array.from({ length: 200 }, (_, i) => `cm-${String(i).padStart(3, '0')}`);
    const inBatches = async (items: string[], fn: (n: string) => Promise<unknown>) => {
      for (let i = 0; i < items.length; i += 20) await Promise.all(items.slice(i, i + 20).map(fn));
    };
    await inBatches(names, (n) => cms.create({ metadata: { name: n }, data: { v: '1' } }));
    await inBatches(
      names.filter((_, i) => i % 2 === 0),
      (n) => cms.patch(n, 'merge', { data: { v: '2' } }),
    );
    await inBatches(
      names.filter((_, i) => i % 4 === 0),
      (n) => cms.patch(n, 'merge', { data: { v: '3' } }),
    );
    await inBatches(
      names.filter((_, i) => i % 3 === 0),
      (n) => cms.delete(n),
    );

    await until(async () => cacheView(inf) === (await listView(client, 'load')), 30_000, 'cache to equal the list');
    expect(inf.getIndexer().size).toBe(200 - 67);
    const { adds, deletes } = t.counts();
    expect(adds - deletes).toBe(inf.getIndexer().size);
    // Every object's history is complete and in order.
    names.forEach((n, i) => {
      const want = ['v1'];
      if (i % 2 === 0) want.push('v2');
      if (i % 4 === 0) want.push('v3');
      if (i % 3 === 0) want.push('deleted');
      expect(t.history.get(n), n).toEqual(want);
    });
  });

  test('survives an API server restart on the same etcd and misses no event', async () => {
    const etcd: EtcdCluster = await startEtcd();
    cleanups.push(() => etcd.stop());
    let s = await startAPIServer({ etcd });
    const port = Number(new URL(s.url).port);
    cleanups.push(() => s.stop());
    const client = clientFor(s);
    await createNamespace(client, 'restart');
    const cms = client.resource(Resources.configMaps, 'restart');
    for (let i = 0; i < 10; i++) await cms.create({ metadata: { name: `r-${i}` }, data: { v: '1' } });

    const f = factoryFor(client);
    const inf = f.factory.informerFor(Resources.configMaps, { namespace: 'restart' });
    const t = tracker();
    inf.addEventHandler(t.handler);
    f.running = f.factory.start(f.ctl.signal);
    await f.factory.waitForCacheSync(f.ctl.signal);
    await cms.patch('r-0', 'merge', { data: { v: '2' } });
    await until(() => t.history.get('r-0')?.length === 2, 10_000, 'the first update');

    await s.stop();
    const listsBefore = inf.stats.lists;
    s = await startAPIServer({ etcd, insecurePort: port });
    // Changes made as soon as the new server answers, before the informer is back.
    for (let v = 2; v <= 6; v++) await cms.patch('r-1', 'merge', { data: { v: String(v) } });
    await cms.delete('r-2');
    await cms.create({ metadata: { name: 'r-new' }, data: { v: '1' } });
    await cms.patch('r-0', 'merge', { data: { v: '3' } });

    await until(async () => cacheView(inf) === (await listView(client, 'restart')), 30_000, 'the cache to converge after the restart');
    expect(t.history.get('r-0')).toEqual(['v1', 'v2', 'v3']);
    expect(t.history.get('r-1')).toEqual(['v1', 'v2', 'v3', 'v4', 'v5', 'v6']);
    expect(t.history.get('r-2')).toEqual(['v1', 'deleted']);
    expect(t.history.get('r-new')).toEqual(['v1']);
    // It resumed its watch from where it was: no re-list was needed.
    expect(inf.stats.lists).toBe(listsBefore);
    expect(inf.stats.expired).toBe(0);
  });

  test('a 410 after etcd compaction makes it re-list and converge, with delete notifications', async () => {
    const etcd = await startEtcd();
    cleanups.push(() => etcd.stop());
    let a = await startAPIServer({ etcd });
    const portA = Number(new URL(a.url).port);
    cleanups.push(() => a.stop());
    const b = await startAPIServer({ etcd }); // a second API server that keeps running
    cleanups.push(() => b.stop());
    const viaA = clientFor(a);
    const viaB = clientFor(b);
    await createNamespace(viaB, 'compact');
    const cmsB = viaB.resource(Resources.configMaps, 'compact');
    for (const n of ['keep', 'change', 'gone-1', 'gone-2']) await cmsB.create({ metadata: { name: n }, data: { v: '1' } });

    const f = factoryFor(viaA);
    const inf = f.factory.informerFor(Resources.configMaps, { namespace: 'compact' });
    const t = tracker();
    inf.addEventHandler(t.handler);
    f.running = f.factory.start(f.ctl.signal);
    await f.factory.waitForCacheSync(f.ctl.signal);
    // A's watch cache may list a moment behind B's writes (the informer lists at
    // resourceVersion 0, as client-go's do): first the informer has seen all four.
    await until(async () => cacheView(inf) === (await listView(viaB, 'compact')), 30_000, 'the informer to see the four ConfigMaps');
    const seenRV = Number(inf.lastSyncResourceVersion);

    // The informer's API server goes away; the world moves on through the other one.
    await a.stop();
    await cmsB.patch('change', 'merge', { data: { v: '2' } });
    await cmsB.delete('gone-1');
    await cmsB.delete('gone-2');
    await cmsB.create({ metadata: { name: 'fresh' }, data: { v: '1' } });
    const rev = Number((await cmsB.list()).metadata.resourceVersion);
    expect(rev).toBeGreaterThan(seenRV);
    execFileSync('etcdctl', [`--endpoints=${etcd.endpoints.join(',')}`, 'compact', String(rev)], { stdio: 'ignore' });

    a = await startAPIServer({ etcd, insecurePort: portA });
    await until(async () => cacheView(inf) === (await listView(viaB, 'compact')), 30_000, 'the cache to converge after the 410');
    expect(inf.stats.expired).toBeGreaterThanOrEqual(1);
    expect(t.history.get('gone-1')).toEqual(['v1', 'tombstone']);
    expect(t.history.get('gone-2')).toEqual(['v1', 'tombstone']);
    expect(t.history.get('change')).toEqual(['v1', 'v2']);
    expect(t.history.get('fresh')).toEqual(['v1']);
    expect(t.history.get('keep')).toEqual(['v1']);
    expect(Number(inf.lastSyncResourceVersion)).toBeGreaterThanOrEqual(rev);
  });
});
