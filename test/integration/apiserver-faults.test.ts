/** Faults: an etcd member killed mid-run, the API server restarted. Nothing acknowledged is lost. */
import { afterAll, describe, expect, test } from 'vitest';
import { api, startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { startEtcd, type EtcdCluster } from '../support/etcd.js';
import { openWatch } from '../support/watch.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe('a 3-member etcd cluster', () => {
  test('keeps serving reads, writes and watches when a member is killed mid-run', async () => {
    const etcd = await startEtcd({ members: 3 });
    cleanups.push(() => etcd.stop());
    const s = await startAPIServer({ etcd });
    cleanups.push(() => s.stop());
    const list = await api(s.url, 'GET', '/api/v1/namespaces/default/configmaps');
    const w = await openWatch(s.url, `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${list.body.metadata.resourceVersion}`);

    const acknowledged: string[] = [];
    let stop = false;
    let failures = 0;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        const r = await api(s.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: `w${i}` }, data: { i: String(i) } }).catch(() => undefined);
        if (r?.status === 201) acknowledged.push(`w${i}`);
        else failures++;
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    // Kill every member in turn would lose quorum; kill one, which may be the one the client uses.
    await etcd.kill(0);
    const killedAt = acknowledged.length;
    // Writes resume once the client has failed over (and, if the leader died, after an election).
    const deadline = Date.now() + 25_000;
    while (acknowledged.length < killedAt + 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    stop = true;
    await writer;
    expect(acknowledged.length).toBeGreaterThanOrEqual(killedAt + 20);
    // Every acknowledged write is readable, and the watch saw every one of them.
    const after = await api(s.url, 'GET', '/api/v1/namespaces/default/configmaps');
    const stored = new Set(after.body.items.map((o: any) => o.metadata.name));
    for (const n of acknowledged) expect(stored.has(n), n).toBe(true);
    await w.waitFor(acknowledged.length, 15_000);
    w.close();
    const watched = new Set(w.events.filter((e) => e.type === 'ADDED').map((e) => e.object.metadata.name));
    for (const n of acknowledged) expect(watched.has(n), n).toBe(true);
    expect(failures).toBeLessThan(acknowledged.length);
  }, 60_000);
});

describe('an API server restart', () => {
  let etcd: EtcdCluster;
  let s: TestAPIServer;

  test('keeps allocations and lets watchers resume without a missed event', async () => {
    etcd = await startEtcd();
    cleanups.push(() => etcd.stop());
    s = await startAPIServer({ etcd, serviceClusterIPRange: '10.96.0.0/28' });
    const ips = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const r = await api(s.url, 'POST', '/api/v1/namespaces/default/services', { metadata: { name: `s${i}` }, spec: { ports: [{ port: 80 }] } });
      ips.add(r.body.spec.clusterIP);
    }
    const list = await api(s.url, 'GET', '/api/v1/namespaces/default/services');
    const rv = list.body.metadata.resourceVersion;
    await s.stop();

    const s2 = await startAPIServer({ etcd, serviceClusterIPRange: '10.96.0.0/28' });
    cleanups.push(() => s2.stop());
    // Writes that happen before the watcher comes back.
    for (let i = 5; i < 12; i++) {
      const r = await api(s2.url, 'POST', '/api/v1/namespaces/default/services', { metadata: { name: `s${i}` }, spec: { ports: [{ port: 80 }] } });
      expect(r.status).toBe(201);
      ips.add(r.body.spec.clusterIP);
    }
    // A /28 has 13 usable addresses besides the kubernetes service: all 12 distinct.
    expect(ips.size).toBe(12);
    const full = await api(s2.url, 'POST', '/api/v1/namespaces/default/services', { metadata: { name: 's-extra' }, spec: { ports: [{ port: 80 }] } });
    expect(full.status).toBe(201);
    const overflow = await api(s2.url, 'POST', '/api/v1/namespaces/default/services', { metadata: { name: 's-overflow' }, spec: { ports: [{ port: 80 }] } });
    expect(overflow.status).toBe(422);
    expect(overflow.body.message).toContain('range is full');

    const w = await openWatch(s2.url, `/api/v1/namespaces/default/services?watch=1&resourceVersion=${rv}`);
    // (The new server also updates the kubernetes service: it listens on another port.)
    const deadline = Date.now() + 10_000;
    const mine = () => w.events.filter((e) => e.object.metadata.name !== 'kubernetes');
    while (mine().length < 8 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    w.close();
    expect(mine().map((e) => `${e.type}:${e.object.metadata.name}`)).toEqual(['s5', 's6', 's7', 's8', 's9', 's10', 's11', 's-extra'].map((n) => `ADDED:${n}`));
  }, 60_000);
});
