/**
 * Services as the proxy sees them: one `ServicePortInfo` per (service, port), with the
 * fields that decide the rules already resolved (defaults applied, IPv4 only).
 */
import type { Service } from '../api/index.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** The default ClientIP affinity timeout of the API (3 hours). */
export const defaultStickyTimeoutSeconds = 10800;

export interface ServicePortInfo {
  /** Upstream's ServicePortName string: `namespace/name:port`, or `namespace/name` for an unnamed port. */
  readonly name: string;
  /** `namespace/name` of the service. */
  readonly serviceKey: string;
  readonly namespace: string;
  readonly serviceName: string;
  /** The port's name ("" for the single unnamed port). */
  readonly portName: string;
  readonly protocol: Protocol;
  readonly clusterIP: string;
  readonly port: number;
  /** 0 when the service has no node port. */
  readonly nodePort: number;
  readonly externalIPs: readonly string[];
  /** Load balancer ingress IPs in VIP mode (status.loadBalancer.ingress[].ip). */
  readonly loadBalancerIPs: readonly string[];
  readonly loadBalancerSourceRanges: readonly string[];
  /** ClientIP affinity timeout in seconds; 0 means no affinity. */
  readonly stickySeconds: number;
  readonly externalPolicyLocal: boolean;
  readonly internalPolicyLocal: boolean;
  readonly healthCheckNodePort: number;
}

/** Key of a service port in maps: its name plus protocol (a name is unique per service, the protocol guards odd input). */
export function servicePortKey(sp: Pick<ServicePortInfo, 'name' | 'protocol'>): string {
  return `${sp.name}/${sp.protocol}`;
}

/** Upstream's ServicePortName.String(). */
export function servicePortName(namespace: string, service: string, port: string): string {
  return port ? `${namespace}/${service}:${port}` : `${namespace}/${service}`;
}

export function isIPv4(ip: string | undefined): ip is string {
  if (!ip) return false;
  const parts = ip.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** Traffic to any address other than the cluster IP reaches this port (node port, external IP, load balancer). */
export function externallyAccessible(sp: ServicePortInfo): boolean {
  return sp.nodePort !== 0 || sp.externalIPs.length > 0 || sp.loadBalancerIPs.length > 0;
}

/**
 * Cluster-wide endpoints are needed: internal traffic has policy Cluster, or the port takes
 * external traffic at all (even with external policy Local, traffic from pods and from the node
 * itself to an external address is short-circuited to the Cluster endpoints).
 */
export function usesClusterEndpoints(sp: ServicePortInfo): boolean {
  return !sp.internalPolicyLocal || externallyAccessible(sp);
}

/** Node-local endpoints are needed: either traffic policy is Local. */
export function usesLocalEndpoints(sp: ServicePortInfo): boolean {
  return sp.internalPolicyLocal || (externallyAccessible(sp) && sp.externalPolicyLocal);
}

/**
 * The IPv4 cluster IP the proxy programs for a service, or undefined when the service is not
 * proxied: headless ("None"), ExternalName, no IP yet, or IPv6 only.
 */
export function proxiedClusterIP(svc: Service): string | undefined {
  const spec = svc.spec;
  if (!spec || spec.type === 'ExternalName') return undefined;
  if (!spec.clusterIP || spec.clusterIP === 'None') return undefined;
  const ips = spec.clusterIPs?.length ? spec.clusterIPs : [spec.clusterIP];
  return ips.find(isIPv4);
}

/**
 * Expands services into their ports. Services the proxy ignores (see `proxiedClusterIP`) yield
 * nothing; ports are returned in the order of the services, then of `spec.ports`.
 */
export function buildServicePorts(services: readonly Service[]): ServicePortInfo[] {
  const out: ServicePortInfo[] = [];
  for (const svc of services) {
    const clusterIP = proxiedClusterIP(svc);
    if (!clusterIP) continue;
    const spec = svc.spec!;
    const namespace = svc.metadata.namespace ?? 'default';
    const serviceName = svc.metadata.name ?? '';
    const type = spec.type ?? 'ClusterIP';
    const externalIPs = (spec.externalIPs ?? []).filter(isIPv4);
    const loadBalancerIPs =
      type === 'LoadBalancer'
        ? (svc.status?.loadBalancer?.ingress ?? []).filter((i) => i.ipMode !== 'Proxy').map((i) => i.ip).filter(isIPv4)
        : [];
    const accessibleFromOutside = (nodePort: number) => nodePort !== 0 || externalIPs.length > 0 || loadBalancerIPs.length > 0;
    const sticky =
      spec.sessionAffinity === 'ClientIP' ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? defaultStickyTimeoutSeconds) : 0;
    for (const p of spec.ports ?? []) {
      const portName = p.name ?? '';
      const nodePort = type === 'NodePort' || type === 'LoadBalancer' ? (p.nodePort ?? 0) : 0;
      out.push({
        name: servicePortName(namespace, serviceName, portName),
        serviceKey: `${namespace}/${serviceName}`,
        namespace,
        serviceName,
        portName,
        protocol: p.protocol ?? 'TCP',
        clusterIP,
        port: p.port,
        nodePort,
        externalIPs,
        loadBalancerIPs,
        loadBalancerSourceRanges: loadBalancerIPs.length ? (spec.loadBalancerSourceRanges ?? []).map((r) => r.trim()).filter(Boolean) : [],
        stickySeconds: sticky,
        externalPolicyLocal: accessibleFromOutside(nodePort) && spec.externalTrafficPolicy === 'Local',
        internalPolicyLocal: spec.internalTrafficPolicy === 'Local',
        healthCheckNodePort: type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local' ? (spec.healthCheckNodePort ?? 0) : 0,
      });
    }
  }
  return out;
}
