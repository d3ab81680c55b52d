import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../base/index.js';
import { FakeProxyHost } from '../fake-host.js';
import { makeEndpointSlice, makeService } from '../objects.js';
import type { ProxyState } from '../state.js';
import { endpointChainName, serviceChainName } from './chain-names.js';
import { IptablesProxier, type IptablesProxierOptions } from './proxier.js';

const web = (affinity = false) =>
  makeService('ns1', 'web', {
    clusterIP: '10.96.0.10',
    type: 'NodePort',
    ports: [{ name: 'http', port: 80, nodePort: 30080 }],
    ...(affinity ? { sessionAffinity: 'ClientIP' as const } : {}),
  });
const cache = makeService('ns2', 'cache', { clusterIP: '10.96.0.20', ports: [{ port: 6379 }] });
const dns = makeService('kube-system', 'kube-dns', { clusterIP: '10.96.0.53', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] });

const webSlice = (ips: string[]) => makeEndpointSlice('ns1', 'web', ips.map((ip) => ({ ip })), [{ name: 'http', port: 8080 }]);
const cacheSlice = makeEndpointSlice('ns2', 'cache', [{ ip: '10.244.2.9' }], [{ port: 6379 }]);
const dnsSlice = (ips: string[]) => makeEndpointSlice('kube-system', 'kube-dns', ips.map((ip) => ({ ip })), [{ name: 'dns', port: 53, protocol: 'UDP' }]);

const state = (webIPs: string[], extra: Partial<ProxyState> = {}): ProxyState => ({
  services: [web(), cache, ...(extra.services ?? [])],
  endpointSlices: [webSlice(webIPs), cacheSlice, ...(extra.endpointSlices ?? [])],
});

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

function newProxier(host: FakeProxyHost, opts: Partial<IptablesProxierOptions> = {}) {
  return new IptablesProxier({
    host,
    log: silentLogger(),
    nodeName: 'node-1',
    nodeIPs: ['192.168.77.1'],
    clusterCIDR: '10.244.0.0/16',
    ...opts,
  });
}

/** Starts the loop; stopped after the test. */
function run(p: IptablesProxier) {
  const ctl = new AbortController();
  const done = p.start(ctl.signal);
  stops.push(async () => {
    ctl.abort();
    await done;
  });
}

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The kernel state a fresh full sync of `s` produces. */
async function fullSyncOf(s: ProxyState): Promise<FakeProxyHost> {
  const host = new FakeProxyHost();
  const p = newProxier(host);
  p.setState(s);
  await p.sync();
  return host;
}

describe('IptablesProxier', () => {
  it('does not sync until both services and endpoint slices are known', async () => {
    const host = new FakeProxyHost();
    const p = newProxier(host);
    p.onServiceAdd(web());
    p.onEndpointSliceAdd(webSlice(['10.244.1.2']));
    expect(await p.sync()).toBeUndefined();
    p.onServicesSynced();
    expect(await p.sync()).toBeUndefined();
    p.onEndpointSlicesSynced();
    const r = await p.sync();
    expect(r?.full).toBe(true);
    expect(host.restores).toHaveLength(1);
  });

  it('tells which state generation the kernel holds', async () => {
    const host = new FakeProxyHost();
    const p = newProxier(host);
    p.setState(state(['10.244.1.2']));
    const g1 = p.stateGeneration;
    expect(p.syncedGeneration).toBeLessThan(g1);
    await p.sync();
    expect(p.syncedGeneration).toBe(g1);
    p.setState(state(['10.244.1.3']));
    expect(p.stateGeneration).toBeGreaterThan(g1);
    host.failNextRestores(1);
    await expect(p.sync()).rejects.toThrow();
    expect(p.syncedGeneration).toBe(g1);
    await p.sync();
    expect(p.syncedGeneration).toBe(p.stateGeneration);
  });

  it('first sync is full: chains, rules and the jumps from the built-in chains', async () => {
    const host = new FakeProxyHost();
    const p = newProxier(host);
    p.setState(state(['10.244.1.2', '10.244.1.3']));
    await p.sync();
    expect(host.chainRules('nat', 'PREROUTING')).toEqual(['-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES']);
    expect(host.chainRules('nat', 'OUTPUT')).toEqual(['-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES']);
    expect(host.chainRules('nat', 'POSTROUTING')).toEqual(['-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING']);
    expect(host.chainRules('filter', 'FORWARD')).toEqual([
      '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
      '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
      '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    ]);
    const svc = serviceChainName('ns1/web:http', 'TCP');
    expect(host.chains('nat')).toContain(svc);
    expect(host.chainRules('nat', svc)!.filter((r) => r.includes('KUBE-SEP-'))).toHaveLength(2);
    // A second full sync does not duplicate the jumps.
    await p.sync({ full: true });
    expect(host.chainRules('nat', 'PREROUTING')).toHaveLength(1);
  });

  it('partial syncs write only changed services and leave the kernel as a full sync would', async () => {
    const host = new FakeProxyHost();
    const p = newProxier(host);
    p.setState(state(['10.244.1.2', '10.244.1.3', '10.244.1.4']));
    await p.sync();

    const next = state(['10.244.1.2', '10.244.1.3'], { services: [dns], endpointSlices: [dnsSlice(['10.244.1.5'])] });
    p.setState(next);
    const r = (await p.sync())!;
    expect(r.full).toBe(false);
    expect(r.changedServices.sort()).toEqual(['kube-system/kube-dns', 'ns1/web']);
    const removed = endpointChainName('ns1/web:http', 'TCP', '10.244.1.4:8080');
    expect(r.deletedChains).toEqual([removed]);
    expect(r.payload).toContain(`-X ${removed}`);
    // The unchanged service's chains are not in the payload.
    expect(r.payload).not.toContain(`:${serviceChainName('ns2/cache', 'TCP')}`);
    expect(host.saveTable('nat')).toBe((await fullSyncOf(next)).saveTable('nat'));
    expect(host.saveTable('filter')).toBe((await fullSyncOf(next)).saveTable('filter'));

    // Nothing changed: no per-service chain is written.
    const idle = (await p.sync())!;
    expect(idle.changedServices).toEqual([]);
    expect(idle.payload).not.toMatch(/^:KUBE-(SVC|SEP)-/m);
  });

  it('a deleted service loses all its chains', async () => {
    const host = new FakeProxyHost();
    const p = newProxier(host);
    p.setState(state(['10.244.1.2']));
    await p.sync();
    p.onServiceDelete(web());
    p.onEndpointSliceDelete(webSlice([]));
    await p.sync();
    expect(host.chains('nat').filter((c) => c.startsWith('KUBE-SVC-') || c.startsWith('KUBE-EXT-'))).toEqual([serviceChainName('ns2/cache', 'TCP')]);
    expect(host.saveTable('nat')).not.toContain('ns1/web');
  });

  it('removes leftovers of an earlier run on start, and only chains it owns', async () => {
    const host = new FakeProxyHost();
    await host.restore(
      [
        '*nat',
        ':KUBE-SVC-OLDOLDOLDOLDOLDO - [0:0]',
        ':KUBE-SEP-OLDOLDOLDOLDOLDO - [0:0]',
        ':KUBE-PORTALS-HOST - [0:0]',
        ':KUBE-KUBELET-CANARY - [0:0]',
        '-A KUBE-SEP-OLDOLDOLDOLDOLDO -j DNAT --to-destination 10.9.9.9:80',
        '-A KUBE-SVC-OLDOLDOLDOLDOLDO -j KUBE-SEP-OLDOLDOLDOLDOLDO',
        '-A KUBE-PORTALS-HOST -d 10.96.0.99 -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 40000',
        '-A OUTPUT -m comment --comment "handle ClusterIPs; NOTE: this must be before the NodePort rules" -j KUBE-PORTALS-HOST',
        'COMMIT',
        '*filter',
        ':KUBE-FIREWALL - [0:0]',
        '-A KUBE-FIREWALL -m mark --mark 0x8000/0x8000 -j DROP',
        '-A INPUT -j KUBE-FIREWALL',
        'COMMIT',
        '',
      ].join('\n'),
    );
    const p = newProxier(host);
    p.setState(state(['10.244.1.2']));
    const r = (await p.sync())!;
    expect(r.deletedChains.sort()).toEqual(['KUBE-PORTALS-HOST', 'KUBE-SEP-OLDOLDOLDOLDOLDO', 'KUBE-SVC-OLDOLDOLDOLDOLDO']);
    expect(host.chains('nat')).not.toContain('KUBE-PORTALS-HOST');
    expect(host.chains('nat')).toContain('KUBE-KUBELET-CANARY');
    expect(host.chainRules('filter', 'KUBE-FIREWALL')).toHaveLength(1);
    expect(host.chainRules('nat', 'OUTPUT')).toEqual(['-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES']);
  });

  it('a failed restore is reported, counted, and followed by a full sync', async () => {
    const host = new FakeProxyHost();
    const p = newProxier(host);
    p.setState(state(['10.244.1.2']));
    await p.sync();
    host.failNextRestores(1);
    p.setState(state(['10.244.1.3']));
    await expect(p.sync()).rejects.toThrow(/injected failure/);
    expect(p.metrics.render()).toMatch(/kubeproxy_sync_proxy_rules_iptables_restore_failures_total 1/);
    expect(p.metrics.render()).toMatch(/kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total 1/);
    const r = (await p.sync())!;
    expect(r.full).toBe(true);
    expect(host.saveTable('nat')).toBe((await fullSyncOf(state(['10.244.1.3']))).saveTable('nat'));
  });

  it('a partial sync onto flushed tables fails, and the full sync that follows repairs them', async () => {
    const host = new FakeProxyHost();
    const p = newProxier(host);
    p.setState(state(['10.244.1.2']));
    await p.sync();
    host.flushTable('nat');
    p.setState(state(['10.244.1.3']));
    await expect(p.sync()).rejects.toThrow(/Couldn't load target/);
    await p.sync();
    expect(host.saveTable('nat')).toBe((await fullSyncOf(state(['10.244.1.3']))).saveTable('nat'));
  });

  it('the loop re-creates flushed tables within one sync period', async () => {
    const host = new FakeProxyHost();
    const p = newProxier(host, { syncPeriodMs: 300, minSyncPeriodMs: 10 });
    p.setState(state(['10.244.1.2']));
    run(p);
    await until(() => p.lastSyncTime !== undefined);
    host.flushTable('nat');
    host.flushTable('filter');
    const flushedAt = Date.now();
    await until(() => host.chains('nat').includes('KUBE-SERVICES') && (host.chainRules('nat', 'PREROUTING') ?? []).length === 1, 2000);
    expect(Date.now() - flushedAt).toBeLessThan(300 + 250);
    expect(host.saveTable('filter')).toContain('-j KUBE-FORWARD');
  });

  it('a periodic full sync with nothing changed behind its back does not read iptables-save, and still deletes chains of services gone', async () => {
    const host = new FakeProxyHost();
    const p = newProxier(host);
    p.setState(state(['10.244.1.2'], { services: [dns], endpointSlices: [dnsSlice(['10.244.1.5'])] }));
    expect((await p.sync())!.full).toBe(true);
    expect(host.saves).toHaveLength(1);
    // The service goes away and the next sync happens to be a full one.
    p.onServiceDelete(dns);
    p.onEndpointSliceDelete(dnsSlice([]));
    const r = (await p.sync({ full: true }))!;
    expect(r.full).toBe(true);
    expect(host.saves).toHaveLength(1);
    const gone = [serviceChainName('kube-system/kube-dns:dns', 'UDP'), endpointChainName('kube-system/kube-dns:dns', 'UDP', '10.244.1.5:53')];
    expect(r.deletedChains.sort()).toEqual(gone.sort());
    for (const c of gone) expect(host.chains('nat')).not.toContain(c);
    // The jumps were checked, not re-inserted, and the kernel holds what a fresh full sync writes.
    expect(r.payload).toMatch(/^\*filter\n-C /);
    expect(r.payload).toContain('-C PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
    expect(r.payload).not.toMatch(/^-I /m);
    for (const t of ['nat', 'filter']) expect(host.saveTable(t)).toBe((await fullSyncOf(state(['10.244.1.2']))).saveTable(t));
    // Once more with nothing changed: still no save.
    await p.sync({ full: true });
    expect(host.saves).toHaveLength(1);
  });

  const tampering: [string, (host: FakeProxyHost) => Promise<void>][] = [
    ['the nat table is flushed (iptables -t nat -F)', async (host) => host.flushTable('nat', { keepChains: true })],
    ['the filter table is flushed and its chains deleted (-F, -X)', async (host) => host.flushTable('filter')],
    [
      'the KUBE-SERVICES jump is deleted from PREROUTING',
      (host) => host.restore('*nat\n-D PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\nCOMMIT\n'),
    ],
  ];
  for (const [what, tamper] of tampering) {
    it(`a periodic full sync after ${what} reads iptables-save and restores everything`, async () => {
      const host = new FakeProxyHost();
      const p = newProxier(host);
      const s = state(['10.244.1.2', '10.244.1.3']);
      p.setState(s);
      await p.sync();
      await tamper(host);
      const r = (await p.sync({ full: true }))!;
      expect(r.full).toBe(true);
      expect(host.saves).toHaveLength(2);
      // The check failed and changed nothing; the sync that followed read the tables and repaired them.
      expect(host.restores.at(-2)).toMatch(/^-C /m);
      for (const t of ['nat', 'filter']) expect(host.saveTable(t)).toBe((await fullSyncOf(s)).saveTable(t));
      // Tables changed behind its back are no failure of the proxier's.
      expect(p.metrics.render()).not.toMatch(/kubeproxy_sync_proxy_rules_iptables_restore_failures_total [1-9]/);
      // And the tables are trusted again.
      await p.sync({ full: true });
      expect(host.saves).toHaveLength(2);
    });
  }

  it('a periodic full sync re-creates a chain of ours deleted behind its back without reading iptables-save', async () => {
    const host = new FakeProxyHost();
    const p = newProxier(host);
    const s = state(['10.244.1.2']);
    p.setState(s);
    await p.sync();
    const svc = serviceChainName('ns2/cache', 'TCP');
    // Deleting a chain takes emptying it and every chain jumping to it (KUBE-SERVICES) first.
    await host.restore(`*nat\n-F KUBE-SERVICES\n-F ${svc}\n-X ${svc}\nCOMMIT\n`);
    expect(host.chains('nat')).not.toContain(svc);
    await p.sync({ full: true });
    expect(host.saves).toHaveLength(1);
    for (const t of ['nat', 'filter']) expect(host.saveTable(t)).toBe((await fullSyncOf(s)).saveTable(t));
  });

  it('full syncs read iptables-save again after a failed sync and after cleanup', async () => {
    const host = new FakeProxyHost();
    const p = newProxier(host);
    p.setState(state(['10.244.1.2']));
    await p.sync();
    // A restore that fails for another reason than a check is retried from iptables-save at once.
    host.failNextRestores(1);
    expect((await p.sync({ full: true }))!.full).toBe(true);
    expect(host.saves).toHaveLength(2);
    await p.sync({ full: true });
    expect(host.saves).toHaveLength(2);
    // When that fails too, the sync fails, and the next full sync reads iptables-save first.
    host.failNextRestores(2);
    await expect(p.sync({ full: true })).rejects.toThrow(/injected failure/);
    expect(host.saves).toHaveLength(3);
    await p.sync({ full: true });
    expect(host.saves).toHaveLength(4);
    await p.sync({ full: true });
    expect(host.saves).toHaveLength(4);
    await p.cleanup();
    expect(host.saves).toHaveLength(5);
    await p.sync();
    expect(host.saves).toHaveLength(6);
    expect(host.saveTable('nat')).toBe((await fullSyncOf(state(['10.244.1.2']))).saveTable('nat'));
  });

  it('rate-limits syncs to one per min-sync-period, and applies the last state', async () => {
    const host = new FakeProxyHost();
    const p = newProxier(host, { syncPeriodMs: 60_000, minSyncPeriodMs: 400 });
    p.setState(state(['10.244.1.2']));
    run(p);
    await until(() => host.restores.length === 1);
    const t0 = Date.now();
    for (let i = 3; i < 40; i++) p.setState(state([`10.244.1.${i}`]));
    await until(() => host.restores.length === 2, 2000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    await new Promise((r) => setTimeout(r, 100));
    expect(host.restores).toHaveLength(2);
    expect(host.saveTable('nat')).toContain('--to-destination 10.244.1.39:8080');
    expect(host.saveTable('nat')).not.toContain('10.244.1.38:8080');
  });

  it('retries a failed sync by itself', async () => {
    const host = new FakeProxyHost();
    const p = newProxier(host, { syncPeriodMs: 60_000, minSyncPeriodMs: 50 });
    host.failNextRestores(2);
    p.setState(state(['10.244.1.2']));
    run(p);
    await until(() => p.lastSyncTime !== undefined, 5000);
    expect(host.restores).toHaveLength(3);
    expect(host.saveTable('nat')).toContain('10.244.1.2:8080');
  });

  it('deletes conntrack entries of removed UDP endpoints, and of UDP services getting their first endpoint', async () => {
    const host = new FakeProxyHost();
    const p = newProxier(host);
    p.setState(state(['10.244.1.2'], { services: [dns], endpointSlices: [dnsSlice([])] }));
    await p.sync();
    expect(host.conntrackDeletes).toEqual([]);
    p.setState(state(['10.244.1.2'], { services: [dns], endpointSlices: [dnsSlice(['10.244.1.5', '10.244.1.6'])] }));
    await p.sync();
    expect(host.conntrackDeletes).toEqual([{ protocol: 'udp', origDst: '10.96.0.53' }]);
    host.conntrackDeletes.length = 0;
    p.setState(state(['10.244.1.3'], { services: [dns], endpointSlices: [dnsSlice(['10.244.1.6'])] }));
    await p.sync();
    // Only UDP: the TCP web endpoint change cleans nothing.
    expect(host.conntrackDeletes).toEqual([{ protocol: 'udp', origDst: '10.96.0.53', dstNat: '10.244.1.5' }]);
  });

  it('records sync latency and the last sync time', async () => {
    const host = new FakeProxyHost();
    const p = newProxier(host);
    p.setState(state(['10.244.1.2']));
    await p.sync();
    p.setState(state(['10.244.1.3']));
    await p.sync();
    const text = p.metrics.render();
    expect(text).toMatch(/kubeproxy_sync_proxy_rules_duration_seconds_count 2/);
    expect(text).toMatch(/kubeproxy_sync_full_proxy_rules_duration_seconds_count 1/);
    expect(text).toMatch(/kubeproxy_sync_partial_proxy_rules_duration_seconds_count 1/);
    const last = /^kubeproxy_sync_proxy_rules_last_timestamp_seconds (\S+)$/m.exec(text)![1]!;
    expect(Math.abs(Number(last) * 1000 - p.lastSyncTime!)).toBeLessThan(1);
  });

  it('cleanup removes every chain and jump it installed, and nothing else', async () => {
    const host = new FakeProxyHost();
    await host.restore('*nat\n:DOCKER - [0:0]\n-A PREROUTING -j DOCKER\nCOMMIT\n*filter\n:KUBE-FIREWALL - [0:0]\n-A INPUT -j KUBE-FIREWALL\nCOMMIT\n');
    const p = newProxier(host, { localhostNodePorts: true });
    p.setState(state(['10.244.1.2'], { services: [web(true)] }));
    await p.sync();
    expect(host.sysctls.get('net/ipv4/conf/all/route_localnet')).toBe('1');
    await p.cleanup();
    for (const t of ['nat', 'filter']) {
      expect(host.chains(t).filter((c) => c.startsWith('KUBE-') && c !== 'KUBE-FIREWALL')).toEqual([]);
      expect(host.saveTable(t)).not.toMatch(/-j KUBE-(?!FIREWALL)/);
    }
    expect(host.chainRules('nat', 'PREROUTING')).toEqual(['-A PREROUTING -j DOCKER']);
    expect(host.chainRules('filter', 'INPUT')).toEqual(['-A INPUT -j KUBE-FIREWALL']);
    // And the next sync starts over with a full sync.
    expect((await p.sync())!.full).toBe(true);
  });
});
