/**
 * NamespaceLifecycle: nothing is created in a namespace that does not exist or is being
 * deleted, and the system namespaces cannot be deleted.
 */
import type { Namespace } from '../../api/index.js';
import { newForbidden, newNotFound } from '../../machinery/index.js';
import type { Registry } from '../../registry/index.js';
import type { AdmissionPlugin } from './chain.js';

export const immortalNamespaces = ['default', 'kube-system', 'kube-public'];

/** How long after a namespace delete passes through here its state is read from etcd, not the cache. */
const liveLookupWindowMs = 30_000;

export function namespaceLifecycle(registry: Registry): AdmissionPlugin {
  // Namespaces deleted through this server a moment ago: the watch cache may not show them
  // Terminating yet, so they are looked up in storage (as upstream's forceLiveLookup cache).
  const recentlyDeleted = new Map<string, number>();
  const lookup = async (name: string): Promise<Namespace | null> => {
    const store = registry.mustGet('', 'namespaces');
    const deletedAt = recentlyDeleted.get(name);
    const live = deletedAt !== undefined && Date.now() - deletedAt < liveLookupWindowMs;
    if (deletedAt !== undefined && !live) recentlyDeleted.delete(name);
    const cached = live ? undefined : store.cache?.get(`${store.prefix}${name}`);
    if (cached) return cached.object as Namespace;
    // Not in the cache (maybe created a moment ago): ask storage.
    return (await registry.storage.get(`${store.prefix}${name}`)) as Namespace | null;
  };
  return {
    name: 'NamespaceLifecycle',
    async validate(a) {
      if (a.resource === 'namespaces' && a.group === '') {
        if (a.operation === 'DELETE' && immortalNamespaces.includes(a.name)) {
          throw newForbidden({ group: '', resource: 'namespaces' }, a.name, 'this namespace may not be deleted');
        }
        if (a.operation === 'DELETE') recentlyDeleted.set(a.name, Date.now());
        return;
      }
      if (!a.namespace || a.operation !== 'CREATE') return;
      // Subresource creates (binding, eviction) act on objects that already exist.
      if (a.subresource) return;
      const ns = await lookup(a.namespace);
      if (!ns) throw newNotFound({ group: '', resource: 'namespaces' }, a.namespace);
      if (ns.status?.phase === 'Terminating' || ns.metadata.deletionTimestamp) {
        // Upstream lets the namespace controller's own events through.
        if (a.resource === 'events' && a.group === '') return;
        throw newForbidden(
          { group: a.group, resource: a.resource },
          a.name,
          `unable to create new content in namespace ${a.namespace} because it is being terminated`,
        );
      }
    },
  };
}
