import { describe, expect, test } from 'vitest';
import { PlanError, adminAPIServerURL, apiserverURLFor, defaultClusterSpec, etcdInitialCluster, etcdServersFor, hostByName, planCluster } from './plan.js';

describe('planCluster', () => {
  test('the default: cp (etcd, control plane, node) at .10 and worker at .11; the host at .1', () => {
    const p = planCluster(defaultClusterSpec);
    expect(p.gatewayIP).toBe('192.168.56.1');
    expect(p.hosts).toEqual([
      { name: 'cp', ip: '192.168.56.10', etcd: true, controlPlane: true, node: true },
      { name: 'worker', ip: '192.168.56.11', etcd: false, controlPlane: false, node: true },
    ]);
    expect(etcdInitialCluster(p)).toBe('cp=http://192.168.56.10:2380');
    expect(apiserverURLFor(p, hostByName(p, 'worker'))).toBe('https://192.168.56.10:6443');
  });

  test('three etcd members: cp, cp2, cp3 stacked with an API server each, workers after them', () => {
    const p = planCluster({ ...defaultClusterSpec, etcdMembers: 3, workers: 2, networkCIDR: '10.77.0.0/16' });
    expect(p.hosts.map((h) => `${h.name}=${h.ip}`)).toEqual(['cp=10.77.0.10', 'cp2=10.77.0.11', 'cp3=10.77.0.12', 'worker=10.77.0.13', 'worker2=10.77.0.14']);
    expect(p.hosts.filter((h) => h.node).map((h) => h.name)).toEqual(['cp', 'worker', 'worker2']);
    expect(etcdInitialCluster(p)).toBe('cp=http://10.77.0.10:2380,cp2=http://10.77.0.11:2380,cp3=http://10.77.0.12:2380');
    // Each API server uses its own member first; each control-plane host's components their own API server.
    expect(etcdServersFor(p, hostByName(p, 'cp2'))).toBe('http://10.77.0.11:2379,http://10.77.0.10:2379,http://10.77.0.12:2379');
    expect(apiserverURLFor(p, hostByName(p, 'cp3'))).toBe('https://10.77.0.12:6443');
    expect(adminAPIServerURL(p)).toBe('https://10.77.0.10:6443');
  });

  test('refuses even member counts, overlapping ranges, networks too small', () => {
    expect(() => planCluster({ ...defaultClusterSpec, etcdMembers: 2 })).toThrow(/use 1, or 3/);
    expect(() => planCluster({ ...defaultClusterSpec, networkCIDR: '10.244.5.0/24' })).toThrow(/overlaps the cluster CIDR/);
    expect(() => planCluster({ ...defaultClusterSpec, networkCIDR: '192.168.56.0/29' })).toThrow(PlanError);
  });
});
