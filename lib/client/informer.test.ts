import { afterEach, describe, expect, test } from 'vitest';
import type { ConfigMap, KubeObject } from '../api/index.js';
import { FakeClock } from '../base/index.js';
import { newForbidden, newInternalError, newServiceUnavailable, parseLabelSelector } from '../machinery/index.js';
import { FakeClient } from './fake.js';
import { DeletedFinalStateUnknown, SharedInformer, isTombstone, type EventHandler } from './informer.js';
import { SharedInformerFactory, listerWatcherFor } from './informer-factory.js';
import { Resources } from './resources.js';
import { TransportError } from './transport.js';

const cm = (name: string, data: Record<string, string> = {}, labels?: Record<string, string>): ConfigMap => ({ metadata: { name, namespace: 'default', labels }, data });

/** Records what handlers see, as `add:name`, `update:name:oldValue->newValue`, `delete:name` / `tombstone:name`. */
function recorder() {
  const log: string[] = [];
  const handler: EventHandler<ConfigMap> = {
    onAdd: (o, initial) => log.push(`add:${o.metadata.name}${initial ? ':initial' : ''}`),
    onUpdate: (o, n) => log.push(`update:${n.metadata.name}:${o.data?.v ?? ''}->${n.data?.v ?? ''}`),
    onDelete: (o) => log.push(isTombstone(o) ? `tombstone:${o.obj.metadata.name}` : `delete:${o.metadata.name}`),
  };
  return { log, handler };
}

async function until(cond: () => boolean, clock?: FakeClock, stepMs = 100): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) {
    if (clock) await clock.advance(stepMs);
    else await new Promise((r) => setTimeout(r, 1));
  }
  expect(cond()).toBe(true);
}

function cacheState(inf: SharedInformer<ConfigMap>) {
  return inf
    .getIndexer()
    .list()
    .map((o) => `${o.metadata.name}=${o.metadata.resourceVersion}`)
    .sort();
}

async function serverState(f: FakeClient) {
  const l = await f.resource(Resources.configMaps, 'default').list();
  return l.items.map((o) => `${o.metadata.name}=${o.metadata.resourceVersion}`).sort();
}

const stops: AbortController[] = [];
afterEach(() => {
  for (const s of stops.splice(0)) s.abort();
});

function setup(opts: { clock?: FakeClock } = {}) {
  const clock = opts.clock ?? new FakeClock();
  const fake = new FakeClient(clock);
  const cms = fake.resource(Resources.configMaps, 'default');
  const inf = new SharedInformer<ConfigMap>({ lw: listerWatcherFor(cms), name: 'configmaps', clock });
  const ctl = new AbortController();
  stops.push(ctl);
  return { clock, fake, cms, inf, ctl, run: () => inf.start(ctl.signal) };
}

describe('SharedInformer', () => {
  test('lists, syncs, then follows watch events in order', async () => {
    const { fake, cms, inf, ctl, run } = setup();
    await cms.create(cm('a', { v: '1' }));
    await cms.create(cm('b', { v: '1' }));
    const r = recorder();
    inf.addEventHandler(r.handler);
    expect(inf.hasSynced()).toBe(false);
    const running = run();
    expect(await inf.waitForCacheSync(ctl.signal)).toBe(true);
    expect(r.log.sort()).toEqual(['add:a:initial', 'add:b:initial']);
    r.log.length = 0;
    await cms.create(cm('c', { v: '1' }));
    await cms.patch('a', 'merge', { data: { v: '2' } });
    await cms.delete('b');
    await until(() => r.log.length === 3);
    expect(r.log).toEqual(['add:c', 'update:a:1->2', 'delete:b']);
    expect(cacheState(inf)).toEqual(await serverState(fake));
    ctl.abort();
    await running;
  });

  test('cached objects are frozen: a handler cannot corrupt the cache', async () => {
    const { cms, inf, ctl, run } = setup();
    await cms.create(cm('a', { v: '1' }));
    let mutation: unknown;
    inf.addEventHandler({
      onAdd: (o) => {
        try {
          o.data!.v = 'changed';
        } catch (e) {
          mutation = e;
        }
      },
    });
    const running = run();
    await inf.waitForCacheSync();
    expect(mutation).toBeInstanceOf(TypeError);
    expect(inf.lister().namespace('default').get('a')?.data?.v).toBe('1');
    ctl.abort();
    await running;
  });

  test('a handler added after sync is told about every cached object; a failing handler does not stop others', async () => {
    const { cms, inf, ctl, run } = setup();
    await cms.create(cm('a'));
    const running = run();
    await inf.waitForCacheSync();
    inf.addEventHandler({
      onAdd: () => {
        throw new Error('boom');
      },
    });
    const r = recorder();
    const reg = inf.addEventHandler(r.handler);
    expect(r.log).toEqual(['add:a:initial']);
    expect(reg.hasSynced()).toBe(true);
    await cms.create(cm('b'));
    await until(() => r.log.length === 2);
    reg.remove();
    await cms.create(cm('c'));
    await until(() => inf.getIndexer().size === 3);
    expect(r.log).toEqual(['add:a:initial', 'add:b']);
    ctl.abort();
    await running;
  });

  test('a closed watch resumes from the last resourceVersion: no re-list, no missed event', async () => {
    const { clock, fake, cms, inf, ctl, run } = setup();
    const r = recorder();
    inf.addEventHandler(r.handler);
    const running = run();
    await inf.waitForCacheSync();
    await cms.create(cm('a', { v: '1' }));
    await until(() => r.log.length === 1);
    expect(fake.openWatches).toBe(1);
    fake.closeWatches(); // the API server restarts
    // Changes while the informer is between watches.
    await cms.patch('a', 'merge', { data: { v: '2' } });
    await cms.create(cm('b'));
    await until(() => r.log.length === 3, clock);
    expect(r.log).toEqual(['add:a', 'update:a:1->2', 'add:b']);
    expect(inf.stats.lists).toBe(1);
    expect(inf.stats.watches).toBeGreaterThanOrEqual(2);
    expect(cacheState(inf)).toEqual(await serverState(fake));
    ctl.abort();
    await running;
  });

  test('a 503 on re-watch (server shutting down) resumes the watch; a 403 makes it re-list', async () => {
    const { clock, fake, cms, inf, ctl, run } = setup();
    const r = recorder();
    inf.addEventHandler(r.handler);
    const running = run();
    await inf.waitForCacheSync();
    await until(() => fake.openWatches === 1);
    let refuse: Error | undefined = newServiceUnavailable('the server is shutting down');
    fake.prependReactor((a) => {
      if (a.verb === 'watch' && refuse) {
        const e = refuse;
        refuse = undefined;
        throw e;
      }
    });
    fake.closeWatches();
    await cms.create(cm('a'));
    await until(() => r.log.length === 1, clock);
    expect(r.log).toEqual(['add:a']);
    expect(inf.stats.lists).toBe(1);
    refuse = newForbidden({ group: '', resource: 'configmaps' }, '', 'no');
    fake.closeWatches();
    await until(() => inf.stats.lists === 2 && fake.openWatches === 1, clock);
    ctl.abort();
    await running;
  });

  test('410 after compaction: re-list, tombstones for what vanished, updates and adds for the rest', async () => {
    const { clock, fake, cms, inf, ctl, run } = setup();
    for (const n of ['keep', 'change', 'gone']) await cms.create(cm(n, { v: '1' }));
    const r = recorder();
    inf.addEventHandler(r.handler);
    // Stop watches from reaching the fake while we change things behind the informer's back.
    let down = true;
    const running = run();
    await inf.waitForCacheSync();
    await until(() => fake.openWatches === 1);
    const remove = fake.prependReactor((a) => {
      if (down && a.verb === 'watch') throw new TransportError('connect ECONNREFUSED', 'ECONNREFUSED', true);
    });
    fake.closeWatches();
    await cms.patch('change', 'merge', { data: { v: '2' } });
    await cms.delete('gone');
    await cms.create(cm('new', { v: '1' }));
    fake.compact(); // the history the informer would resume from is gone
    r.log.length = 0;
    down = false;
    remove();
    await until(() => inf.stats.expired === 1 && inf.stats.lists === 2, clock);
    expect(r.log.sort()).toEqual(['add:new', 'tombstone:gone', 'update:change:1->2', 'update:keep:1->1']);
    expect(cacheState(inf)).toEqual(await serverState(fake));
    ctl.abort();
    await running;
  });

  test('an ERROR 410 event on an open watch also makes it re-list', async () => {
    const { clock, fake, cms, inf, ctl, run } = setup();
    await cms.create(cm('a'));
    const running = run();
    await inf.waitForCacheSync();
    await until(() => fake.openWatches === 1);
    fake.expireWatches();
    await until(() => inf.stats.lists === 2, clock);
    expect(fake.actions.filter((a) => a.verb === 'list').length).toBe(2);
    ctl.abort();
    await running;
  });

  test('bookmarks move the resume point forward', async () => {
    const { fake, cms, inf, ctl, run } = setup();
    const other = fake.resource(Resources.secrets, 'default');
    const running = run();
    await inf.waitForCacheSync();
    const before = inf.lastSyncResourceVersion;
    await other.create({ metadata: { name: 's' } }); // moves the revision, not the configmaps
    fake.sendBookmarks();
    await until(() => inf.lastSyncResourceVersion !== before);
    expect(inf.lastSyncResourceVersion).toBe(fake.resourceVersion);
    void cms;
    ctl.abort();
    await running;
  });

  test('list failures back off exponentially (0.8s doubling, jittered) until the server answers', async () => {
    const { clock, fake, inf, ctl, run } = setup();
    const times: number[] = [];
    const remove = fake.prependReactor((a) => {
      if (a.verb !== 'list') return;
      times.push(clock.now());
      if (times.length <= 4) throw newInternalError(new Error('etcd is down'));
    });
    const running = run();
    await until(() => inf.hasSynced(), clock, 50);
    remove();
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps.length).toBe(4);
    gaps.forEach((g, i) => {
      expect(g).toBeGreaterThanOrEqual(800 * 2 ** i);
      expect(g).toBeLessThanOrEqual(1600 * 2 ** i + 50);
    });
    ctl.abort();
    await running;
  });

  test('resync reports every cached object to a handler each period', async () => {
    const { clock, cms, inf, ctl, run } = setup();
    await cms.create(cm('a', { v: '1' }));
    await cms.create(cm('b', { v: '1' }));
    const r = recorder();
    inf.addEventHandler(r.handler, { resyncPeriodMs: 30_000 });
    const running = run();
    await inf.waitForCacheSync();
    r.log.length = 0;
    await clock.advance(29_000);
    expect(r.log).toEqual([]);
    await clock.advance(1_000);
    expect(r.log.sort()).toEqual(['update:a:1->1', 'update:b:1->1']);
    await clock.advance(30_000);
    expect(r.log.length).toBe(4);
    ctl.abort();
    await running;
  });

  test('waitForCacheSync answers false when stopped before syncing', async () => {
    const { fake, inf } = setup();
    fake.prependReactor(() => {
      throw newInternalError(new Error('down'));
    });
    const ctl = new AbortController();
    const waiting = inf.waitForCacheSync(ctl.signal);
    ctl.abort();
    expect(await waiting).toBe(false);
  });
});

describe('SharedInformerFactory', () => {
  test('one informer (and one watch) per resource and scope, shared by every caller', async () => {
    const clock = new FakeClock();
    const fake = new FakeClient(clock);
    const factory = new SharedInformerFactory({ client: fake, clock });
    const a = factory.informerFor(Resources.configMaps);
    const b = factory.informerFor(Resources.configMaps);
    const web = factory.informerFor(Resources.configMaps, { labelSelector: 'app=web' });
    expect(a).toBe(b);
    expect(web).not.toBe(a);
    const ctl = new AbortController();
    const running = factory.start(ctl.signal);
    expect(await factory.waitForCacheSync(ctl.signal)).toBe(true);
    // An informer asked for after start is started too.
    const pods = factory.informerFor(Resources.pods);
    expect(await pods.waitForCacheSync(ctl.signal)).toBe(true);
    const cms = fake.resource(Resources.configMaps, 'default');
    await cms.create(cm('w', {}, { app: 'web' }));
    await cms.create(cm('x', {}, { app: 'db' }));
    await until(() => a.getIndexer().size === 2 && web.getIndexer().size === 1);
    expect(factory.lister(Resources.configMaps).list(parseLabelSelector('app=db')).map((o: KubeObject) => o.metadata.name)).toEqual(['x']);
    expect(fake.actions.filter((x) => x.verb === 'watch' && x.resource === 'configmaps').length).toBe(2);
    expect(fake.actions.filter((x) => x.verb === 'watch' && x.resource === 'pods').length).toBe(1);
    ctl.abort();
    await running;
  });

  test('DeletedFinalStateUnknown carries the last known state', () => {
    const t = new DeletedFinalStateUnknown('default/a', cm('a'));
    expect(isTombstone(t)).toBe(true);
    expect(t.obj.metadata.name).toBe('a');
  });
});
