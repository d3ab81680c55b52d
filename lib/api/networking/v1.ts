/** networking.k8s.io/v1: Ingresses, IngressClasses and NetworkPolicies. */
import { z, typeMeta, named, atomicList, IntOrString, int32, str, i32, opt, req, optEnum } from '../schema.js';
import { ObjectMetaSchema, LabelSelectorSchema } from '../meta/v1.js';
import { TypedLocalObjectReferenceSchema } from '../core/v1.js';

const P = 'io.k8s.api.networking.v1';
const objectBase = { ...typeMeta, metadata: ObjectMetaSchema };
const protocols = ['TCP', 'UDP', 'SCTP'] as const;

// ---- Ingress ----------------------------------------------------------------------------
export const ServiceBackendPortSchema = named(
  z.object({
    name: str('Name of the service port; exclusive with number.'),
    number: i32('Number of the service port; exclusive with name.'),
  }),
  `${P}.ServiceBackendPort`,
  'A port of the backend service, by name or number.',
);

export const IngressServiceBackendSchema = named(
  z.object({
    name: req(z.string(), 'Name of a Service in the namespace of the ingress.'),
    port: opt(ServiceBackendPortSchema, 'Port of the service.'),
  }),
  `${P}.IngressServiceBackend`,
  'A Service as the backend of an ingress.',
);

export const IngressBackendSchema = named(
  z.object({
    service: opt(IngressServiceBackendSchema, 'A Service to send traffic to; exclusive with resource.'),
    resource: opt(TypedLocalObjectReferenceSchema, 'Another object (e.g. a storage bucket) that serves the traffic; exclusive with service.'),
  }),
  `${P}.IngressBackend`,
  'Where matching traffic goes: a Service port or another resource.',
);

export const HTTPIngressPathSchema = named(
  z.object({
    path: str('Path matched against the request path; must start with / for Exact and Prefix.'),
    // Required, but checked by validation so that a missing pathType gets upstream's message.
    pathType: optEnum(['Exact', 'Prefix', 'ImplementationSpecific'], 'How path is matched: Exact, Prefix (by path elements split on /) or ImplementationSpecific (up to the IngressClass). Required.'),
    backend: req(IngressBackendSchema, 'Where matching requests go.'),
  }),
  `${P}.HTTPIngressPath`,
  'A path and the backend its requests go to.',
);

export const HTTPIngressRuleValueSchema = named(
  z.object({ paths: atomicList(HTTPIngressPathSchema, 'Paths and their backends; the longest matching path wins.') }),
  `${P}.HTTPIngressRuleValue`,
  'HTTP routing by request path.',
);

export const IngressRuleSchema = named(
  z.object({
    host: str('Host name (RFC 3986, not an IP) the rule applies to; a leading *. wildcard matches one DNS label. Empty matches all hosts.'),
    http: opt(HTTPIngressRuleValueSchema, 'Routing by path for HTTP traffic to the host.'),
  }),
  `${P}.IngressRule`,
  'Routing for requests to one host.',
);

export const IngressTLSSchema = named(
  z.object({
    hosts: atomicList(z.string(), 'Hosts the certificate is for; default the wildcard host of the load balancer.').optional(),
    secretName: str('Secret (kubernetes.io/tls) holding the certificate and key; optional when the controller supports SNI without one.'),
  }),
  `${P}.IngressTLS`,
  'TLS for a set of hosts.',
);

export const IngressSpecSchema = named(
  z.object({
    ingressClassName: str('IngressClass of the ingress, selecting the controller that implements it; unset uses the default class.'),
    defaultBackend: opt(IngressBackendSchema, 'Backend for requests no rule matches; without it they are handled as the controller decides (usually 404).'),
    tls: atomicList(IngressTLSSchema, 'TLS settings; traffic to port 443 of listed hosts is terminated with these certificates.').optional(),
    rules: atomicList(IngressRuleSchema, 'Host rules; requests matching none go to defaultBackend.').optional(),
  }),
  `${P}.IngressSpec`,
  'The desired state of an ingress.',
);

export const IngressPortStatusSchema = named(
  z.object({
    port: req(int32(), 'Port number.'),
    protocol: req(z.enum(protocols), 'TCP, UDP or SCTP.'),
    error: str('Why the port is not working; empty when it works.'),
  }),
  `${P}.IngressPortStatus`,
  'The state of one port of an ingress load balancer.',
);

export const IngressLoadBalancerIngressSchema = named(
  z.object({
    ip: str('IP address of the load balancer.'),
    hostname: str('DNS name of the load balancer.'),
    ports: atomicList(IngressPortStatusSchema, 'State of each port.').optional(),
  }),
  `${P}.IngressLoadBalancerIngress`,
  'An address at which an ingress load balancer receives traffic.',
);

export const IngressLoadBalancerStatusSchema = named(
  z.object({ ingress: atomicList(IngressLoadBalancerIngressSchema, 'Addresses of the load balancer.').optional() }),
  `${P}.IngressLoadBalancerStatus`,
  'The state of an ingress load balancer.',
);

export const IngressStatusSchema = named(
  z.object({ loadBalancer: opt(IngressLoadBalancerStatusSchema, 'The load balancer, as reported by the ingress controller.') }),
  `${P}.IngressStatus`,
  'The observed state of an ingress.',
);

export const IngressSchema = named(
  z.object({
    ...objectBase,
    spec: opt(IngressSpecSchema, 'Routing rules.'),
    status: opt(IngressStatusSchema, 'Where the ingress receives traffic.'),
  }),
  `${P}.Ingress`,
  'Rules that route external HTTP(S) traffic to Services by host and path; implemented by an ingress controller.',
);
export type Ingress = z.infer<typeof IngressSchema>;

// ---- IngressClass ------------------------------------------------------------------------
export const IngressClassParametersReferenceSchema = named(
  z.object({
    apiGroup: str('API group of the referent; empty for the core group.'),
    kind: req(z.string(), 'Kind of the referent.'),
    name: req(z.string(), 'Name of the referent.'),
    scope: optEnum(['Cluster', 'Namespace'], 'Cluster (default): a cluster-scoped object; Namespace: an object in namespace.'),
    namespace: str('Namespace of the referent; required with scope Namespace, forbidden with Cluster.'),
  }),
  `${P}.IngressClassParametersReference`,
  'An object holding controller-specific settings of an ingress class.',
);

export const IngressClassSpecSchema = named(
  z.object({
    controller: str('Name of the controller that implements the class, a domain-prefixed path such as example.com/ingress-controller. Immutable.'),
    parameters: opt(IngressClassParametersReferenceSchema, 'Controller-specific settings.'),
  }),
  `${P}.IngressClassSpec`,
  'The controller of an ingress class and its settings.',
);

export const IngressClassSchema = named(
  z.object({ ...objectBase, spec: opt(IngressClassSpecSchema, 'Controller and settings.') }),
  `${P}.IngressClass`,
  'A kind of ingress and the controller that implements it; the ingressclass.kubernetes.io/is-default-class annotation makes one the default.',
);
export type IngressClass = z.infer<typeof IngressClassSchema>;

// ---- NetworkPolicy ---------------------------------------------------------------------
export const IPBlockSchema = named(
  z.object({
    cidr: req(z.string(), 'The allowed range, e.g. 192.168.1.0/24.'),
    except: atomicList(z.string(), 'Ranges inside cidr that are not allowed.').optional(),
  }),
  `${P}.IPBlock`,
  'An IP range, as seen by the pod (after any NAT).',
);

export const NetworkPolicyPeerSchema = named(
  z.object({
    podSelector: opt(LabelSelectorSchema, 'Pods (in the policy namespace, or in the namespaces of namespaceSelector) allowed.'),
    namespaceSelector: opt(LabelSelectorSchema, 'Namespaces whose pods are allowed; combined with podSelector if both are set.'),
    ipBlock: opt(IPBlockSchema, 'An IP range allowed; exclusive with the selectors.'),
  }),
  `${P}.NetworkPolicyPeer`,
  'Who may connect (ingress) or be connected to (egress).',
);

export const NetworkPolicyPortSchema = named(
  z.object({
    protocol: optEnum(protocols, 'TCP (default), UDP or SCTP.'),
    port: opt(IntOrString, 'Port number or name on the pod; unset means all ports.'),
    endPort: i32('With a numeric port: the last port of a range starting at port.'),
  }),
  `${P}.NetworkPolicyPort`,
  'A port, or range of ports, traffic is allowed to.',
);

export const NetworkPolicyIngressRuleSchema = named(
  z.object({
    ports: atomicList(NetworkPolicyPortSchema, 'Ports the traffic may go to; empty or unset means all ports.').optional(),
    from: atomicList(NetworkPolicyPeerSchema, 'Sources allowed; empty or unset means any source.').optional(),
  }),
  `${P}.NetworkPolicyIngressRule`,
  'Incoming traffic allowed: from these sources to these ports.',
);

export const NetworkPolicyEgressRuleSchema = named(
  z.object({
    ports: atomicList(NetworkPolicyPortSchema, 'Ports the traffic may go to; empty or unset means all ports.').optional(),
    to: atomicList(NetworkPolicyPeerSchema, 'Destinations allowed; empty or unset means any destination.').optional(),
  }),
  `${P}.NetworkPolicyEgressRule`,
  'Outgoing traffic allowed: to these destinations and ports.',
);

export const NetworkPolicySpecSchema = named(
  z.object({
    podSelector: opt(LabelSelectorSchema, 'Pods of the namespace the policy applies to; empty selects them all.'),
    ingress: atomicList(NetworkPolicyIngressRuleSchema, 'Incoming traffic allowed (if Ingress is a policy type); empty allows none.').optional(),
    egress: atomicList(NetworkPolicyEgressRuleSchema, 'Outgoing traffic allowed (if Egress is a policy type); empty allows none.').optional(),
    policyTypes: atomicList(z.enum(['Ingress', 'Egress']), 'Directions the policy isolates: Ingress, Egress or both. Default Ingress, plus Egress when egress rules are given.').optional(),
  }),
  `${P}.NetworkPolicySpec`,
  'The pods a policy applies to and the traffic it allows.',
);

export const NetworkPolicySchema = named(
  z.object({ ...objectBase, spec: opt(NetworkPolicySpecSchema, 'Selected pods and allowed traffic.') }),
  `${P}.NetworkPolicy`,
  'Allowed network traffic for a set of pods; selected pods reject what no policy allows. Enforced by the network plugin.',
);
export type NetworkPolicy = z.infer<typeof NetworkPolicySchema>;
