/** Reads for admission plugins: the watch cache first, storage for what it has not seen yet. */
import type { KubeObject } from '../../api/index.js';
import { newForbidden, type GroupResource } from '../../machinery/index.js';
import type { AdmissionAttributes, Registry } from '../../registry/index.js';

export async function lookup<T extends KubeObject>(registry: Registry, group: string, resource: string, namespace: string, name: string): Promise<T | null> {
  const store = registry.mustGet(group, resource);
  const key = store.rt.namespaced ? `${store.prefix}${namespace}/${name}` : `${store.prefix}${name}`;
  const cached = store.cache?.get(key)?.object;
  if (cached) return cached as T;
  return (await registry.storage.get(key)) as T | null;
}

/** Every object of a resource in a namespace, from the watch cache. */
export function listCached<T extends KubeObject>(registry: Registry, group: string, resource: string, namespace?: string): T[] {
  const store = registry.mustGet(group, resource);
  const items = store.cache?.list(namespace === undefined ? undefined : (o) => o.metadata.namespace === namespace).items ?? [];
  return items.map((c) => c.object as T);
}

/** Upstream's admission.NewForbidden: "<resource> "<name>" is forbidden: <why>". */
export function admissionForbidden(a: AdmissionAttributes, why: string) {
  const gr: GroupResource = { group: a.group, resource: a.resource };
  return newForbidden(gr, a.name, why);
}

/** Upstream's aggregate error text: one message as is, several in brackets. */
export function aggregate(msgs: string[]): string {
  return msgs.length === 1 ? msgs[0]! : `[${msgs.join(', ')}]`;
}

/** A pod create of the main resource (not a subresource). */
export function isPodCreate(a: AdmissionAttributes): boolean {
  return a.group === '' && a.resource === 'pods' && a.subresource === '' && a.operation === 'CREATE' && !!a.object;
}
