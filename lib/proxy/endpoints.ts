/**
 * Endpoints as the proxy sees them: for each service port, the backends (ip:port) merged from
 * every EndpointSlice of the service, with their conditions and whether they run on this node.
 */
import type { EndpointSlice, Endpoints } from '../api/index.js';
import { isIPv4, servicePortName, usesClusterEndpoints, usesLocalEndpoints, type Protocol, type ServicePortInfo } from './service-port.js';

/** The label naming the service an EndpointSlice belongs to. */
export const serviceNameLabel = 'kubernetes.io/service-name';

export interface EndpointInfo {
  readonly ip: string;
  readonly port: number;
  /** `ip:port`, as upstream's Endpoint.String(). */
  readonly address: string;
  /** Runs on this node (`nodeName` equals the proxy's node name). */
  readonly isLocal: boolean;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly nodeName?: string;
  readonly hostname?: string;
}

/** Endpoints per service port, keyed by `servicePortKey` (`ns/svc:port/PROTO`), each list sorted by address. */
export type EndpointsMap = Map<string, EndpointInfo[]>;

/**
 * Merges EndpointSlices into an EndpointsMap. Only IPv4 slices are used; an endpoint without
 * addresses, or a port without a number, is skipped (as upstream does). When the same address
 * appears twice (an endpoint moving between slices, or an IP reused by a new pod), a
 * non-terminating copy wins. Conditions follow the API: unset `ready`/`serving` mean true.
 */
export function buildEndpointsMap(slices: readonly EndpointSlice[], nodeName: string): EndpointsMap {
  const byPort = new Map<string, Map<string, EndpointInfo>>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    const svc = slice.metadata.labels?.[serviceNameLabel];
    if (!svc) continue;
    const ns = slice.metadata.namespace ?? 'default';
    for (const port of slice.ports ?? []) {
      if (!port.port) continue;
      const key = `${servicePortName(ns, svc, port.name ?? '')}/${(port.protocol ?? 'TCP') as Protocol}`;
      let set = byPort.get(key);
      if (!set) byPort.set(key, (set = new Map()));
      for (const ep of slice.endpoints ?? []) {
        const ip = ep.addresses?.[0];
        if (!isIPv4(ip)) continue;
        const terminating = ep.conditions?.terminating === true;
        const info: EndpointInfo = {
          ip,
          port: port.port,
          address: `${ip}:${port.port}`,
          isLocal: nodeName !== '' && ep.nodeName === nodeName,
          ready: ep.conditions?.ready ?? true,
          serving: ep.conditions?.serving ?? true,
          terminating,
          ...(ep.nodeName ? { nodeName: ep.nodeName } : {}),
          ...(ep.hostname ? { hostname: ep.hostname } : {}),
        };
        if (!set.has(info.address) || !terminating) set.set(info.address, info);
      }
    }
  }
  const out: EndpointsMap = new Map();
  for (const [key, set] of byPort) {
    if (set.size === 0) continue;
    out.set(key, [...set.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0)));
  }
  return out;
}

/**
 * Converts legacy Endpoints objects into the EndpointSlices the endpoint slice mirroring
 * controller would write, so that callers holding Endpoints can use the same code path.
 * `addresses` become ready endpoints, `notReadyAddresses` not ready (and not serving).
 */
export function endpointSlicesFromEndpoints(list: readonly Endpoints[]): EndpointSlice[] {
  const out: EndpointSlice[] = [];
  for (const eps of list) {
    (eps.subsets ?? []).forEach((subset, i) => {
      const conv = (ready: boolean) => (a: { ip: string; nodeName?: string; hostname?: string }) => ({
        addresses: [a.ip],
        conditions: { ready, serving: ready, terminating: false },
        ...(a.nodeName ? { nodeName: a.nodeName } : {}),
        ...(a.hostname ? { hostname: a.hostname } : {}),
      });
      out.push({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: `${eps.metadata.name}-mirror-${i}`,
          namespace: eps.metadata.namespace ?? 'default',
          labels: { [serviceNameLabel]: eps.metadata.name ?? '' },
        },
        addressType: 'IPv4',
        endpoints: [...(subset.addresses ?? []).map(conv(true)), ...(subset.notReadyAddresses ?? []).map(conv(false))],
        ports: (subset.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
      });
    });
  }
  return out;
}

export interface CategorizedEndpoints {
  /** Endpoints for Cluster traffic policy; empty when the service never uses that policy. */
  cluster: EndpointInfo[];
  /** Endpoints for Local traffic policy; empty when the service never uses that policy. */
  local: EndpointInfo[];
  /** The union: every endpoint this node sends traffic to (each needs a KUBE-SEP chain). */
  allReachable: EndpointInfo[];
  /** Some endpoint anywhere in the cluster can take traffic (even if none is reachable from here). */
  hasAnyEndpoints: boolean;
}

/**
 * Splits a service port's endpoints by traffic policy, as upstream's CategorizeEndpoints does
 * (topology hints aside): usable means ready; when no endpoint is ready, serving-and-terminating
 * endpoints are used instead, decided separately for the Cluster and the Local set, so that a
 * rolling update or a draining node does not drop connections while old pods still serve.
 */
export function categorizeEndpoints(endpoints: readonly EndpointInfo[], sp: ServicePortInfo): CategorizedEndpoints {
  let cluster: EndpointInfo[] = [];
  let local: EndpointInfo[] = [];
  let hasAnyEndpoints = false;
  const servingTerminating = (ep: EndpointInfo) => ep.serving && ep.terminating;

  if (usesClusterEndpoints(sp)) {
    cluster = endpoints.filter((ep) => ep.ready);
    if (cluster.length === 0) cluster = endpoints.filter(servingTerminating);
    hasAnyEndpoints = cluster.length > 0;
  }
  if (!usesLocalEndpoints(sp)) return { cluster, local, allReachable: cluster, hasAnyEndpoints };

  let localReady = false;
  let localServingTerminating = false;
  for (const ep of endpoints) {
    if (ep.ready) {
      hasAnyEndpoints = true;
      if (ep.isLocal) localReady = true;
    } else if (servingTerminating(ep)) {
      hasAnyEndpoints = true;
      if (ep.isLocal) localServingTerminating = true;
    }
  }
  if (localReady) local = endpoints.filter((ep) => ep.isLocal && ep.ready);
  else if (localServingTerminating) local = endpoints.filter((ep) => ep.isLocal && servingTerminating(ep));

  if (!usesClusterEndpoints(sp)) return { cluster, local, allReachable: local, hasAnyEndpoints };
  if (!localServingTerminating || localReady) return { cluster, local, allReachable: cluster, hasAnyEndpoints };
  // Local uses terminating endpoints that the Cluster set may not hold: merge, keeping the sort order.
  const merged = new Map<string, EndpointInfo>();
  for (const ep of [...cluster, ...local]) merged.set(ep.address, ep);
  const allReachable = [...merged.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  return { cluster, local, allReachable, hasAnyEndpoints };
}
