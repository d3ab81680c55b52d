/**
 * Small builders for Service and EndpointSlice objects, for tests and examples: the fields the
 * proxy and DNS read, with API defaults, and nothing else.
 */
import type { EndpointSlice, Service } from '../api/index.js';
import { serviceNameLabel } from './endpoints.js';

export interface ServicePortSpec {
  name?: string;
  port: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  targetPort?: number | string;
  nodePort?: number;
}

export interface ServiceSpecInput {
  clusterIP?: string;
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  ports?: ServicePortSpec[];
  externalIPs?: string[];
  externalName?: string;
  sessionAffinity?: 'ClientIP' | 'None';
  sessionAffinitySeconds?: number;
  externalTrafficPolicy?: 'Cluster' | 'Local';
  internalTrafficPolicy?: 'Cluster' | 'Local';
  loadBalancerIPs?: string[];
  loadBalancerSourceRanges?: string[];
  healthCheckNodePort?: number;
  publishNotReadyAddresses?: boolean;
}

export function makeService(namespace: string, name: string, spec: ServiceSpecInput): Service {
  const lb = spec.loadBalancerIPs?.length ? { loadBalancer: { ingress: spec.loadBalancerIPs.map((ip) => ({ ip })) } } : undefined;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace, name },
    spec: {
      type: spec.type ?? 'ClusterIP',
      ...(spec.type === 'ExternalName' ? { externalName: spec.externalName } : { clusterIP: spec.clusterIP, clusterIPs: spec.clusterIP ? [spec.clusterIP] : undefined }),
      ports: (spec.ports ?? []).map((p) => ({
        ...(p.name !== undefined ? { name: p.name } : {}),
        port: p.port,
        protocol: p.protocol ?? 'TCP',
        targetPort: p.targetPort ?? p.port,
        ...(p.nodePort ? { nodePort: p.nodePort } : {}),
      })),
      ...(spec.externalIPs ? { externalIPs: spec.externalIPs } : {}),
      sessionAffinity: spec.sessionAffinity ?? 'None',
      ...(spec.sessionAffinity === 'ClientIP' ? { sessionAffinityConfig: { clientIP: { timeoutSeconds: spec.sessionAffinitySeconds ?? 10800 } } } : {}),
      ...(spec.externalTrafficPolicy ? { externalTrafficPolicy: spec.externalTrafficPolicy } : {}),
      ...(spec.internalTrafficPolicy ? { internalTrafficPolicy: spec.internalTrafficPolicy } : {}),
      ...(spec.loadBalancerSourceRanges ? { loadBalancerSourceRanges: spec.loadBalancerSourceRanges } : {}),
      ...(spec.healthCheckNodePort ? { healthCheckNodePort: spec.healthCheckNodePort } : {}),
      ...(spec.publishNotReadyAddresses ? { publishNotReadyAddresses: true } : {}),
    },
    ...(lb ? { status: lb } : {}),
  };
}

export interface EndpointInput {
  ip: string;
  nodeName?: string;
  hostname?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
  /** The pod behind the endpoint (targetRef). */
  podName?: string;
}

/** One IPv4 EndpointSlice for a service; `sliceName` defaults to `<service>-<n>`. */
export function makeEndpointSlice(
  namespace: string,
  service: string,
  endpoints: EndpointInput[],
  ports: { name?: string; port: number; protocol?: 'TCP' | 'UDP' | 'SCTP' }[],
  sliceName = `${service}-abc12`,
): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace, name: sliceName, labels: { [serviceNameLabel]: service } },
    addressType: 'IPv4',
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: {
        ready: e.ready ?? !(e.terminating ?? false),
        serving: e.serving ?? true,
        terminating: e.terminating ?? false,
      },
      ...(e.nodeName ? { nodeName: e.nodeName } : {}),
      ...(e.hostname ? { hostname: e.hostname } : {}),
      ...(e.podName ? { targetRef: { kind: 'Pod', namespace, name: e.podName } } : {}),
    })),
    ports: ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
  };
}
