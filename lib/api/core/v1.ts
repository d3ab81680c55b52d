/** core/v1 kinds other than Pod: namespaces, services, endpoints, config, nodes, events... */
import { z, doc, named, mergeList, atomicList, setList, StringMap, Time, MicroTime, IntOrString, int32, int64 } from '../schema.js';
import { ObjectMetaSchema, ListMetaSchema, LabelSelectorSchema, OwnerReferenceSchema } from '../meta/v1.js';
import { PodTemplateSpecSchema, ResourceListSchema } from './v1-pod.js';

export * from './v1-pod.js';

const P = 'io.k8s.api.core.v1';

const objectBase = {
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: ObjectMetaSchema,
};

export const ObjectReferenceSchema = named(
  z.object({
    kind: z.string().optional(),
    namespace: z.string().optional(),
    name: z.string().optional(),
    uid: z.string().optional(),
    apiVersion: z.string().optional(),
    resourceVersion: z.string().optional(),
    fieldPath: z.string().optional(),
  }),
  `${P}.ObjectReference`,
  'A reference to an object, with enough to find it.',
);
export type ObjectReference = z.infer<typeof ObjectReferenceSchema>;

// ---- Namespace ------------------------------------------------------------
export const NamespaceSchema = named(
  z.object({
    ...objectBase,
    spec: z.object({ finalizers: setList(z.string(), 'Finalizers that must be cleared before the namespace is removed.').optional() }).optional(),
    status: z
      .object({
        phase: doc(z.enum(['Active', 'Terminating']).optional(), 'Active or Terminating.'),
        conditions: z.array(z.object({ type: z.string(), status: z.string(), lastTransitionTime: Time.optional(), reason: z.string().optional(), message: z.string().optional() })).optional(),
      })
      .optional(),
  }),
  `${P}.Namespace`,
  'A scope for names; most objects live in one.',
);
export type Namespace = z.infer<typeof NamespaceSchema>;

// ---- Service ----------------------------------------------------------------
export const ServicePortSchema = named(
  z.object({
    name: doc(z.string().optional(), 'Name of the port; required when a service has more than one.'),
    protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
    appProtocol: z.string().optional(),
    port: doc(int32(), 'Port the service listens on.'),
    targetPort: doc(IntOrString.optional(), "Port number or name on the pods; defaults to `port`."),
    nodePort: doc(int32().optional(), 'Port on every node (NodePort and LoadBalancer services).'),
  }),
  `${P}.ServicePort`,
  'A port a service exposes.',
);
export type ServicePort = z.infer<typeof ServicePortSchema>;

export const ServiceSpecSchema = named(
  z.object({
    ports: mergeList(ServicePortSchema, ['port', 'protocol'], 'Ports the service exposes.').optional(),
    selector: doc(StringMap.optional(), 'Pods with these labels back the service.'),
    clusterIP: doc(z.string().optional(), 'Virtual IP of the service, allocated from the service range; "None" makes it headless.'),
    clusterIPs: atomicList(z.string(), 'IP addresses of the service (one per family).').optional(),
    type: doc(z.enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']).optional(), 'ClusterIP (default), NodePort, LoadBalancer or ExternalName.'),
    externalIPs: z.array(z.string()).optional(),
    sessionAffinity: doc(z.enum(['ClientIP', 'None']).optional(), 'ClientIP pins each client to one backend.'),
    loadBalancerIP: z.string().optional(),
    loadBalancerSourceRanges: z.array(z.string()).optional(),
    externalName: z.string().optional(),
    externalTrafficPolicy: z.enum(['Cluster', 'Local']).optional(),
    healthCheckNodePort: int32().optional(),
    publishNotReadyAddresses: z.boolean().optional(),
    sessionAffinityConfig: z.object({ clientIP: z.object({ timeoutSeconds: int32().optional() }).optional() }).optional(),
    ipFamilies: z.array(z.enum(['IPv4', 'IPv6'])).optional(),
    ipFamilyPolicy: z.enum(['SingleStack', 'PreferDualStack', 'RequireDualStack']).optional(),
    allocateLoadBalancerNodePorts: z.boolean().optional(),
    loadBalancerClass: z.string().optional(),
    internalTrafficPolicy: z.enum(['Cluster', 'Local']).optional(),
    trafficDistribution: z.string().optional(),
  }),
  `${P}.ServiceSpec`,
  'The desired state of a service.',
);

export const ServiceSchema = named(
  z.object({
    ...objectBase,
    spec: ServiceSpecSchema.optional(),
    status: z
      .object({
        loadBalancer: z.object({ ingress: z.array(z.object({ ip: z.string().optional(), hostname: z.string().optional() }).loose()).optional() }).optional(),
        conditions: z.array(z.object({}).loose()).optional(),
      })
      .optional(),
  }),
  `${P}.Service`,
  'A stable virtual IP and name in front of a set of pods selected by labels.',
);
export type Service = z.infer<typeof ServiceSchema>;

// ---- Endpoints --------------------------------------------------------------
export const EndpointAddressSchema = named(
  z.object({ ip: z.string(), hostname: z.string().optional(), nodeName: z.string().optional(), targetRef: ObjectReferenceSchema.optional() }),
  `${P}.EndpointAddress`,
  'One backend address.',
);
export const EndpointPortSchema = named(
  z.object({ name: z.string().optional(), port: int32(), protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(), appProtocol: z.string().optional() }),
  `${P}.EndpointPort`,
  'One backend port.',
);
export const EndpointSubsetSchema = named(
  z.object({
    addresses: z.array(EndpointAddressSchema).optional(),
    notReadyAddresses: z.array(EndpointAddressSchema).optional(),
    ports: z.array(EndpointPortSchema).optional(),
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
    data: doc(StringMap.optional(), 'Configuration data as UTF-8 strings.'),
    binaryData: doc(StringMap.optional(), 'Binary data, base64-encoded.'),
    immutable: z.boolean().optional(),
  }),
  `${P}.ConfigMap`,
  'Configuration data for pods to consume as environment variables or files.',
);
export type ConfigMap = z.infer<typeof ConfigMapSchema>;

export const SecretSchema = named(
  z.object({
    ...objectBase,
    data: doc(StringMap.optional(), 'Secret values, base64-encoded.'),
    stringData: doc(StringMap.optional(), 'Write-only convenience: plain values merged into data on write.'),
    type: doc(z.string().optional(), 'Opaque (default), kubernetes.io/service-account-token, kubernetes.io/dockerconfigjson, ...'),
    immutable: z.boolean().optional(),
  }),
  `${P}.Secret`,
  'Sensitive data such as passwords, tokens or keys.',
);
export type Secret = z.infer<typeof SecretSchema>;

// ---- ServiceAccount -----------------------------------------------------------
export const ServiceAccountSchema = named(
  z.object({
    ...objectBase,
    secrets: mergeList(ObjectReferenceSchema, 'name', 'Secrets pods of this account may use.').optional(),
    imagePullSecrets: z.array(z.object({ name: z.string().optional() })).optional(),
    automountServiceAccountToken: z.boolean().optional(),
  }),
  `${P}.ServiceAccount`,
  'An identity for processes running in pods.',
);
export type ServiceAccount = z.infer<typeof ServiceAccountSchema>;

// ---- Event ----------------------------------------------------------------------
export const EventSchema = named(
  z.object({
    ...objectBase,
    involvedObject: doc(ObjectReferenceSchema, 'The object this event is about.'),
    reason: doc(z.string().optional(), 'Short machine-readable reason, e.g. Scheduled, Pulled, BackOff.'),
    message: doc(z.string().optional(), 'Human-readable description.'),
    source: z.object({ component: z.string().optional(), host: z.string().optional() }).optional(),
    firstTimestamp: Time.nullable().optional(),
    lastTimestamp: Time.nullable().optional(),
    count: int32().optional(),
    type: doc(z.string().optional(), 'Normal or Warning.'),
    eventTime: MicroTime.nullable().optional(),
    series: z.object({ count: int32().optional(), lastObservedTime: MicroTime.optional() }).optional(),
    action: z.string().optional(),
    related: ObjectReferenceSchema.optional(),
    reportingComponent: z.string().optional(),
    reportingInstance: z.string().optional(),
  }),
  `${P}.Event`,
  'A report of something that happened to an object, emitted by a component.',
);
export type Event = z.infer<typeof EventSchema>;

// ---- Node -----------------------------------------------------------------------
export const TaintSchema = named(
  z.object({
    key: z.string(),
    value: z.string().optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
    timeAdded: Time.nullable().optional(),
  }),
  `${P}.Taint`,
  'Repels pods that do not tolerate it.',
);
export type Taint = z.infer<typeof TaintSchema>;

export const NodeConditionSchema = named(
  z.object({
    type: z.string(),
    status: z.enum(['True', 'False', 'Unknown']),
    lastHeartbeatTime: Time.nullable().optional(),
    lastTransitionTime: Time.nullable().optional(),
    reason: z.string().optional(),
    message: z.string().optional(),
  }),
  `${P}.NodeCondition`,
  'One condition of a node: Ready, MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable.',
);
export type NodeCondition = z.infer<typeof NodeConditionSchema>;

export const NodeAddressSchema = named(z.object({ type: z.string(), address: z.string() }), `${P}.NodeAddress`, 'An address of a node (InternalIP, Hostname...).');

export const NodeSchema = named(
  z.object({
    ...objectBase,
    spec: z
      .object({
        podCIDR: doc(z.string().optional(), 'The pod IP range of this node, assigned by node IPAM.'),
        podCIDRs: z.array(z.string()).optional(),
        providerID: z.string().optional(),
        unschedulable: doc(z.boolean().optional(), 'Cordoned: no new pods are scheduled here.'),
        taints: atomicList(TaintSchema, 'Taints of the node.').optional(),
        configSource: z.unknown().optional(),
        externalID: z.string().optional(),
      })
      .meta({ id: `${P}.NodeSpec`, description: 'The desired state of a node.' })
      .optional(),
    status: z
      .object({
        capacity: ResourceListSchema.optional(),
        allocatable: ResourceListSchema.optional(),
        phase: z.string().optional(),
        conditions: mergeList(NodeConditionSchema, 'type', 'Current conditions of the node.').optional(),
        addresses: mergeList(NodeAddressSchema, 'type', 'Addresses of the node.').optional(),
        daemonEndpoints: z.object({ kubeletEndpoint: z.object({ Port: int32() }).optional() }).optional(),
        nodeInfo: z
          .object({
            machineID: z.string().optional(),
            systemUUID: z.string().optional(),
            bootID: z.string().optional(),
            kernelVersion: z.string().optional(),
            osImage: z.string().optional(),
            containerRuntimeVersion: z.string().optional(),
            kubeletVersion: z.string().optional(),
            kubeProxyVersion: z.string().optional(),
            operatingSystem: z.string().optional(),
            architecture: z.string().optional(),
          })
          .optional(),
        images: z.array(z.object({ names: z.array(z.string()).optional(), sizeBytes: int64().optional() })).optional(),
        volumesInUse: z.array(z.string()).optional(),
        volumesAttached: z.array(z.object({ name: z.string(), devicePath: z.string() })).optional(),
        config: z.unknown().optional(),
        runtimeHandlers: z.array(z.object({}).loose()).optional(),
        features: z.object({}).loose().optional(),
      })
      .meta({ id: `${P}.NodeStatus`, description: 'The observed state of a node, reported by its kubelet.' })
      .optional(),
  }),
  `${P}.Node`,
  'A worker machine; its kubelet registers it and reports its status.',
);
export type Node = z.infer<typeof NodeSchema>;

// ---- ReplicationController ---------------------------------------------------------
export const ReplicationControllerSchema = named(
  z.object({
    ...objectBase,
    spec: z
      .object({
        replicas: doc(int32().optional(), 'Desired number of pods. Default 1.'),
        minReadySeconds: int32().optional(),
        selector: doc(StringMap.optional(), 'Labels of the pods this controller manages; defaults to the template labels.'),
        template: PodTemplateSpecSchema.optional(),
      })
      .optional(),
    status: z
      .object({
        replicas: int32(),
        fullyLabeledReplicas: int32().optional(),
        readyReplicas: int32().optional(),
        availableReplicas: int32().optional(),
        observedGeneration: int64().optional(),
        conditions: z.array(z.object({}).loose()).optional(),
      })
      .optional(),
  }),
  `${P}.ReplicationController`,
  'Keeps a number of pod replicas running (the older form of ReplicaSet).',
);
export type ReplicationController = z.infer<typeof ReplicationControllerSchema>;

// ---- PersistentVolumeClaim (the volumeClaimTemplates of StatefulSets) ------------
export const PersistentVolumeClaimSpecSchema = named(
  z.object({
    accessModes: atomicList(z.string(), 'How the volume may be mounted: ReadWriteOnce, ReadOnlyMany, ReadWriteMany, ReadWriteOncePod.').optional(),
    selector: doc(LabelSelectorSchema.optional(), 'Labels of the existing volumes that may be bound.'),
    resources: z
      .object({
        limits: doc(ResourceListSchema.optional(), 'The most storage the claim may use.'),
        requests: doc(ResourceListSchema.optional(), 'The storage the claim asks for, e.g. storage: 1Gi.'),
      })
      .meta({ id: `${P}.VolumeResourceRequirements`, description: 'Storage requests and limits of a claim.' })
      .optional(),
    volumeName: doc(z.string().optional(), 'The volume bound to this claim.'),
    storageClassName: doc(z.string().optional(), 'The StorageClass that provisions the volume.'),
    volumeMode: doc(z.enum(['Block', 'Filesystem']).optional(), 'Filesystem (default) or Block.'),
    dataSource: z.object({ apiGroup: z.string().optional(), kind: z.string(), name: z.string() }).optional(),
    dataSourceRef: z.object({ apiGroup: z.string().optional(), kind: z.string(), name: z.string(), namespace: z.string().optional() }).optional(),
    volumeAttributesClassName: z.string().optional(),
  }),
  `${P}.PersistentVolumeClaimSpec`,
  'The storage a claim asks for.',
);

export const PersistentVolumeClaimSchema = named(
  z.object({
    ...objectBase,
    spec: PersistentVolumeClaimSpecSchema.optional(),
    status: z
      .object({
        phase: doc(z.string().optional(), 'Pending, Bound or Lost.'),
        accessModes: z.array(z.string()).optional(),
        capacity: ResourceListSchema.optional(),
        conditions: z.array(z.object({}).loose()).optional(),
      })
      .loose()
      .optional(),
  }),
  `${P}.PersistentVolumeClaim`,
  'A request for storage, bound to a persistent volume.',
);
export type PersistentVolumeClaim = z.infer<typeof PersistentVolumeClaimSchema>;

// ---- Binding --------------------------------------------------------------------
export const BindingSchema = named(
  z.object({ ...objectBase, target: ObjectReferenceSchema }),
  `${P}.Binding`,
  'Binds a pod to a node; posted by the scheduler to pods/binding.',
);
export type Binding = z.infer<typeof BindingSchema>;

export const PodTemplateSchema = named(z.object({ ...objectBase, template: PodTemplateSpecSchema.optional() }), `${P}.PodTemplate`, 'A template for pods.');

export const ComponentStatusSchema = named(
  z.object({ ...objectBase, conditions: z.array(z.object({ type: z.string(), status: z.string(), message: z.string().optional(), error: z.string().optional() })).optional() }),
  `${P}.ComponentStatus`,
  'Health of a control-plane component.',
);

export { ListMetaSchema, LabelSelectorSchema, OwnerReferenceSchema };
