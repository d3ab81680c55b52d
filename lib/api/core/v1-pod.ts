/** core/v1 Pod and the types it is made of (containers, volumes, probes, status). */
import { z, doc, named, mergeList, atomicList, StringMap, Time, IntOrString, Quantity, int32, int64 } from '../schema.js';
import { ObjectMetaSchema, LabelSelectorSchema } from '../meta/v1.js';

const P = 'io.k8s.api.core.v1';

export const ResourceListSchema = z.record(z.string(), Quantity);

export const ObjectFieldSelectorSchema = named(
  z.object({ apiVersion: z.string().optional(), fieldPath: doc(z.string(), 'Path of the field to select, e.g. metadata.name or status.podIP.') }),
  `${P}.ObjectFieldSelector`,
  'Selects a field of the pod.',
);
export const ResourceFieldSelectorSchema = named(
  z.object({
    containerName: z.string().optional(),
    resource: doc(z.string(), 'Resource to select: limits.cpu, limits.memory, requests.cpu, requests.memory, ...'),
    divisor: Quantity.optional(),
  }),
  `${P}.ResourceFieldSelector`,
  'Selects a container resource (limits or requests).',
);
export const ConfigMapKeySelectorSchema = named(
  z.object({ name: z.string().optional(), key: z.string(), optional: z.boolean().optional() }),
  `${P}.ConfigMapKeySelector`,
  'Selects a key of a ConfigMap.',
);
export const SecretKeySelectorSchema = named(
  z.object({ name: z.string().optional(), key: z.string(), optional: z.boolean().optional() }),
  `${P}.SecretKeySelector`,
  'Selects a key of a Secret.',
);

export const EnvVarSchema = named(
  z.object({
    name: doc(z.string(), 'Name of the environment variable.'),
    value: doc(z.string().optional(), 'Value; $(VAR) references to earlier variables are expanded.'),
    valueFrom: z
      .object({
        fieldRef: ObjectFieldSelectorSchema.optional(),
        resourceFieldRef: ResourceFieldSelectorSchema.optional(),
        configMapKeyRef: ConfigMapKeySelectorSchema.optional(),
        secretKeyRef: SecretKeySelectorSchema.optional(),
      })
      .meta({ id: `${P}.EnvVarSource`, description: 'Where the value comes from when it is not literal.' })
      .optional(),
  }),
  `${P}.EnvVar`,
  'An environment variable of a container.',
);

export const EnvFromSourceSchema = named(
  z.object({
    prefix: z.string().optional(),
    configMapRef: z.object({ name: z.string().optional(), optional: z.boolean().optional() }).optional(),
    secretRef: z.object({ name: z.string().optional(), optional: z.boolean().optional() }).optional(),
  }),
  `${P}.EnvFromSource`,
  'Imports every key of a ConfigMap or Secret as environment variables.',
);

export const ContainerPortSchema = named(
  z.object({
    name: doc(z.string().optional(), 'An IANA_SVC_NAME naming the port, referable from Services.'),
    hostPort: doc(int32().optional(), 'Port on the host to expose the container port on.'),
    containerPort: doc(int32(), 'Port number the container listens on.'),
    protocol: doc(z.enum(['TCP', 'UDP', 'SCTP']).optional(), 'TCP (default), UDP or SCTP.'),
    hostIP: z.string().optional(),
  }),
  `${P}.ContainerPort`,
  'A network port in a container.',
);

export const ExecActionSchema = named(z.object({ command: atomicList(z.string(), 'Command line to run in the container.').optional() }), `${P}.ExecAction`, 'Runs a command in the container.');
export const HTTPHeaderSchema = z.object({ name: z.string(), value: z.string() });
export const HTTPGetActionSchema = named(
  z.object({
    path: z.string().optional(),
    port: IntOrString,
    host: z.string().optional(),
    scheme: z.enum(['HTTP', 'HTTPS']).optional(),
    httpHeaders: z.array(HTTPHeaderSchema).optional(),
  }),
  `${P}.HTTPGetAction`,
  'An HTTP GET request; 200-399 means success.',
);
export const TCPSocketActionSchema = named(z.object({ port: IntOrString, host: z.string().optional() }), `${P}.TCPSocketAction`, 'Opens a TCP connection; success if it connects.');
export const GRPCActionSchema = z.object({ port: int32(), service: z.string().optional() });

export const ProbeSchema = named(
  z.object({
    exec: ExecActionSchema.optional(),
    httpGet: HTTPGetActionSchema.optional(),
    tcpSocket: TCPSocketActionSchema.optional(),
    grpc: GRPCActionSchema.optional(),
    initialDelaySeconds: doc(int32().optional(), 'Seconds after the container started before the first probe.'),
    timeoutSeconds: doc(int32().optional(), 'Seconds after which the probe times out. Default 1.'),
    periodSeconds: doc(int32().optional(), 'How often (seconds) to probe. Default 10.'),
    successThreshold: doc(int32().optional(), 'Consecutive successes to count as success after a failure. Default 1.'),
    failureThreshold: doc(int32().optional(), 'Consecutive failures to count as failure. Default 3.'),
    terminationGracePeriodSeconds: int64().optional(),
  }),
  `${P}.Probe`,
  'A health check the kubelet runs against a container.',
);

export const LifecycleHandlerSchema = named(
  z.object({
    exec: ExecActionSchema.optional(),
    httpGet: HTTPGetActionSchema.optional(),
    tcpSocket: TCPSocketActionSchema.optional(),
    sleep: z.object({ seconds: int64() }).optional(),
  }),
  `${P}.LifecycleHandler`,
  'An action run at a point of the container lifecycle.',
);
export const LifecycleSchema = named(
  z.object({
    postStart: doc(LifecycleHandlerSchema.optional(), 'Runs right after the container is created; the container is killed if it fails.'),
    preStop: doc(LifecycleHandlerSchema.optional(), 'Runs before the container is terminated; counts against the grace period.'),
  }),
  `${P}.Lifecycle`,
  'Hooks the kubelet runs around a container lifecycle.',
);

export const CapabilitiesSchema = z.object({ add: z.array(z.string()).optional(), drop: z.array(z.string()).optional() });
export const SeccompProfileSchema = z.object({ type: z.enum(['Unconfined', 'RuntimeDefault', 'Localhost']), localhostProfile: z.string().optional() });
export const SELinuxOptionsSchema = z.object({ user: z.string().optional(), role: z.string().optional(), type: z.string().optional(), level: z.string().optional() });

export const SecurityContextSchema = named(
  z.object({
    capabilities: doc(CapabilitiesSchema.optional(), 'Linux capabilities to add or drop.'),
    privileged: doc(z.boolean().optional(), 'Run the container privileged (all capabilities, all devices).'),
    seLinuxOptions: SELinuxOptionsSchema.optional(),
    runAsUser: doc(int64().optional(), 'UID the container process runs as.'),
    runAsGroup: int64().optional(),
    runAsNonRoot: doc(z.boolean().optional(), 'Refuse to start the container if it would run as UID 0.'),
    readOnlyRootFilesystem: doc(z.boolean().optional(), 'Mount the root filesystem read-only.'),
    allowPrivilegeEscalation: z.boolean().optional(),
    procMount: z.string().optional(),
    seccompProfile: SeccompProfileSchema.optional(),
    appArmorProfile: z.object({ type: z.string(), localhostProfile: z.string().optional() }).optional(),
  }),
  `${P}.SecurityContext`,
  'Security settings of a container.',
);

export const VolumeMountSchema = named(
  z.object({
    name: doc(z.string(), 'Name of the pod volume to mount.'),
    readOnly: z.boolean().optional(),
    recursiveReadOnly: z.string().optional(),
    mountPath: doc(z.string(), 'Path inside the container where the volume is mounted.'),
    subPath: doc(z.string().optional(), 'Path within the volume to mount instead of its root.'),
    mountPropagation: z.string().optional(),
    subPathExpr: z.string().optional(),
  }),
  `${P}.VolumeMount`,
  'A mount of a pod volume into a container.',
);

export const ResourceRequirementsSchema = named(
  z.object({
    limits: doc(ResourceListSchema.optional(), 'The most compute resource the container may use.'),
    requests: doc(ResourceListSchema.optional(), 'The compute resource the scheduler reserves for the container.'),
    claims: z.array(z.object({ name: z.string(), request: z.string().optional() })).optional(),
  }),
  `${P}.ResourceRequirements`,
  'Compute resource requests and limits.',
);

export const ContainerSchema = named(
  z.object({
    name: doc(z.string(), 'Name of the container, a DNS label unique within the pod.'),
    image: doc(z.string().optional(), 'Container image name.'),
    command: atomicList(z.string(), "Entrypoint array; replaces the image's ENTRYPOINT.").optional(),
    args: atomicList(z.string(), "Arguments to the entrypoint; replace the image's CMD.").optional(),
    workingDir: doc(z.string().optional(), 'Working directory of the container process.'),
    ports: mergeList(ContainerPortSchema, ['containerPort', 'protocol'], 'Ports the container exposes.').optional(),
    envFrom: atomicList(EnvFromSourceSchema, 'Sources to populate environment variables from.').optional(),
    env: mergeList(EnvVarSchema, 'name', 'Environment variables to set in the container.').optional(),
    resources: ResourceRequirementsSchema.optional(),
    resizePolicy: z.array(z.object({ resourceName: z.string(), restartPolicy: z.string() })).optional(),
    restartPolicy: doc(z.enum(['Always']).optional(), 'For init containers only: Always makes it a sidecar that keeps running.'),
    volumeMounts: mergeList(VolumeMountSchema, 'mountPath', 'Volumes to mount into the container filesystem.').optional(),
    volumeDevices: z.array(z.object({ name: z.string(), devicePath: z.string() })).optional(),
    livenessProbe: doc(ProbeSchema.optional(), 'Restarts the container when it fails.'),
    readinessProbe: doc(ProbeSchema.optional(), 'Removes the pod from Service endpoints while it fails.'),
    startupProbe: doc(ProbeSchema.optional(), 'Holds back the other probes until the container has started.'),
    lifecycle: LifecycleSchema.optional(),
    terminationMessagePath: z.string().optional(),
    terminationMessagePolicy: z.enum(['File', 'FallbackToLogsOnError']).optional(),
    imagePullPolicy: doc(z.enum(['Always', 'Never', 'IfNotPresent']).optional(), 'Always, Never or IfNotPresent; defaults to Always for :latest, else IfNotPresent.'),
    securityContext: SecurityContextSchema.optional(),
    stdin: z.boolean().optional(),
    stdinOnce: z.boolean().optional(),
    tty: z.boolean().optional(),
  }),
  `${P}.Container`,
  'A single application container that runs within a pod.',
);
export type Container = z.infer<typeof ContainerSchema>;

export const EphemeralContainerSchema = named(ContainerSchema.extend({ targetContainerName: z.string().optional() }), `${P}.EphemeralContainer`, 'A temporary container added to a running pod for debugging.');

const KeyToPathSchema = named(z.object({ key: z.string(), path: z.string(), mode: int32().optional() }), `${P}.KeyToPath`, 'Maps a key to a file path in a volume.');

export const VolumeSourceShape = {
  hostPath: z.object({ path: z.string(), type: z.string().optional() }).meta({ id: `${P}.HostPathVolumeSource`, description: 'A file or directory on the host.' }).optional(),
  emptyDir: z
    .object({ medium: z.enum(['', 'Memory']).optional(), sizeLimit: Quantity.optional() })
    .meta({ id: `${P}.EmptyDirVolumeSource`, description: 'A directory that starts empty and lives as long as the pod.' })
    .optional(),
  configMap: z
    .object({ name: z.string().optional(), items: z.array(KeyToPathSchema).optional(), defaultMode: int32().optional(), optional: z.boolean().optional() })
    .meta({ id: `${P}.ConfigMapVolumeSource`, description: 'The keys of a ConfigMap as files.' })
    .optional(),
  secret: z
    .object({ secretName: z.string().optional(), items: z.array(KeyToPathSchema).optional(), defaultMode: int32().optional(), optional: z.boolean().optional() })
    .meta({ id: `${P}.SecretVolumeSource`, description: 'The keys of a Secret as files.' })
    .optional(),
  downwardAPI: z
    .object({
      items: z
        .array(z.object({ path: z.string(), fieldRef: ObjectFieldSelectorSchema.optional(), resourceFieldRef: ResourceFieldSelectorSchema.optional(), mode: int32().optional() }))
        .optional(),
      defaultMode: int32().optional(),
    })
    .meta({ id: `${P}.DownwardAPIVolumeSource`, description: 'Pod fields as files.' })
    .optional(),
  projected: z
    .object({
      sources: z
        .array(
          z.object({
            secret: z.object({ name: z.string().optional(), items: z.array(KeyToPathSchema).optional(), optional: z.boolean().optional() }).optional(),
            configMap: z.object({ name: z.string().optional(), items: z.array(KeyToPathSchema).optional(), optional: z.boolean().optional() }).optional(),
            downwardAPI: z
              .object({ items: z.array(z.object({ path: z.string(), fieldRef: ObjectFieldSelectorSchema.optional(), resourceFieldRef: ResourceFieldSelectorSchema.optional(), mode: int32().optional() })).optional() })
              .optional(),
            serviceAccountToken: z.object({ audience: z.string().optional(), expirationSeconds: int64().optional(), path: z.string() }).optional(),
          }),
        )
        .optional(),
      defaultMode: int32().optional(),
    })
    .meta({ id: `${P}.ProjectedVolumeSource`, description: 'Several sources projected into one directory.' })
    .optional(),
  persistentVolumeClaim: z.object({ claimName: z.string(), readOnly: z.boolean().optional() }).optional(),
  nfs: z.object({ server: z.string(), path: z.string(), readOnly: z.boolean().optional() }).optional(),
};

export const VolumeSchema = named(
  z.object({ name: doc(z.string(), 'Name of the volume, a DNS label unique within the pod.'), ...VolumeSourceShape }),
  `${P}.Volume`,
  'A named volume that containers of the pod can mount.',
);
export type Volume = z.infer<typeof VolumeSchema>;

export const TolerationSchema = named(
  z.object({
    key: z.string().optional(),
    operator: z.enum(['Exists', 'Equal']).optional(),
    value: z.string().optional(),
    effect: z.enum(['', 'NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
    tolerationSeconds: doc(int64().optional(), 'For NoExecute: how long the pod stays bound after the taint appears.'),
  }),
  `${P}.Toleration`,
  'Lets a pod be scheduled (or stay) on nodes with a matching taint.',
);
export type Toleration = z.infer<typeof TolerationSchema>;

export const NodeSelectorRequirementSchema = named(
  z.object({ key: z.string(), operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']), values: z.array(z.string()).optional() }),
  `${P}.NodeSelectorRequirement`,
  'A key, an operator and values, matched against node labels or fields.',
);
export const NodeSelectorTermSchema = named(
  z.object({ matchExpressions: z.array(NodeSelectorRequirementSchema).optional(), matchFields: z.array(NodeSelectorRequirementSchema).optional() }),
  `${P}.NodeSelectorTerm`,
  'Requirements that must all hold.',
);
export const NodeSelectorSchema = named(z.object({ nodeSelectorTerms: z.array(NodeSelectorTermSchema) }), `${P}.NodeSelector`, 'Terms ORed together.');

export const PodAffinityTermSchema = named(
  z.object({
    labelSelector: LabelSelectorSchema.optional(),
    namespaceSelector: LabelSelectorSchema.optional(),
    namespaces: z.array(z.string()).optional(),
    topologyKey: doc(z.string(), 'Node label whose value defines the co-location domain (e.g. kubernetes.io/hostname).'),
    matchLabelKeys: z.array(z.string()).optional(),
    mismatchLabelKeys: z.array(z.string()).optional(),
  }),
  `${P}.PodAffinityTerm`,
  'Pods (selected by labels) this pod should or should not be co-located with, within a topology domain.',
);
export const WeightedPodAffinityTermSchema = z.object({ weight: int32(), podAffinityTerm: PodAffinityTermSchema });

export const AffinitySchema = named(
  z.object({
    nodeAffinity: z
      .object({
        requiredDuringSchedulingIgnoredDuringExecution: NodeSelectorSchema.optional(),
        preferredDuringSchedulingIgnoredDuringExecution: z.array(z.object({ weight: int32(), preference: NodeSelectorTermSchema })).optional(),
      })
      .meta({ id: `${P}.NodeAffinity`, description: 'Node constraints, required or preferred.' })
      .optional(),
    podAffinity: z
      .object({
        requiredDuringSchedulingIgnoredDuringExecution: z.array(PodAffinityTermSchema).optional(),
        preferredDuringSchedulingIgnoredDuringExecution: z.array(WeightedPodAffinityTermSchema).optional(),
      })
      .meta({ id: `${P}.PodAffinity`, description: 'Co-locate with other pods.' })
      .optional(),
    podAntiAffinity: z
      .object({
        requiredDuringSchedulingIgnoredDuringExecution: z.array(PodAffinityTermSchema).optional(),
        preferredDuringSchedulingIgnoredDuringExecution: z.array(WeightedPodAffinityTermSchema).optional(),
      })
      .meta({ id: `${P}.PodAntiAffinity`, description: 'Keep away from other pods.' })
      .optional(),
  }),
  `${P}.Affinity`,
  'Scheduling constraints.',
);

export const TopologySpreadConstraintSchema = named(
  z.object({
    maxSkew: int32(),
    topologyKey: z.string(),
    whenUnsatisfiable: z.enum(['DoNotSchedule', 'ScheduleAnyway']),
    labelSelector: LabelSelectorSchema.optional(),
    minDomains: int32().optional(),
    nodeAffinityPolicy: z.enum(['Honor', 'Ignore']).optional(),
    nodeTaintsPolicy: z.enum(['Honor', 'Ignore']).optional(),
    matchLabelKeys: z.array(z.string()).optional(),
  }),
  `${P}.TopologySpreadConstraint`,
  'How to spread matching pods over topology domains.',
);

export const PodSecurityContextSchema = named(
  z.object({
    seLinuxOptions: SELinuxOptionsSchema.optional(),
    runAsUser: int64().optional(),
    runAsGroup: int64().optional(),
    runAsNonRoot: z.boolean().optional(),
    supplementalGroups: z.array(int64()).optional(),
    fsGroup: int64().optional(),
    fsGroupChangePolicy: z.string().optional(),
    sysctls: z.array(z.object({ name: z.string(), value: z.string() })).optional(),
    seccompProfile: SeccompProfileSchema.optional(),
    appArmorProfile: z.object({ type: z.string(), localhostProfile: z.string().optional() }).optional(),
  }),
  `${P}.PodSecurityContext`,
  'Security settings for every container of the pod.',
);

export const PodDNSConfigSchema = named(
  z.object({
    nameservers: z.array(z.string()).optional(),
    searches: z.array(z.string()).optional(),
    options: z.array(z.object({ name: z.string().optional(), value: z.string().optional() })).optional(),
  }),
  `${P}.PodDNSConfig`,
  'Extra DNS settings merged into the generated resolv.conf.',
);

export const PodSpecSchema = named(
  z.object({
    volumes: mergeList(VolumeSchema, 'name', 'Volumes that containers of the pod can mount.', { retainKeys: true }).optional(),
    initContainers: mergeList(ContainerSchema, 'name', 'Containers run one after another, each to completion, before the app containers start.').optional(),
    containers: mergeList(ContainerSchema, 'name', 'The containers of the pod. At least one.'),
    ephemeralContainers: mergeList(EphemeralContainerSchema, 'name', 'Debugging containers added to a running pod.').optional(),
    restartPolicy: doc(z.enum(['Always', 'OnFailure', 'Never']).optional(), 'Always (default), OnFailure or Never.'),
    terminationGracePeriodSeconds: doc(int64().optional(), 'Seconds between SIGTERM and SIGKILL on deletion. Default 30.'),
    activeDeadlineSeconds: int64().optional(),
    dnsPolicy: doc(z.enum(['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None']).optional(), 'ClusterFirst (default): resolve through cluster DNS.'),
    nodeSelector: doc(StringMap.optional(), 'Labels a node must have for the pod to be scheduled on it.'),
    serviceAccountName: doc(z.string().optional(), 'ServiceAccount the pod runs as.'),
    serviceAccount: z.string().optional(),
    automountServiceAccountToken: z.boolean().optional(),
    nodeName: doc(z.string().optional(), 'The node the pod is bound to; set by the scheduler through the binding subresource.'),
    hostNetwork: doc(z.boolean().optional(), "Use the node's network namespace."),
    hostPID: z.boolean().optional(),
    hostIPC: z.boolean().optional(),
    shareProcessNamespace: doc(z.boolean().optional(), 'Share one PID namespace between all containers of the pod.'),
    securityContext: PodSecurityContextSchema.optional(),
    imagePullSecrets: mergeList(z.object({ name: z.string().optional() }), 'name', 'Secrets with registry credentials for pulling images.').optional(),
    hostname: z.string().optional(),
    subdomain: z.string().optional(),
    affinity: AffinitySchema.optional(),
    schedulerName: doc(z.string().optional(), 'Scheduler that places the pod. Default default-scheduler.'),
    tolerations: atomicList(TolerationSchema, 'Taints the pod tolerates.').optional(),
    hostAliases: z.array(z.object({ ip: z.string(), hostnames: z.array(z.string()).optional() })).optional(),
    priorityClassName: z.string().optional(),
    priority: doc(int32().optional(), 'Priority from the PriorityClass; higher pods schedule first and may preempt lower ones.'),
    dnsConfig: PodDNSConfigSchema.optional(),
    readinessGates: z.array(z.object({ conditionType: z.string() })).optional(),
    runtimeClassName: z.string().optional(),
    enableServiceLinks: doc(z.boolean().optional(), 'Inject <SVC>_SERVICE_HOST style variables for existing services. Default true.'),
    preemptionPolicy: z.enum(['PreemptLowerPriority', 'Never']).optional(),
    overhead: ResourceListSchema.optional(),
    topologySpreadConstraints: mergeList(TopologySpreadConstraintSchema, ['topologyKey', 'whenUnsatisfiable'], 'How matching pods spread over domains.').optional(),
    setHostnameAsFQDN: z.boolean().optional(),
    os: z.object({ name: z.string() }).optional(),
    hostUsers: z.boolean().optional(),
    schedulingGates: z.array(z.object({ name: z.string() })).optional(),
    resourceClaims: z.array(z.object({ name: z.string() }).loose()).optional(),
  }),
  `${P}.PodSpec`,
  'The desired state of a pod.',
);
export type PodSpec = z.infer<typeof PodSpecSchema>;

export const ContainerStateSchema = named(
  z.object({
    waiting: z.object({ reason: z.string().optional(), message: z.string().optional() }).optional(),
    running: z.object({ startedAt: Time.optional() }).optional(),
    terminated: z
      .object({
        exitCode: int32(),
        signal: int32().optional(),
        reason: z.string().optional(),
        message: z.string().optional(),
        startedAt: Time.optional(),
        finishedAt: Time.optional(),
        containerID: z.string().optional(),
      })
      .optional(),
  }),
  `${P}.ContainerState`,
  'Exactly one of waiting, running, terminated.',
);

export const ContainerStatusSchema = named(
  z.object({
    name: z.string(),
    state: ContainerStateSchema.optional(),
    lastState: ContainerStateSchema.optional(),
    ready: z.boolean(),
    restartCount: int32(),
    image: z.string(),
    imageID: z.string(),
    containerID: z.string().optional(),
    started: z.boolean().optional(),
    allocatedResources: ResourceListSchema.optional(),
    resources: ResourceRequirementsSchema.optional(),
  }),
  `${P}.ContainerStatus`,
  'The observed state of one container.',
);
export type ContainerStatus = z.infer<typeof ContainerStatusSchema>;

export const PodConditionSchema = named(
  z.object({
    type: z.string(),
    status: z.enum(['True', 'False', 'Unknown']),
    observedGeneration: int64().optional(),
    lastProbeTime: Time.nullable().optional(),
    lastTransitionTime: Time.nullable().optional(),
    reason: z.string().optional(),
    message: z.string().optional(),
  }),
  `${P}.PodCondition`,
  'One condition of a pod: PodScheduled, Initialized, ContainersReady, Ready, PodReadyToStartContainers.',
);
export type PodCondition = z.infer<typeof PodConditionSchema>;

export const PodStatusSchema = named(
  z.object({
    observedGeneration: int64().optional(),
    phase: doc(z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']).optional(), 'Pending, Running, Succeeded, Failed or Unknown.'),
    conditions: mergeList(PodConditionSchema, 'type', 'Current conditions of the pod.').optional(),
    message: z.string().optional(),
    reason: z.string().optional(),
    nominatedNodeName: z.string().optional(),
    hostIP: z.string().optional(),
    hostIPs: z.array(z.object({ ip: z.string() })).optional(),
    podIP: doc(z.string().optional(), 'IP address of the pod, from its node range.'),
    podIPs: z.array(z.object({ ip: z.string() })).optional(),
    startTime: Time.optional(),
    initContainerStatuses: z.array(ContainerStatusSchema).optional(),
    containerStatuses: z.array(ContainerStatusSchema).optional(),
    qosClass: z.enum(['Guaranteed', 'Burstable', 'BestEffort']).optional(),
    ephemeralContainerStatuses: z.array(ContainerStatusSchema).optional(),
    resize: z.string().optional(),
  }),
  `${P}.PodStatus`,
  'The observed state of a pod, written by the kubelet.',
);
export type PodStatus = z.infer<typeof PodStatusSchema>;

export const PodSchema = named(
  z.object({
    apiVersion: z.string().optional(),
    kind: z.string().optional(),
    metadata: ObjectMetaSchema,
    spec: PodSpecSchema.optional(),
    status: PodStatusSchema.optional(),
  }),
  `${P}.Pod`,
  'A group of containers sharing network and storage, scheduled together onto a node.',
);
export type Pod = z.infer<typeof PodSchema>;

export const PodTemplateSpecSchema = named(
  z.object({ metadata: ObjectMetaSchema.optional(), spec: PodSpecSchema.optional() }),
  `${P}.PodTemplateSpec`,
  'The pods a controller creates are made from this template.',
);
export type PodTemplateSpec = z.infer<typeof PodTemplateSpecSchema>;
