/**
 * The EndpointSlice plan for one service, without I/O: which slices to create, update and
 * delete so that the service's endpoints are covered by slices of at most `maxPerSlice`
 * endpoints, one port set per slice, with as few writes as possible:
 *
 *   1. endpoints already in a slice stay there (updated in place when they changed);
 *   2. endpoints that left are removed from their slice; an emptied slice is deleted;
 *   3. new endpoints fill the slices being written anyway, then other slices with room,
 *      then new slices;
 *   4. a service without endpoints keeps one empty "placeholder" slice, as upstream, so that
 *      consumers can tell "no endpoints" from "not processed yet".
 */
import type { EndpointSlice, Pod, Service } from '../../api/index.js';
import { jsonEqual } from '../../machinery/index.js';
import { findPort, headlessLabel, hostnameFor, isHeadless, isPodReady, podIPv4, shouldPodBeInEndpoints } from '../endpoints/index.js';

export const managedByLabel = 'endpointslice.kubernetes.io/managed-by';
export const controllerName = 'endpointslice-controller.k8s.io';
export const serviceNameLabel = 'kubernetes.io/service-name';
export const zoneLabel = 'topology.kubernetes.io/zone';

export type SliceEndpoint = EndpointSlice['endpoints'][number];
export type SlicePort = NonNullable<EndpointSlice['ports']>[number];

export interface DesiredEndpoint {
  /** What identifies the endpoint across updates: its pod's uid (or its address). */
  key: string;
  endpoint: SliceEndpoint;
  ports: SlicePort[];
}

export interface SlicePlan {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

function sortPorts(ports: SlicePort[]): SlicePort[] {
  return [...ports].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || (a.port ?? 0) - (b.port ?? 0) || (a.protocol ?? '').localeCompare(b.protocol ?? ''));
}

export function portsKey(ports: SlicePort[] | undefined): string {
  return JSON.stringify(sortPorts(ports ?? []).map((p) => [p.name ?? '', p.port ?? 0, p.protocol ?? 'TCP', p.appProtocol ?? '']));
}

function endpointKey(ep: SliceEndpoint): string {
  return ep.targetRef?.uid ?? ep.addresses[0] ?? '';
}

/** The endpoint a pod contributes to a service's slices, or undefined if it contributes none. */
export function desiredEndpointFor(svc: Service, pod: Pod, zoneOfNode: (node: string) => string | undefined): DesiredEndpoint | undefined {
  if (!shouldPodBeInEndpoints(pod, true)) return undefined;
  const ip = podIPv4(pod);
  if (!ip) return undefined;
  const publishNotReady = !!svc.spec?.publishNotReadyAddresses;
  const serving = publishNotReady || isPodReady(pod);
  const terminating = !!pod.metadata.deletionTimestamp;
  // "ready" is never true for a terminating pod, unless the service publishes not-ready addresses.
  const ready = publishNotReady || (serving && !terminating);
  const endpoint: SliceEndpoint = { addresses: [ip], conditions: { ready, serving, terminating } };
  const hostname = hostnameFor(pod, svc);
  if (hostname) endpoint.hostname = hostname;
  endpoint.targetRef = { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid };
  if (pod.spec?.nodeName) {
    endpoint.nodeName = pod.spec.nodeName;
    const zone = zoneOfNode(pod.spec.nodeName);
    if (zone) endpoint.zone = zone;
  }
  const ports: SlicePort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const p: SlicePort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) p.appProtocol = sp.appProtocol;
    ports.push(p);
  }
  return { key: pod.metadata.uid ?? ip, endpoint, ports: sortPorts(ports) };
}

/** The labels every slice of the service carries. */
export function sliceLabels(svc: Service): Record<string, string> {
  const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
  delete labels[headlessLabel];
  if (isHeadless(svc)) labels[headlessLabel] = '';
  labels[serviceNameLabel] = svc.metadata.name!;
  labels[managedByLabel] = controllerName;
  return labels;
}

function newSlice(svc: Service, ports: SlicePort[], endpoints: SliceEndpoint[]): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: `${svc.metadata.name}-`,
      namespace: svc.metadata.namespace,
      labels: sliceLabels(svc),
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: svc.metadata.name!, uid: svc.metadata.uid!, controller: true, blockOwnerDeletion: true }],
    },
    addressType: 'IPv4',
    endpoints,
    ports,
  };
}

/** Whether a slice belongs to this incarnation of the service (a service re-created under the same name has a new uid). */
function ownedBy(slice: EndpointSlice, svc: Service): boolean {
  const refs = slice.metadata.ownerReferences ?? [];
  return refs.length === 0 || refs.some((r) => r.uid === svc.metadata.uid);
}

export function planSlices(svc: Service, desired: DesiredEndpoint[], existing: EndpointSlice[], maxPerSlice: number): SlicePlan {
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const labels = sliceLabels(svc);
  const usable: EndpointSlice[] = [];
  for (const s of existing) {
    if (s.addressType !== 'IPv4' || !ownedBy(s, svc)) plan.delete.push(s);
    else usable.push(s);
  }

  const desiredByPorts = new Map<string, { ports: SlicePort[]; eps: Map<string, DesiredEndpoint> }>();
  for (const d of desired) {
    const k = portsKey(d.ports);
    let g = desiredByPorts.get(k);
    if (!g) desiredByPorts.set(k, (g = { ports: d.ports, eps: new Map() }));
    g.eps.set(d.key, d);
  }
  const slicesByPorts = new Map<string, EndpointSlice[]>();
  for (const s of usable) {
    const k = portsKey(s.ports);
    if (!slicesByPorts.has(k)) slicesByPorts.set(k, []);
    slicesByPorts.get(k)!.push(s);
  }

  const kept: EndpointSlice[] = [];
  for (const [k, slices] of slicesByPorts) {
    const group = desiredByPorts.get(k);
    if (!group) {
      plan.delete.push(...slices);
      continue;
    }
    const updating: { slice: EndpointSlice; endpoints: SliceEndpoint[]; changed: boolean }[] = [];
    for (const s of slices) {
      const endpoints: SliceEndpoint[] = [];
      let changed = !jsonEqual(s.metadata.labels ?? {}, labels);
      for (const ep of s.endpoints ?? []) {
        const want = group.eps.get(endpointKey(ep));
        if (!want || endpoints.length >= maxPerSlice) {
          changed = true;
          continue;
        }
        group.eps.delete(endpointKey(ep));
        if (!jsonEqual(ep, want.endpoint)) changed = true;
        endpoints.push(want.endpoint);
      }
      updating.push({ slice: s, endpoints, changed });
    }
    // New endpoints fill slices that are written anyway first, then any with room.
    const order = [...updating.filter((u) => u.changed), ...updating.filter((u) => !u.changed)];
    const rest = [...group.eps.values()];
    for (const u of order) {
      while (rest.length && u.endpoints.length < maxPerSlice) {
        u.endpoints.push(rest.shift()!.endpoint);
        u.changed = true;
      }
    }
    for (const u of updating) {
      if (u.endpoints.length === 0) {
        plan.delete.push(u.slice);
        continue;
      }
      if (!u.changed) {
        kept.push(u.slice);
        continue;
      }
      const next = structuredClone(u.slice);
      next.metadata.labels = labels;
      next.endpoints = u.endpoints;
      plan.update.push(next);
      kept.push(next);
    }
    while (rest.length) plan.create.push(newSlice(svc, group.ports, rest.splice(0, maxPerSlice).map((d) => d.endpoint)));
    desiredByPorts.delete(k);
  }
  for (const group of desiredByPorts.values()) {
    const rest = [...group.eps.values()];
    while (rest.length) plan.create.push(newSlice(svc, group.ports, rest.splice(0, maxPerSlice).map((d) => d.endpoint)));
  }

  if (desired.length === 0) {
    // Keep (or make) exactly one empty placeholder slice.
    const candidates = [...plan.delete.filter((s) => s.addressType === 'IPv4' && ownedBy(s, svc))];
    const already = candidates.find((s) => (s.endpoints ?? []).length === 0 && portsKey(s.ports) === portsKey([]) && jsonEqual(s.metadata.labels ?? {}, labels));
    const reuse = already ?? candidates[0];
    if (reuse) {
      plan.delete = plan.delete.filter((s) => s !== reuse);
      if (reuse !== already) {
        const next = structuredClone(reuse);
        next.metadata.labels = labels;
        next.endpoints = [];
        next.ports = [];
        plan.update.push(next);
      }
    } else {
      plan.create.push(newSlice(svc, [], []));
    }
  }
  return plan;
}
