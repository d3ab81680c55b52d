import { describe, expect, it } from 'vitest';
import { silentLogger } from '../base/index.js';
import { MemoryStorage } from '../storage/index.js';
import { Registry } from './registry.js';

describe('Registry.storeOfKey (which resource an etcd key belongs to)', () => {
  const registry = new Registry({ storage: new MemoryStorage(), log: silentLogger(), prefix: '/registry', serviceCIDR: '10.96.0.0/12', nodePortRange: '30000-32767', eventTTLSeconds: 3600, watchCache: false });
  const of = (key: string) => registry.storeOfKey(key)?.rt;

  it('finds namespaced and cluster-scoped objects, and never a resource whose name only begins alike', () => {
    expect(of('/registry/pods/default/web')).toMatchObject({ group: '', resource: 'pods' });
    expect(of('/registry/podtemplates/default/web')).toMatchObject({ resource: 'podtemplates' });
    expect(of('/registry/nodes/n1')).toMatchObject({ resource: 'nodes' });
    expect(of('/registry/clusterroles/admin')).toMatchObject({ group: 'rbac.authorization.k8s.io', resource: 'clusterroles' });
    expect(of('/registry/nothing/default/x')).toBeUndefined();
    expect(of('/other/pods/default/x')).toBeUndefined();
    // The same answers as a scan over every store.
    for (const s of registry.all()) expect(registry.storeOfKey(`${s.prefix}ns/name`)?.prefix).toBe(s.prefix);
  });

  it('forgets a resource that is no longer served', () => {
    expect(of('/registry/cronjobs/default/c')).toMatchObject({ resource: 'cronjobs' });
    registry.remove('batch', 'cronjobs');
    expect(of('/registry/cronjobs/default/c')).toBeUndefined();
  });
});
