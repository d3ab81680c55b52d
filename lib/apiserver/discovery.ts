/**
 * Discovery documents: /api, /apis, /apis/{group}, /api/v1 and /apis/{group}/{version} in the
 * legacy shapes (APIVersions, APIGroupList, APIGroup, APIResourceList) and the aggregated
 * apidiscovery.k8s.io/v2 shape kubectl 1.30+ asks for first.
 */
import { createHash } from 'node:crypto';
import type { AnyResourceType } from '../api/index.js';

interface SubresourceInfo {
  name: string;
  kind: string;
  group?: string;
  version?: string;
  verbs: string[];
}

/** Subresources as discovery lists them, with the kind each accepts and the verbs. */
function subresourceInfo(rt: AnyResourceType, sub: string): SubresourceInfo {
  switch (sub) {
    case 'status':
      return { name: 'status', kind: rt.kind, verbs: ['get', 'patch', 'update'] };
    case 'scale':
      return { name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] };
    case 'binding':
      return { name: 'binding', kind: 'Binding', verbs: ['create'] };
    case 'eviction':
      return { name: 'eviction', kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] };
    case 'log':
      return { name: 'log', kind: 'Pod', verbs: ['get'] };
    case 'exec':
      return { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] };
    case 'attach':
      return { name: 'attach', kind: 'PodAttachOptions', verbs: ['create', 'get'] };
    case 'portforward':
      return { name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] };
    case 'proxy':
      return { name: 'proxy', kind: rt.kind === 'Pod' ? 'PodProxyOptions' : rt.kind === 'Node' ? 'NodeProxyOptions' : 'ServiceProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] };
    case 'finalize':
      return { name: 'finalize', kind: rt.kind, verbs: ['update'] };
    case 'token':
      return { name: 'token', kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] };
    case 'ephemeralcontainers':
    case 'approval':
      return { name: sub, kind: rt.kind, verbs: ['get', 'patch', 'update'] };
    default:
      return { name: sub, kind: rt.kind, verbs: ['get'] };
  }
}

function storageVersionHash(rt: AnyResourceType): string {
  return createHash('sha256').update(`${rt.group}/${rt.version}/${rt.kind}`).digest('base64').slice(0, 11);
}

export interface GroupVersions {
  group: string;
  versions: string[];
}

/** The groups served, core first, then named groups in a stable order. */
export function groupsOf(resources: AnyResourceType[]): GroupVersions[] {
  const m = new Map<string, Set<string>>();
  for (const r of resources) {
    if (!m.has(r.group)) m.set(r.group, new Set());
    m.get(r.group)!.add(r.version);
  }
  const order = ['', 'apiregistration.k8s.io', 'apps', 'events.k8s.io', 'authentication.k8s.io', 'authorization.k8s.io', 'autoscaling', 'batch', 'certificates.k8s.io', 'networking.k8s.io', 'policy', 'rbac.authorization.k8s.io', 'storage.k8s.io', 'admissionregistration.k8s.io', 'apiextensions.k8s.io', 'scheduling.k8s.io', 'coordination.k8s.io', 'node.k8s.io', 'discovery.k8s.io', 'flowcontrol.apiserver.k8s.io', 'metrics.k8s.io'];
  return [...m.entries()]
    .sort(([a], [b]) => {
      const ia = order.indexOf(a);
      const ib = order.indexOf(b);
      return (ia < 0 ? 1000 : ia) - (ib < 0 ? 1000 : ib) || a.localeCompare(b);
    })
    .map(([group, versions]) => ({ group, versions: sortVersions([...versions]) }));
}

/** Kubernetes version priority: GA before beta before alpha, higher numbers first. */
export function sortVersions(vs: string[]): string[] {
  const rank = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [3, 0, 0, v] as const;
    return [m[2] === 'alpha' ? 2 : m[2] === 'beta' ? 1 : 0, -Number(m[1]), -Number(m[3] ?? 0), v] as const;
  };
  return vs.sort((a, b) => {
    const ra = rank(a);
    const rb = rank(b);
    for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return (ra[i] as number) - (rb[i] as number);
    return a.localeCompare(b);
  });
}

export function apiVersions(serverAddress: string) {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupEntry(g: GroupVersions) {
  const versions = g.versions.map((v) => ({ groupVersion: `${g.group}/${v}`, version: v }));
  return { name: g.group, versions, preferredVersion: versions[0] };
}

export function apiGroupList(resources: AnyResourceType[]) {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groupsOf(resources).filter((g) => g.group !== '').map(groupEntry) };
}

export function apiGroup(resources: AnyResourceType[], group: string) {
  const g = groupsOf(resources).find((x) => x.group === group);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(g) } : undefined;
}

export function apiResourceList(resources: AnyResourceType[], group: string, version: string) {
  const list = resources.filter((r) => r.group === group && r.version === version).sort((a, b) => a.resource.localeCompare(b.resource));
  if (list.length === 0) return undefined;
  const out: Record<string, unknown>[] = [];
  for (const r of list) {
    const entry: Record<string, unknown> = { name: r.resource, singularName: r.singularName, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs };
    if (r.shortNames.length) entry.shortNames = r.shortNames;
    if (r.categories.length) entry.categories = r.categories;
    entry.storageVersionHash = storageVersionHash(r);
    out.push(entry);
    for (const sub of r.subresources) {
      const s = subresourceInfo(r, sub);
      const e: Record<string, unknown> = { name: `${r.resource}/${s.name}`, singularName: '', namespaced: r.namespaced, kind: s.kind, verbs: s.verbs };
      if (s.group !== undefined) e.group = s.group;
      if (s.version !== undefined) e.version = s.version;
      out.push(e);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources: out };
}

/** The aggregated discovery document (apidiscovery.k8s.io/v2 or v2beta1). */
export function aggregatedDiscovery(resources: AnyResourceType[], core: boolean, apiVersion: 'v2' | 'v2beta1') {
  const groups = groupsOf(resources).filter((g) => (core ? g.group === '' : g.group !== ''));
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${apiVersion}`,
    metadata: {},
    items: groups.map((g) => ({
      metadata: { name: g.group, creationTimestamp: null },
      versions: g.versions.map((v) => ({
        version: v,
        resources: resources
          .filter((r) => r.group === g.group && r.version === v)
          .sort((a, b) => a.resource.localeCompare(b.resource))
          .map((r) => {
            const e: Record<string, unknown> = {
              resource: r.resource,
              responseKind: { group: r.group, version: r.version, kind: r.kind },
              scope: r.namespaced ? 'Namespaced' : 'Cluster',
              singularResource: r.singularName,
              verbs: r.verbs,
            };
            if (r.shortNames.length) e.shortNames = r.shortNames;
            if (r.categories.length) e.categories = r.categories;
            if (r.subresources.length)
              e.subresources = r.subresources.map((sub) => {
                const s = subresourceInfo(r, sub);
                return { subresource: s.name, responseKind: { group: s.group ?? r.group, version: s.version ?? r.version, kind: s.kind }, verbs: s.verbs };
              });
            return e;
          }),
        freshness: 'Current',
      })),
    })),
  };
}
