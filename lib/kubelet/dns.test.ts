import { describe, expect, it } from 'vitest';
import type { Pod } from '../api/index.js';
import { effectiveDNSPolicy, formatResolvConf, hostsFileContent, parseResolvConf, podDNS, podHostnameAndDomain, podKernelHostname, type DNSSettings } from './dns.js';

const host = parseResolvConf('# host\nnameserver 192.168.1.1\nnameserver 192.168.1.2\nsearch corp.example lab.example\noptions timeout:2 edns0\n');
const settings: DNSSettings = { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', hostResolvConf: host };

function pod(spec: Partial<NonNullable<Pod['spec']>> = {}, name = 'web-0', ns = 'shop'): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, uid: 'u1' }, spec: { containers: [{ name: 'c' }], ...spec } };
}

describe('parseResolvConf / formatResolvConf', () => {
  it('reads nameservers, the last search or domain line and options', () => {
    expect(host).toEqual({ nameservers: ['192.168.1.1', '192.168.1.2'], searches: ['corp.example', 'lab.example'], options: ['timeout:2', 'edns0'] });
    expect(parseResolvConf('search a b\ndomain c\n').searches).toEqual(['c']);
    expect(formatResolvConf({ nameservers: ['1.1.1.1'], searches: ['a', 'b'], options: ['ndots:5'] })).toBe('search a b\nnameserver 1.1.1.1\noptions ndots:5\n');
  });
});

describe('podDNS', () => {
  it.each([
    ['ClusterFirst', {}, { nameservers: ['10.96.0.10'], searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'lab.example'], options: ['ndots:5'] }],
    ['Default', { dnsPolicy: 'Default' as const }, { nameservers: ['192.168.1.1', '192.168.1.2'], searches: ['corp.example', 'lab.example'], options: ['timeout:2', 'edns0'] }],
    ['None with dnsConfig', { dnsPolicy: 'None' as const, dnsConfig: { nameservers: ['9.9.9.9'], searches: ['x.example'], options: [{ name: 'ndots', value: '2' }] } }, { nameservers: ['9.9.9.9'], searches: ['x.example'], options: ['ndots:2'] }],
    [
      'ClusterFirst with dnsConfig merged',
      { dnsConfig: { nameservers: ['9.9.9.9'], searches: ['svc.cluster.local', 'extra.example'], options: [{ name: 'ndots', value: '1' }, { name: 'single-request' }] } },
      { nameservers: ['10.96.0.10', '9.9.9.9'], searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'lab.example', 'extra.example'], options: ['ndots:1', 'single-request'] },
    ],
    ['ClusterFirstWithHostNet on the host network', { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' as const }, { nameservers: ['10.96.0.10'], searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'lab.example'], options: ['ndots:5'] }],
  ])('%s', (_name, spec, want) => {
    expect(podDNS(pod(spec), settings)).toEqual({ resolvConf: want });
  });

  it('leaves host-network pods with ClusterFirst or Default to the node resolver', () => {
    expect(effectiveDNSPolicy(pod({ hostNetwork: true }))).toBe('Default');
    expect(podDNS(pod({ hostNetwork: true }), settings)).toEqual({});
    expect(podDNS(pod({ hostNetwork: true, dnsPolicy: 'Default' }), settings)).toEqual({});
  });

  it('falls back to the node resolver without --cluster-dns, and says so', () => {
    const r = podDNS(pod(), { ...settings, clusterDNS: [] });
    expect(r.missingClusterDNS).toBe(true);
    expect(r.resolvConf?.nameservers).toEqual(['192.168.1.1', '192.168.1.2']);
  });

  it('keeps at most 3 nameservers and 32 search domains', () => {
    const r = podDNS(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4'], searches: Array.from({ length: 40 }, (_, i) => `d${i}.example`) } }), settings);
    expect(r.resolvConf?.nameservers).toHaveLength(3);
    expect(r.resolvConf?.searches).toHaveLength(32);
  });
});

describe('hostnames and /etc/hosts', () => {
  it('uses spec.hostname and subdomain for the FQDN', () => {
    expect(podHostnameAndDomain(pod({ hostname: 'db', subdomain: 'backend' }), 'cluster.local')).toEqual({ hostname: 'db', domain: 'backend.shop.svc.cluster.local' });
    expect(podKernelHostname(pod({ hostname: 'db', subdomain: 'backend', setHostnameAsFQDN: true }), 'cluster.local')).toBe('db.backend.shop.svc.cluster.local');
    expect(podHostnameAndDomain(pod({}, 'a'.repeat(62) + '-b'), 'cluster.local').hostname).toBe('a'.repeat(62));
  });

  it('writes the managed hosts file with the pod entry and host aliases', () => {
    const text = hostsFileContent(pod({ hostname: 'db', subdomain: 'backend', hostAliases: [{ ip: '10.1.2.3', hostnames: ['foo.local', 'bar.local'] }] }), ['10.244.1.5'], 'cluster.local');
    expect(text).toBe(
      [
        '# Kubernetes-managed hosts file.',
        '127.0.0.1\tlocalhost',
        '::1\tlocalhost ip6-localhost ip6-loopback',
        'fe00::0\tip6-localnet',
        'fe00::0\tip6-mcastprefix',
        'fe00::1\tip6-allnodes',
        'fe00::2\tip6-allrouters',
        '10.244.1.5\tdb.backend.shop.svc.cluster.local\tdb',
        '',
        '# Entries added by HostAliases.',
        '10.1.2.3\tfoo.local\tbar.local',
        '',
      ].join('\n'),
    );
    expect(hostsFileContent(pod(), ['10.244.1.6'], 'cluster.local')).toContain('10.244.1.6\tweb-0\n');
  });
});
