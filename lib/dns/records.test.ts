import { describe, expect, it } from 'vitest';
import { makeEndpointSlice, makeService } from '../proxy/index.js';
import { ClusterDnsRecords, dashedIP, reverseName } from './records.js';

const data = (r: { answers: unknown[] }) => r.answers.map((a) => (a as { data: unknown }).data);

describe('reverseName', () => {
  it('builds in-addr.arpa and ip6.arpa names', () => {
    expect(reverseName('10.96.0.1')).toBe('1.0.96.10.in-addr.arpa');
    expect(reverseName('fd00::1')).toBe('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa');
    expect(reverseName('nope')).toBeUndefined();
    expect(dashedIP('10.244.1.2')).toBe('10-244-1-2');
  });
});

describe('ClusterDnsRecords', () => {
  const v6 = makeService('ns', 'v6', { clusterIP: 'fd00::10', ports: [{ name: 'http', port: 80 }] });
  const dual = { ...makeService('ns', 'dual', { clusterIP: '10.96.0.20', ports: [{ port: 80 }] }) };
  dual.spec = { ...dual.spec, clusterIPs: ['10.96.0.20', 'fd00::20'] };
  const peers = makeService('ns', 'peers', { clusterIP: 'None', ports: [{ name: 'gossip', port: 7000 }], publishNotReadyAddresses: true });
  const state = {
    services: [v6, dual, peers],
    endpointSlices: [makeEndpointSlice('ns', 'peers', [{ ip: '10.244.1.5', hostname: 'peer-0', ready: false }], [{ name: 'gossip', port: 7000 }])],
  };

  it('answers AAAA for IPv6 cluster IPs, both families for dual-stack, and ip6.arpa PTR', () => {
    const r = new ClusterDnsRecords({ clusterDomain: 'Tkube.Test.' });
    r.update(state);
    expect(data(r.lookup('v6.ns.svc.tkube.test', 'AAAA'))).toEqual(['fd00::10']);
    expect(r.lookup('v6.ns.svc.tkube.test', 'A')).toMatchObject({ kind: 'answer', answers: [] });
    expect(data(r.lookup('dual.ns.svc.tkube.test', 'ANY'))).toEqual(['10.96.0.20', 'fd00::20']);
    expect(data(r.lookup(reverseName('fd00::20')!, 'PTR'))).toEqual(['dual.ns.svc.tkube.test']);
    expect(r.lookup('v6.ns.svc.cluster.local', 'A').kind).toBe('forward');
  });

  it('publishes not-ready endpoints of services that ask for it', () => {
    const r = new ClusterDnsRecords();
    r.update(state);
    expect(data(r.lookup('peer-0.peers.ns.svc.cluster.local', 'A'))).toEqual(['10.244.1.5']);
  });

  it('pod records: insecure answers any IP, verified only endpoint IPs of the namespace, disabled none', () => {
    const insecure = new ClusterDnsRecords();
    const verified = new ClusterDnsRecords({ podRecords: 'verified' });
    const disabled = new ClusterDnsRecords({ podRecords: 'disabled' });
    for (const r of [insecure, verified, disabled]) r.update(state);
    expect(data(insecure.lookup('1-2-3-4.ns.pod.cluster.local', 'A'))).toEqual(['1.2.3.4']);
    expect(verified.lookup('1-2-3-4.ns.pod.cluster.local', 'A').kind).toBe('nxdomain');
    expect(data(verified.lookup('10-244-1-5.ns.pod.cluster.local', 'A'))).toEqual(['10.244.1.5']);
    expect(verified.lookup('10-244-1-5.other.pod.cluster.local', 'A').kind).toBe('nxdomain');
    expect(disabled.lookup('1-2-3-4.ns.pod.cluster.local', 'A').kind).toBe('nxdomain');
    expect(data(insecure.lookup('fd00--1.ns.pod.cluster.local', 'AAAA'))).toEqual(['fd00::1']);
  });

  it('answers the zone apex SOA and NS, and grows the SOA serial on updates', () => {
    const r = new ClusterDnsRecords();
    r.update(state);
    const soa = r.lookup('cluster.local', 'SOA');
    expect(soa.answers[0]).toMatchObject({ type: 'SOA', name: 'cluster.local' });
    expect(data(r.lookup('cluster.local', 'NS'))).toEqual(['ns.dns.cluster.local']);
    const before = (r.soa().data.serial ?? 0);
    r.update(state);
    expect(r.soa().data.serial).toBeGreaterThan(before);
  });

  it('uses the TTL it is given', () => {
    const r = new ClusterDnsRecords({ ttl: 5 });
    r.update(state);
    expect(r.lookup('dual.ns.svc.cluster.local', 'A').answers[0]).toMatchObject({ ttl: 5 });
    expect(r.lookup('nope.ns.svc.cluster.local', 'A').authorities[0]).toMatchObject({ ttl: 5 });
  });
});
