/** List and watch as Kubernetes serves them: selectors, paging, resume, bookmarks, 410 after compaction. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Etcd3 } from 'etcd3';
import { api, startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { openWatch } from '../support/watch.js';

let s: TestAPIServer;

beforeAll(async () => {
  // A small watch-cache window, so that old resourceVersions fall out of it during the test.
  s = await startAPIServer({ bookmarkIntervalMs: 300, watchCacheCapacity: 20 });
  await api(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'w' } });
});
afterAll(async () => s?.stop());

const cm = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, labels }, data: { k: name } });
const merge = { 'content-type': 'application/merge-patch+json' };

describe('label and field selectors', () => {
  test('equality- and set-based label selectors select as upstream', async () => {
    await api(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'sel' } });
    const objs: [string, Record<string, string>][] = [
      ['a', { a: 'b', e: 'x', g: '1' }],
      ['b', { a: 'b', c: 'd' }],
      ['c', { a: 'z', f: 'z' }],
      ['d', { e: 'y', h: '1' }],
    ];
    for (const [n, l] of objs) await api(s.url, 'POST', '/api/v1/namespaces/sel/configmaps', cm(n, l));
    const names = async (sel: string) => {
      const r = await api(s.url, 'GET', `/api/v1/namespaces/sel/configmaps?labelSelector=${encodeURIComponent(sel)}`);
      expect(r.status).toBe(200);
      return r.body.items.map((o: any) => o.metadata.name).sort();
    };
    expect(await names('a=b')).toEqual(['a', 'b']);
    expect(await names('a==b,c!=d')).toEqual(['a']);
    expect(await names('a!=b')).toEqual(['c', 'd']);
    expect(await names('e in (x,y)')).toEqual(['a', 'd']);
    expect(await names('f notin (z)')).toEqual(['a', 'b', 'd']);
    expect(await names('g')).toEqual(['a']);
    expect(await names('!h')).toEqual(['a', 'b', 'c']);
    expect(await names('a=b,c!=d,e in (x,y),f notin (z),g,!h')).toEqual(['a']);
    const bad = await api(s.url, 'GET', `/api/v1/namespaces/sel/configmaps?labelSelector=${encodeURIComponent('a in b')}`);
    expect(bad.status).toBe(400);
    expect(bad.body.reason).toBe('BadRequest');
  });

  test('field selectors on metadata and per-kind fields; unknown fields are refused', async () => {
    await api(s.url, 'POST', '/api/v1/namespaces/w/pods', { metadata: { name: 'p1' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x' }] } });
    await api(s.url, 'POST', '/api/v1/namespaces/w/pods', { metadata: { name: 'p2' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
    const byNode = await api(s.url, 'GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1');
    expect(byNode.body.items.map((p: any) => p.metadata.name)).toEqual(['p1']);
    const unbound = await api(s.url, 'GET', '/api/v1/namespaces/w/pods?fieldSelector=spec.nodeName%3D');
    expect(unbound.body.items.map((p: any) => p.metadata.name)).toEqual(['p2']);
    const pending = await api(s.url, 'GET', '/api/v1/namespaces/w/pods?fieldSelector=status.phase%3DPending,metadata.name!%3Dp1');
    expect(pending.body.items.map((p: any) => p.metadata.name)).toEqual(['p2']);
    const unknown = await api(s.url, 'GET', '/api/v1/namespaces/w/pods?fieldSelector=spec.bogus%3Dx');
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toBe('field label not supported: spec.bogus');
  });
});

describe('paging', () => {
  test('limit and continue walk every object exactly once at one resourceVersion', async () => {
    await api(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'page' } });
    for (let i = 0; i < 25; i++) await api(s.url, 'POST', '/api/v1/namespaces/page/configmaps', cm(`c${String(i).padStart(2, '0')}`));
    const seen: string[] = [];
    let cont = '';
    let rv = '';
    let pages = 0;
    for (;;) {
      const r = await api(s.url, 'GET', `/api/v1/namespaces/page/configmaps?limit=10${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
      expect(r.status).toBe(200);
      pages++;
      if (pages === 1) {
        rv = r.body.metadata.resourceVersion;
        expect(r.body.metadata.remainingItemCount).toBe(15);
        // A write between pages does not show up in later pages: the list is consistent.
        await api(s.url, 'POST', '/api/v1/namespaces/page/configmaps', cm('c99'));
      } else expect(r.body.metadata.resourceVersion).toBe(rv);
      seen.push(...r.body.items.map((o: any) => o.metadata.name));
      cont = r.body.metadata.continue;
      if (!cont) break;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `c${String(i).padStart(2, '0')}`));
  });

  test('a continue token older than etcd history is 410 Expired', async () => {
    const r = await api(s.url, 'GET', '/api/v1/namespaces/page/configmaps?limit=5');
    const cont = r.body.metadata.continue;
    await api(s.url, 'POST', '/api/v1/namespaces/page/configmaps', cm('after'));
    const etcd = new Etcd3({ hosts: s.etcd.endpoints.map((e) => e.replace('http://', '')) });
    const rev = (await etcd.get('x').exec()).header.revision;
    await etcd.kv.compact({ revision: rev, physical: true });
    etcd.close();
    const r2 = await api(s.url, 'GET', `/api/v1/namespaces/page/configmaps?limit=5&continue=${encodeURIComponent(cont)}`);
    expect(r2.status).toBe(410);
    expect(r2.body.reason).toBe('Expired');
    expect(r2.body.message).toContain('continue parameter is too old');
  });

  test('resourceVersion=0 lists from the watch cache', async () => {
    const created = await api(s.url, 'POST', '/api/v1/namespaces/page/configmaps', cm('cached'));
    const deadline = Date.now() + 5000;
    for (;;) {
      const r = await api(s.url, 'GET', '/api/v1/namespaces/page/configmaps?resourceVersion=0');
      expect(r.status).toBe(200);
      if (r.body.items.some((o: any) => o.metadata.name === 'cached')) {
        expect(Number(r.body.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(created.body.metadata.resourceVersion));
        break;
      }
      if (Date.now() > deadline) throw new Error('cache never caught up');
    }
  });
});

describe('watch', () => {
  test('streams ADDED, MODIFIED and DELETED as JSON lines', async () => {
    const list = await api(s.url, 'GET', '/api/v1/namespaces/w/configmaps');
    const w = await openWatch(s.url, `/api/v1/namespaces/w/configmaps?watch=true&resourceVersion=${list.body.metadata.resourceVersion}`);
    expect(w.status).toBe(200);
    await api(s.url, 'POST', '/api/v1/namespaces/w/configmaps', cm('x'));
    await api(s.url, 'PATCH', '/api/v1/namespaces/w/configmaps/x', { data: { k: 'v2' } }, merge);
    const del = await api(s.url, 'DELETE', '/api/v1/namespaces/w/configmaps/x');
    const evs = await w.waitFor(3);
    w.close();
    expect(evs.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(evs[1]!.object.data.k).toBe('v2');
    expect(evs[2]!.object.metadata.resourceVersion).toBe(String(Number(evs[1]!.object.metadata.resourceVersion) + 1));
    expect(Number(evs[2]!.object.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(del.body.metadata.resourceVersion));
  });

  test('resumes after a dropped connection with no event lost or repeated', async () => {
    await api(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'resume' } });
    const list = await api(s.url, 'GET', '/api/v1/namespaces/resume/configmaps');
    const w1 = await openWatch(s.url, `/api/v1/namespaces/resume/configmaps?watch=1&resourceVersion=${list.body.metadata.resourceVersion}`);
    for (let i = 0; i < 5; i++) await api(s.url, 'POST', '/api/v1/namespaces/resume/configmaps', cm(`r${i}`));
    const first = await w1.waitFor(5);
    w1.close();
    const lastRV = first[4]!.object.metadata.resourceVersion;
    // Changes while the client is away.
    for (let i = 5; i < 10; i++) await api(s.url, 'POST', '/api/v1/namespaces/resume/configmaps', cm(`r${i}`));
    await api(s.url, 'DELETE', '/api/v1/namespaces/resume/configmaps/r0');
    const w2 = await openWatch(s.url, `/api/v1/namespaces/resume/configmaps?watch=1&resourceVersion=${lastRV}`);
    await api(s.url, 'POST', '/api/v1/namespaces/resume/configmaps', cm('r10'));
    const second = await w2.waitFor(7);
    await new Promise((r) => setTimeout(r, 200));
    w2.close();
    expect(w2.events).toHaveLength(7);
    expect(second.map((e) => `${e.type}:${e.object.metadata.name}`)).toEqual([
      'ADDED:r5', 'ADDED:r6', 'ADDED:r7', 'ADDED:r8', 'ADDED:r9', 'DELETED:r0', 'ADDED:r10',
    ]);
  });

  test('a watch from a compacted resourceVersion gets a 410 Expired ERROR event', async () => {
    const first = await api(s.url, 'POST', '/api/v1/namespaces/w/configmaps', cm('old'));
    const oldRV = Number(first.body.metadata.resourceVersion);
    for (let i = 0; i < 30; i++) await api(s.url, 'PATCH', '/api/v1/namespaces/w/configmaps/old', { data: { i: String(i) } }, merge);
    const etcd = new Etcd3({ hosts: s.etcd.endpoints.map((e) => e.replace('http://', '')) });
    const rev = Number((await etcd.get('x').exec()).header.revision);
    await etcd.kv.compact({ revision: String(rev), physical: true });
    etcd.close();
    // Older than both etcd's history and the cache's window (20 events).
    const w = await openWatch(s.url, `/api/v1/namespaces/w/configmaps?watch=1&resourceVersion=${oldRV}`);
    await w.ended;
    const last = w.events[w.events.length - 1]!;
    expect(last.type).toBe('ERROR');
    expect(last.object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
  });

  test('selectors apply to watches: an object that stops matching is DELETED, one that starts is ADDED', async () => {
    const list = await api(s.url, 'GET', '/api/v1/namespaces/w/configmaps');
    const w = await openWatch(s.url, `/api/v1/namespaces/w/configmaps?watch=1&labelSelector=team%3Dblue&resourceVersion=${list.body.metadata.resourceVersion}`);
    await api(s.url, 'POST', '/api/v1/namespaces/w/configmaps', cm('m1', { team: 'red' }));
    await api(s.url, 'PATCH', '/api/v1/namespaces/w/configmaps/m1', { metadata: { labels: { team: 'blue' } } }, merge);
    await api(s.url, 'PATCH', '/api/v1/namespaces/w/configmaps/m1', { data: { x: '1' } }, merge);
    await api(s.url, 'PATCH', '/api/v1/namespaces/w/configmaps/m1', { metadata: { labels: { team: 'green' } } }, merge);
    await api(s.url, 'DELETE', '/api/v1/namespaces/w/configmaps/m1');
    const evs = await w.waitFor(3);
    await new Promise((r) => setTimeout(r, 200));
    w.close();
    expect(w.events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(evs[2]!.object.metadata.labels.team).toBe('green');
  });

  test('without a resourceVersion a watch starts with the current objects as ADDED; bookmarks carry progress', async () => {
    await api(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'bm' } });
    await api(s.url, 'POST', '/api/v1/namespaces/bm/configmaps', cm('one'));
    await api(s.url, 'POST', '/api/v1/namespaces/bm/configmaps', cm('two'));
    const w = await openWatch(s.url, '/api/v1/namespaces/bm/configmaps?watch=1&allowWatchBookmarks=true');
    const initial = await w.waitFor(2);
    expect(initial.map((e) => `${e.type}:${e.object.metadata.name}`).sort()).toEqual(['ADDED:one', 'ADDED:two']);
    // Activity elsewhere moves the cluster's revision; bookmarks report it.
    await api(s.url, 'POST', '/api/v1/namespaces/w/configmaps', cm('elsewhere'));
    const deadline = Date.now() + 5000;
    while (!w.events.some((e) => e.type === 'BOOKMARK')) {
      if (Date.now() > deadline) throw new Error('no bookmark');
      await new Promise((r) => setTimeout(r, 50));
    }
    w.close();
    const bm = w.events.find((e) => e.type === 'BOOKMARK')!;
    expect(bm.object).toMatchObject({ kind: 'ConfigMap', apiVersion: 'v1' });
    expect(Number(bm.object.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(initial[1]!.object.metadata.resourceVersion));
  });

  test('one etcd watch serves many watchers', async () => {
    const list = await api(s.url, 'GET', '/api/v1/namespaces/w/configmaps');
    const ws = await Promise.all(Array.from({ length: 50 }, () => openWatch(s.url, `/api/v1/namespaces/w/configmaps?watch=1&resourceVersion=${list.body.metadata.resourceVersion}`)));
    await api(s.url, 'POST', '/api/v1/namespaces/w/configmaps', cm('fan'));
    const got = await Promise.all(ws.map((w) => w.waitFor(1)));
    for (const w of ws) w.close();
    expect(got.every((e) => e[0]!.object.metadata.name === 'fan')).toBe(true);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/apiserver_registered_watchers\{group="",resource="configmaps"\} \d+/);
  });
});

describe('a stored value that cannot be decoded (written to etcd around the API server)', () => {
  const etcdClient = () => new Etcd3({ hosts: s.etcd.endpoints.map((e) => e.replace('http://', '')) });

  test('reads from the watch cache fail with a 500 naming the key, as reads from etcd do, until it is gone', async () => {
    await api(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'rot' } });
    await api(s.url, 'POST', '/api/v1/namespaces/rot/secrets', { metadata: { name: 'before' }, stringData: { a: 'b' } });
    const etcd = etcdClient();
    try {
      await etcd.put('/registry/secrets/rot/bad').value('{"kind":"Secret", not json');
      const later = await api(s.url, 'POST', '/api/v1/namespaces/rot/secrets', { metadata: { name: 'later' } });
      const rv = later.body.metadata.resourceVersion;
      // From the cache (not older than the write after the bad value), then from etcd.
      for (const q of [`resourceVersion=${rv}`, '']) {
        const r = await api(s.url, 'GET', `/api/v1/namespaces/rot/secrets?${q}`);
        expect(r.status, q).toBe(500);
        expect(r.body).toMatchObject({ kind: 'Status', reason: 'InternalError' });
        expect(r.body.message).toContain('/registry/secrets/rot/bad');
      }
      const one = await api(s.url, 'GET', '/api/v1/namespaces/rot/secrets/bad?resourceVersion=0');
      expect(one.status).toBe(500);
      expect(one.body.message).toContain('/registry/secrets/rot/bad');
      // The other objects still read one by one, and the server still serves.
      expect((await api(s.url, 'GET', '/api/v1/namespaces/rot/secrets/later?resourceVersion=0')).status).toBe(200);

      await etcd.delete().key('/registry/secrets/rot/bad');
      const after = await api(s.url, 'POST', '/api/v1/namespaces/rot/secrets', { metadata: { name: 'after' } });
      const r = await api(s.url, 'GET', `/api/v1/namespaces/rot/secrets?resourceVersion=${after.body.metadata.resourceVersion}`);
      expect(r.status).toBe(200);
      expect(r.body.items.map((o: any) => o.metadata.name)).toEqual(['after', 'before', 'later']);
    } finally {
      etcd.close();
    }
  });

  test('watchers skip its event and go on with the next', async () => {
    await api(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'rot2' } });
    const list = await api(s.url, 'GET', '/api/v1/namespaces/rot2/configmaps');
    const all = await openWatch(s.url, `/api/v1/namespaces/rot2/configmaps?watch=1&resourceVersion=${list.body.metadata.resourceVersion}`);
    const selected = await openWatch(s.url, `/api/v1/namespaces/rot2/configmaps?watch=1&labelSelector=app%3Dx&resourceVersion=${list.body.metadata.resourceVersion}`);
    const etcd = etcdClient();
    try {
      await etcd.put('/registry/configmaps/rot2/bad').value('not json at all');
      await api(s.url, 'POST', '/api/v1/namespaces/rot2/configmaps', cm('next', { app: 'x' }));
      for (const w of [all, selected]) {
        const [ev] = await w.waitFor(1);
        expect(ev).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'next' } } });
      }
      await etcd.delete().key('/registry/configmaps/rot2/bad');
      await api(s.url, 'DELETE', '/api/v1/namespaces/rot2/configmaps/next');
      const evs = await all.waitFor(2);
      expect(evs.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED next', 'DELETED next']);
    } finally {
      all.close();
      selected.close();
      etcd.close();
    }
  });
});
