/** core/v1 kinds other than Pod: namespaces, services, endpoints, config, nodes, events, quotas... */
import { z, typeMeta, named, mergeList, atomicList, setList, StringMap, Time, MicroTime, IntOrString, int32, str, bool, i32, i64, opt, req, optEnum } from '../schema.js';
import { ObjectMetaSchema, ListMetaSchema, LabelSelectorSchema, OwnerReferenceSchema, ConditionSchema } from '../meta/v1.js';
import { PodTemplateSpecSchema, ResourceListSchema, ObjectReferenceSchema, LocalObjectReferenceSchema } from './v1-pod.js';

export * from './v1-pod.js';
export * from './v1-storage.js';

const P = 'io.k8s.api.core.v1';
const protocols = ['TCP', 'UDP', 'SCTP'] as const;
const conditionStatus = () => req(z.enum(['True', 'False', 'Unknown']), 'True, False or Unknown.');

const objectBase = {
  ...typeMeta,
  metadata: ObjectMetaSchema,
};

// ---- Namespace ------------------------------------------------------------
export const NamespaceConditionSchema = named(
  z.object({
    type: req(z.string(), 'NamespaceDeletionDiscoveryFailure, NamespaceDeletionContentFailure, NamespaceDeletionGroupVersionParsingFailure, NamespaceContentRemaining or NamespaceFinalizersRemaining.'),
    status: conditionStatus(),
    lastTransitionTime: opt(Time, 'When the status last changed.'),
    reason: str('Machine-readable reason of the last transition.'),
    message: str('Human-readable details of the last transition.'),
  }),
  `${P}.NamespaceCondition`,
  'One condition of a namespace, mostly about why its deletion is not finished.',
);

export const NamespaceSchema = named(
  z.object({
    ...objectBase,
    spec: opt(
      named(
        z.object({ finalizers: atomicList(z.string(), 'Finalizers that must be cleared (through the finalize subresource) before the namespace is removed. Default [kubernetes].').optional() }),
        `${P}.NamespaceSpec`,
        'The desired state of a namespace.',
      ),
      'What the namespace should be.',
    ),
    status: opt(
      named(
        z.object({
          phase: optEnum(['Active', 'Terminating'], 'Active, or Terminating once deletion has started.'),
          conditions: mergeList(NamespaceConditionSchema, 'type', 'Current conditions of the namespace.').optional(),
        }),
        `${P}.NamespaceStatus`,
        'The observed state of a namespace.',
      ),
      'What the namespace is now.',
    ),
  }),
  `${P}.Namespace`,
  'A scope for names; most objects live in one.',
);
export type Namespace = z.infer<typeof NamespaceSchema>;

// ---- Service ----------------------------------------------------------------
export const ServicePortSchema = named(
  z.object({
    name: str('Name of the port, a DNS label; required and unique when the service has more than one port.'),
    protocol: optEnum(protocols, 'TCP (default), UDP or SCTP.', 'TCP'),
    appProtocol: str('Application protocol, as a hint to implementations: an IANA service name, kubernetes.io/h2c, kubernetes.io/ws, kubernetes.io/wss, or a domain-prefixed name.'),
    port: req(int32(), 'Port the service listens on.'),
    targetPort: opt(IntOrString, 'Port number or name on the pods; defaults to port.'),
    nodePort: i32('Port on every node (NodePort and LoadBalancer services); allocated from the node port range unless given.'),
  }),
  `${P}.ServicePort`,
  'A port a service exposes.',
);
export type ServicePort = z.infer<typeof ServicePortSchema>;

export const ClientIPConfigSchema = named(
  z.object({ timeoutSeconds: i32('Seconds a client stays with its backend, 1 to 86400. Default 10800 (3 hours).') }),
  `${P}.ClientIPConfig`,
  'Settings of client IP based session affinity.',
);

export const SessionAffinityConfigSchema = named(
  z.object({ clientIP: opt(ClientIPConfigSchema, 'Settings of ClientIP affinity.') }),
  `${P}.SessionAffinityConfig`,
  'Session affinity settings: how long a client sticks to one endpoint.',
);

export const ServiceSpecSchema = named(
  z.object({
    ports: mergeList(ServicePortSchema, ['port', 'protocol'], 'Ports the service exposes.').optional(),
    selector: opt(StringMap, 'Pods with these labels back the service; without a selector, endpoints are managed by hand.'),
    clusterIP: str('Virtual IP of the service, allocated from the service range unless given; "None" makes it headless. Immutable once set.'),
    clusterIPs: atomicList(z.string(), 'IP addresses of the service, at most one per family; the first equals clusterIP.').optional(),
    type: optEnum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'], 'ClusterIP (default), NodePort, LoadBalancer or ExternalName.'),
    externalIPs: atomicList(z.string(), 'Extra IPs, not managed by the cluster, on which nodes also accept traffic for the service.').optional(),
    sessionAffinity: optEnum(['ClientIP', 'None'], 'ClientIP pins each client to one backend; None (default) balances every connection.'),
    loadBalancerIP: str('Requested load balancer IP, if the cloud provider supports it (deprecated).'),
    loadBalancerSourceRanges: atomicList(z.string(), 'Client CIDRs a cloud load balancer admits.').optional(),
    externalName: str('For ExternalName services: the DNS name the service is an alias (CNAME) for.'),
    externalTrafficPolicy: optEnum(['Cluster', 'Local'], 'For external traffic: Cluster (default) spreads over all endpoints; Local keeps the client IP and uses node-local endpoints only.'),
    healthCheckNodePort: i32('Node port answering health checks, for LoadBalancer services with externalTrafficPolicy Local.'),
    publishNotReadyAddresses: bool('Publish endpoints of pods that are not ready (for peer discovery, e.g. StatefulSets).'),
    sessionAffinityConfig: opt(SessionAffinityConfigSchema, 'Settings of session affinity.'),
    ipFamilies: atomicList(z.enum(['IPv4', 'IPv6']), 'IP families of the service, IPv4 and/or IPv6, in order.').optional(),
    ipFamilyPolicy: optEnum(['SingleStack', 'PreferDualStack', 'RequireDualStack'], 'SingleStack (default), PreferDualStack or RequireDualStack.'),
    allocateLoadBalancerNodePorts: bool('Allocate node ports for LoadBalancer services. Default true.'),
    loadBalancerClass: str('Load balancer implementation for LoadBalancer services; unset uses the cloud provider. Immutable.'),
    internalTrafficPolicy: optEnum(['Cluster', 'Local'], 'For traffic from inside the cluster: Cluster (default) or Local (node-local endpoints only).'),
    trafficDistribution: str('Preference for routing, e.g. PreferClose for topologically close endpoints (beta).'),
  }),
  `${P}.ServiceSpec`,
  'The desired state of a service.',
);

export const PortStatusSchema = named(
  z.object({
    port: req(int32(), 'Port number.'),
    protocol: req(z.enum(protocols), 'TCP, UDP or SCTP.'),
    error: str('Why the port is not working, as CamelCase or a domain-prefixed reason; empty when it works.'),
  }),
  `${P}.PortStatus`,
  'The state of one port of a load balancer.',
);

export const LoadBalancerIngressSchema = named(
  z.object({
    ip: str('IP address of the load balancer.'),
    hostname: str('DNS name of the load balancer.'),
    ipMode: optEnum(['VIP', 'Proxy'], 'VIP: traffic arrives with the load balancer IP as destination; Proxy: it arrives at the node or pod (beta).'),
    ports: atomicList(PortStatusSchema, 'State of each port.').optional(),
  }),
  `${P}.LoadBalancerIngress`,
  'An address at which a load balancer receives traffic.',
);

export const LoadBalancerStatusSchema = named(
  z.object({ ingress: atomicList(LoadBalancerIngressSchema, 'Addresses of the load balancer.').optional() }),
  `${P}.LoadBalancerStatus`,
  'The state of a load balancer.',
);

export const ServiceStatusSchema = named(
  z.object({
    loadBalancer: opt(LoadBalancerStatusSchema, 'The load balancer, for LoadBalancer services.'),
    conditions: mergeList(ConditionSchema, 'type', 'Current conditions of the service.').optional(),
  }),
  `${P}.ServiceStatus`,
  'The observed state of a service.',
);

export const ServiceSchema = named(
  z.object({
    ...objectBase,
    spec: opt(ServiceSpecSchema, 'What the service should be.'),
    status: opt(ServiceStatusSchema, 'What the service is now.'),
  }),
  `${P}.Service`,
  'A stable virtual IP and name in front of a set of pods selected by labels.',
);
export type Service = z.infer<typeof ServiceSchema>;

// ---- Endpoints --------------------------------------------------------------
export const EndpointAddressSchema = named(
  z.object({
    ip: req(z.string(), 'IP address of the backend.'),
    hostname: str('Host name of the backend, for DNS records of headless services.'),
    nodeName: str('Node the backend runs on.'),
    targetRef: opt(ObjectReferenceSchema, 'The object (usually a pod) behind the address.'),
  }),
  `${P}.EndpointAddress`,
  'One backend address.',
);

export const EndpointPortSchema = named(
  z.object({
    name: str('Name of the port, matching a service port name; optional with a single port.'),
    port: req(int32(), 'Port number.'),
    protocol: optEnum(protocols, 'TCP (default), UDP or SCTP.'),
    appProtocol: str('Application protocol, as in the service port.'),
  }),
  `${P}.EndpointPort`,
  'One backend port.',
);

export const EndpointSubsetSchema = named(
  z.object({
    addresses: atomicList(EndpointAddressSchema, 'Ready addresses.').optional(),
    notReadyAddresses: atomicList(EndpointAddressSchema, 'Addresses not ready yet (or failing readiness).').optional(),
    ports: atomicList(EndpointPortSchema, 'Ports every address serves.').optional(),
  }),
  `${P}.EndpointSubset`,
  'Addresses sharing one set of ports.',
);

export const EndpointsSchema = named(
  z.object({ ...objectBase, subsets: atomicList(EndpointSubsetSchema, 'The backends of the service.').optional() }),
  `${P}.Endpoints`,
  'The addresses of the pods backing a service; maintained by the endpoints controller.',
);
export type Endpoints = z.infer<typeof EndpointsSchema>;

// ---- ConfigMap / Secret -------------------------------------------------------
export const ConfigMapSchema = named(
  z.object({
    ...objectBase,
    immutable: bool('When true, data and binaryData can no longer change (the object can only be deleted).'),
    data: opt(StringMap, 'Configuration data as UTF-8 strings.'),
    binaryData: opt(StringMap, 'Binary data, base64-encoded; keys may not also be in data.'),
  }),
  `${P}.ConfigMap`,
  'Configuration data for pods to consume as environment variables or files.',
);
export type ConfigMap = z.infer<typeof ConfigMapSchema>;

export const SecretSchema = named(
  z.object({
    ...objectBase,
    immutable: bool('When true, data can no longer change (the object can only be deleted).'),
    data: opt(StringMap, 'Secret values, base64-encoded.'),
    stringData: opt(StringMap, 'Write-only convenience: plain values merged into data on write; never returned.'),
    type: str('How the data is to be used: Opaque (default), kubernetes.io/service-account-token, kubernetes.io/dockercfg, kubernetes.io/dockerconfigjson, kubernetes.io/basic-auth, kubernetes.io/ssh-auth, kubernetes.io/tls, bootstrap.kubernetes.io/token.'),
  }),
  `${P}.Secret`,
  'Sensitive data such as passwords, tokens or keys.',
);
export type Secret = z.infer<typeof SecretSchema>;

// ---- ServiceAccount -----------------------------------------------------------
export const ServiceAccountSchema = named(
  z.object({
    ...objectBase,
    secrets: mergeList(ObjectReferenceSchema, 'name', 'Secrets pods of this account may use (legacy token secrets); not a source of credentials any more.').optional(),
    imagePullSecrets: atomicList(LocalObjectReferenceSchema, 'Registry credentials added to the pods of this account.').optional(),
    automountServiceAccountToken: bool('Mount an API token into pods of this account unless the pod says otherwise.'),
  }),
  `${P}.ServiceAccount`,
  'An identity for processes running in pods.',
);
export type ServiceAccount = z.infer<typeof ServiceAccountSchema>;

// ---- Event ----------------------------------------------------------------------
export const EventSourceSchema = named(
  z.object({
    component: str('Component that reported the event, e.g. kubelet or default-scheduler.'),
    host: str('Node the reporting component runs on.'),
  }),
  `${P}.EventSource`,
  'Who reported an event.',
);

export const EventSeriesSchema = named(
  z.object({
    count: i32('Times the event has occurred in the series.'),
    lastObservedTime: opt(MicroTime, 'When the last occurrence was seen.'),
  }),
  `${P}.EventSeries`,
  'A series of repeats of an event.',
);

export const EventSchema = named(
  z.object({
    ...objectBase,
    involvedObject: req(ObjectReferenceSchema, 'The object this event is about.'),
    reason: str('Short machine-readable reason, e.g. Scheduled, Pulled or BackOff.'),
    message: str('Human-readable description.'),
    source: opt(EventSourceSchema, 'The component that reported the event.'),
    firstTimestamp: opt(Time.nullable(), 'When the event was first recorded.'),
    lastTimestamp: opt(Time.nullable(), 'When the event was most recently recorded.'),
    count: i32('Times the event has occurred.'),
    type: str('Normal or Warning.'),
    eventTime: opt(MicroTime.nullable(), 'When the event was first observed (new-style events).'),
    series: opt(EventSeriesSchema, 'Repeats of the event; unset for a single occurrence.'),
    action: str('What the reporting component did or failed to do, e.g. Binding.'),
    related: opt(ObjectReferenceSchema, 'A second object involved, e.g. the node of a scheduling event.'),
    reportingComponent: str('Controller that emitted the event, e.g. kubernetes.io/kubelet.'),
    reportingInstance: str('Instance of the controller, e.g. the kubelet host name.'),
  }),
  `${P}.Event`,
  'A report of something that happened to an object, emitted by a component.',
);
export type Event = z.infer<typeof EventSchema>;

// ---- Node -----------------------------------------------------------------------
export const TaintSchema = named(
  z.object({
    key: req(z.string(), 'Taint key, a qualified name.'),
    value: str('Taint value.'),
    effect: req(z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']), 'What happens to pods that do not tolerate the taint: NoSchedule, PreferNoSchedule or NoExecute (also evicts running pods).'),
    timeAdded: opt(Time.nullable(), 'When the taint was added; NoExecute taints only.'),
  }),
  `${P}.Taint`,
  'Repels pods that do not tolerate it.',
);
export type Taint = z.infer<typeof TaintSchema>;

export const NodeConditionSchema = named(
  z.object({
    type: req(z.string(), 'Ready, MemoryPressure, DiskPressure, PIDPressure or NetworkUnavailable.'),
    status: conditionStatus(),
    lastHeartbeatTime: opt(Time.nullable(), 'When the kubelet last reported the condition.'),
    lastTransitionTime: opt(Time.nullable(), 'When the status last changed.'),
    reason: str('Machine-readable reason of the last transition.'),
    message: str('Human-readable details of the last transition.'),
  }),
  `${P}.NodeCondition`,
  'One condition of a node.',
);
export type NodeCondition = z.infer<typeof NodeConditionSchema>;

export const NodeAddressSchema = named(
  z.object({
    type: req(z.string(), 'Hostname, InternalIP, ExternalIP, InternalDNS or ExternalDNS.'),
    address: req(z.string(), 'The address.'),
  }),
  `${P}.NodeAddress`,
  'An address of a node.',
);

export const ConfigMapNodeConfigSourceSchema = named(
  z.object({
    namespace: req(z.string(), 'Namespace of the ConfigMap.'),
    name: req(z.string(), 'Name of the ConfigMap.'),
    uid: str('UID of the ConfigMap; set in status, not in spec.'),
    resourceVersion: str('Version of the ConfigMap; set in status, not in spec.'),
    kubeletConfigKey: req(z.string(), 'Key of the ConfigMap holding the kubelet configuration.'),
  }),
  `${P}.ConfigMapNodeConfigSource`,
  'A ConfigMap holding kubelet configuration.',
);

export const NodeConfigSourceSchema = named(
  z.object({ configMap: opt(ConfigMapNodeConfigSourceSchema, 'The ConfigMap.') }),
  `${P}.NodeConfigSource`,
  'Where dynamic kubelet configuration comes from (the feature was removed; kept for compatibility).',
);

export const NodeConfigStatusSchema = named(
  z.object({
    assigned: opt(NodeConfigSourceSchema, 'The configuration the node should use.'),
    active: opt(NodeConfigSourceSchema, 'The configuration the node uses.'),
    lastKnownGood: opt(NodeConfigSourceSchema, 'The configuration the node falls back to.'),
    error: str('Problems applying the configuration.'),
  }),
  `${P}.NodeConfigStatus`,
  'The state of dynamic kubelet configuration (removed feature).',
);

export const DaemonEndpointSchema = named(
  z.object({ Port: req(int32(), 'Port number.') }),
  `${P}.DaemonEndpoint`,
  'A port a node daemon listens on.',
);

export const NodeDaemonEndpointsSchema = named(
  z.object({ kubeletEndpoint: opt(DaemonEndpointSchema, 'Port of the kubelet API.') }),
  `${P}.NodeDaemonEndpoints`,
  'Ports of the daemons running on a node.',
);

export const NodeSystemInfoSchema = named(
  z.object({
    machineID: str('Machine ID (/etc/machine-id).'),
    systemUUID: str('System UUID from the firmware.'),
    bootID: str('Boot ID; changes on every reboot.'),
    kernelVersion: str('Kernel version (uname -r).'),
    osImage: str('Operating system image (from /etc/os-release).'),
    containerRuntimeVersion: str('Container runtime and version, e.g. docker://27.1.1.'),
    kubeletVersion: str('Kubelet version.'),
    kubeProxyVersion: str('Kube-proxy version (deprecated, not reliable).'),
    operatingSystem: str('Operating system, e.g. linux.'),
    architecture: str('CPU architecture, e.g. amd64.'),
  }),
  `${P}.NodeSystemInfo`,
  'Facts about the node machine and its software.',
);

export const ContainerImageSchema = named(
  z.object({
    names: atomicList(z.string(), 'Names of the image (tags and digests).').optional(),
    sizeBytes: i64('Size of the image in bytes.'),
  }),
  `${P}.ContainerImage`,
  'An image present on a node.',
);

export const AttachedVolumeSchema = named(
  z.object({
    name: req(z.string(), 'Unique name of the volume.'),
    devicePath: req(z.string(), 'Where the volume is available on the node.'),
  }),
  `${P}.AttachedVolume`,
  'A volume attached to a node.',
);

export const NodeRuntimeHandlerFeaturesSchema = named(
  z.object({
    recursiveReadOnlyMounts: bool('Whether the handler supports recursive read-only mounts.'),
    userNamespaces: bool('Whether the handler supports user namespaces, volumes included.'),
  }),
  `${P}.NodeRuntimeHandlerFeatures`,
  'Features a runtime handler supports.',
);

export const NodeRuntimeHandlerSchema = named(
  z.object({
    name: str('Handler name; empty for the default handler.'),
    features: opt(NodeRuntimeHandlerFeaturesSchema, 'Features the handler supports.'),
  }),
  `${P}.NodeRuntimeHandler`,
  'A container runtime handler available on a node.',
);

export const NodeFeaturesSchema = named(
  z.object({ supplementalGroupsPolicy: bool('Whether the node supports the pod supplementalGroupsPolicy field.') }),
  `${P}.NodeFeatures`,
  'Optional features a node reports, by name.',
);

export const NodeSpecSchema = named(
  z.object({
    podCIDR: str('The pod IP range of this node, assigned by node IPAM.'),
    podCIDRs: setList(z.string(), 'Pod IP ranges of this node, at most one per family; the first equals podCIDR.').optional(),
    providerID: str('ID of the node at the cloud provider, <provider>://<id>.'),
    unschedulable: bool('Cordoned: no new pods are scheduled here. Default false.'),
    taints: atomicList(TaintSchema, 'Taints of the node.').optional(),
    configSource: opt(NodeConfigSourceSchema, 'Dynamic kubelet configuration (removed feature).'),
    externalID: str('Deprecated; not used.'),
  }),
  `${P}.NodeSpec`,
  'The desired state of a node.',
);

export const NodeStatusSchema = named(
  z.object({
    capacity: opt(ResourceListSchema, 'Total resources of the node.'),
    allocatable: opt(ResourceListSchema, 'Resources available to pods (capacity minus reservations); the scheduler uses these.'),
    phase: str('Deprecated and not set.'),
    conditions: mergeList(NodeConditionSchema, 'type', 'Current conditions of the node.').optional(),
    addresses: mergeList(NodeAddressSchema, 'type', 'Addresses of the node.').optional(),
    daemonEndpoints: opt(NodeDaemonEndpointsSchema, 'Ports of the daemons on the node.'),
    nodeInfo: opt(NodeSystemInfoSchema, 'Facts about the machine and its software.'),
    images: atomicList(ContainerImageSchema, 'Images present on the node.').optional(),
    volumesInUse: atomicList(z.string(), 'Volumes attached and mounted on the node.').optional(),
    volumesAttached: atomicList(AttachedVolumeSchema, 'Volumes attached to the node.').optional(),
    config: opt(NodeConfigStatusSchema, 'State of dynamic kubelet configuration (removed feature).'),
    runtimeHandlers: atomicList(NodeRuntimeHandlerSchema, 'Container runtime handlers available.').optional(),
    features: opt(NodeFeaturesSchema, 'Features the node implements.'),
  }),
  `${P}.NodeStatus`,
  'The observed state of a node, reported by its kubelet.',
);

export const NodeSchema = named(
  z.object({
    ...objectBase,
    spec: opt(NodeSpecSchema, 'What the node should be.'),
    status: opt(NodeStatusSchema, 'What the node is now.'),
  }),
  `${P}.Node`,
  'A worker machine; its kubelet registers it and reports its status.',
);
export type Node = z.infer<typeof NodeSchema>;

// ---- ReplicationController ---------------------------------------------------------
export const ReplicationControllerConditionSchema = named(
  z.object({
    type: req(z.string(), 'ReplicaFailure.'),
    status: conditionStatus(),
    lastTransitionTime: opt(Time, 'When the status last changed.'),
    reason: str('Machine-readable reason of the last transition.'),
    message: str('Human-readable details of the last transition.'),
  }),
  `${P}.ReplicationControllerCondition`,
  'One condition of a replication controller.',
);

export const ReplicationControllerSchema = named(
  z.object({
    ...objectBase,
    spec: opt(
      named(
        z.object({
          replicas: i32('Desired number of pods. Default 1.'),
          minReadySeconds: i32('Seconds a new pod must be ready, without crashing, to count as available. Default 0.'),
          selector: opt(StringMap, 'Labels of the pods this controller manages; defaults to the template labels.'),
          template: opt(PodTemplateSpecSchema, 'Template of the pods created.'),
        }),
        `${P}.ReplicationControllerSpec`,
        'The desired state of a replication controller.',
      ),
      'What the controller should maintain.',
    ),
    status: opt(
      named(
        z.object({
          replicas: req(int32(), 'Number of pods.'),
          fullyLabeledReplicas: i32('Pods whose labels match the template labels.'),
          readyReplicas: i32('Pods that are ready.'),
          availableReplicas: i32('Pods ready for at least minReadySeconds.'),
          observedGeneration: i64('Generation the status was computed for.'),
          conditions: mergeList(ReplicationControllerConditionSchema, 'type', 'Current conditions.').optional(),
        }),
        `${P}.ReplicationControllerStatus`,
        'The observed state of a replication controller.',
      ),
      'What the controller has done.',
    ),
  }),
  `${P}.ReplicationController`,
  'Keeps a number of pod replicas running (the older form of ReplicaSet).',
);
export type ReplicationController = z.infer<typeof ReplicationControllerSchema>;

// ---- Binding --------------------------------------------------------------------
export const BindingSchema = named(
  z.object({ ...objectBase, target: req(ObjectReferenceSchema, 'The node to bind to.') }),
  `${P}.Binding`,
  'Binds a pod to a node; posted by the scheduler to pods/binding.',
);
export type Binding = z.infer<typeof BindingSchema>;

export const PodTemplateSchema = named(
  z.object({ ...objectBase, template: opt(PodTemplateSpecSchema, 'The pod template.') }),
  `${P}.PodTemplate`,
  'A stored template for pods.',
);
export type PodTemplate = z.infer<typeof PodTemplateSchema>;

export const ComponentConditionSchema = named(
  z.object({
    type: req(z.string(), 'Healthy.'),
    status: conditionStatus(),
    message: str('Message from the health check.'),
    error: str('Error from the health check.'),
  }),
  `${P}.ComponentCondition`,
  'Health of a component.',
);

export const ComponentStatusSchema = named(
  z.object({ ...objectBase, conditions: mergeList(ComponentConditionSchema, 'type', 'Health checks of the component.').optional() }),
  `${P}.ComponentStatus`,
  'Health of a control-plane component (deprecated).',
);
export type ComponentStatus = z.infer<typeof ComponentStatusSchema>;

// ---- ResourceQuota -----------------------------------------------------------------
export const quotaScopes = ['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity'] as const;

export const ScopedResourceSelectorRequirementSchema = named(
  z.object({
    scopeName: req(z.enum(quotaScopes), 'The scope: Terminating, NotTerminating, BestEffort, NotBestEffort, PriorityClass or CrossNamespacePodAffinity.'),
    operator: req(z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']), 'In, NotIn, Exists or DoesNotExist.'),
    values: atomicList(z.string(), 'Values for In and NotIn (priority class names); empty otherwise.').optional(),
  }),
  `${P}.ScopedResourceSelectorRequirement`,
  'A scope, an operator and values.',
);

export const ScopeSelectorSchema = named(
  z.object({ matchExpressions: atomicList(ScopedResourceSelectorRequirementSchema, 'Requirements that must all hold.').optional() }),
  `${P}.ScopeSelector`,
  'Selects the objects a quota counts by their scope.',
);

export const ResourceQuotaSpecSchema = named(
  z.object({
    hard: opt(ResourceListSchema, 'Limits on the total per resource, e.g. pods: 10, requests.cpu: 4, count/deployments.apps: 5.'),
    scopes: atomicList(z.enum(quotaScopes), 'Only objects in all of these scopes are counted.').optional(),
    scopeSelector: opt(ScopeSelectorSchema, 'Only objects matching these scope requirements are counted.'),
  }),
  `${P}.ResourceQuotaSpec`,
  'The limits a quota enforces.',
);

export const ResourceQuotaStatusSchema = named(
  z.object({
    hard: opt(ResourceListSchema, 'The limits being enforced.'),
    used: opt(ResourceListSchema, 'Current usage in the namespace.'),
  }),
  `${P}.ResourceQuotaStatus`,
  'The enforced limits and current usage.',
);

export const ResourceQuotaSchema = named(
  z.object({
    ...objectBase,
    spec: opt(ResourceQuotaSpecSchema, 'The limits to enforce.'),
    status: opt(ResourceQuotaStatusSchema, 'Enforced limits and usage, maintained by the quota controller.'),
  }),
  `${P}.ResourceQuota`,
  'Limits the total resources and object counts of a namespace.',
);
export type ResourceQuota = z.infer<typeof ResourceQuotaSchema>;

// ---- LimitRange ------------------------------------------------------------------------
export const LimitRangeItemSchema = named(
  z.object({
    type: req(z.string(), 'What the limits apply to: Pod, Container or PersistentVolumeClaim.'),
    max: opt(ResourceListSchema, 'Largest allowed limit per resource.'),
    min: opt(ResourceListSchema, 'Smallest allowed request per resource.'),
    default: opt(ResourceListSchema, 'Limit given to containers that set none.'),
    defaultRequest: opt(ResourceListSchema, 'Request given to containers that set none.'),
    maxLimitRequestRatio: opt(ResourceListSchema, 'Largest allowed limit divided by request per resource.'),
  }),
  `${P}.LimitRangeItem`,
  'Limits for one kind of object.',
);

export const LimitRangeSpecSchema = named(
  z.object({ limits: atomicList(LimitRangeItemSchema, 'The limits, per kind of object.') }),
  `${P}.LimitRangeSpec`,
  'The limits a LimitRange enforces.',
);

export const LimitRangeSchema = named(
  z.object({ ...objectBase, spec: opt(LimitRangeSpecSchema, 'The limits to enforce.') }),
  `${P}.LimitRange`,
  'Default, minimum and maximum resources for the pods, containers and claims of a namespace.',
);
export type LimitRange = z.infer<typeof LimitRangeSchema>;

export { ListMetaSchema, LabelSelectorSchema, OwnerReferenceSchema };
