/** core/v1 Pod and the types it is made of (containers, probes, security, scheduling, status). */
import { z, typeMeta, named, mergeList, mapList, atomicList, StringMap, Time, IntOrString, int32, int64, str, bool, i32, i64, opt, req, optEnum } from '../schema.js';
import { ObjectMetaSchema, LabelSelectorSchema } from '../meta/v1.js';
import {
  ResourceListSchema,
  LocalObjectReferenceSchema,
  ObjectFieldSelectorSchema,
  ResourceFieldSelectorSchema,
  ConfigMapKeySelectorSchema,
  SecretKeySelectorSchema,
  NodeSelectorSchema,
  NodeSelectorTermSchema,
  TolerationSchema,
} from './v1-common.js';
import { VolumeSourceShape } from './v1-volume.js';

export * from './v1-common.js';
export * from './v1-volume.js';

const P = 'io.k8s.api.core.v1';
const protocols = ['TCP', 'UDP', 'SCTP'] as const;

// ---- Environment ----------------------------------------------------------------------
export const EnvVarSourceSchema = named(
  z.object({
    fieldRef: opt(ObjectFieldSelectorSchema, 'A pod field: metadata.name, metadata.namespace, metadata.uid, metadata.labels[\'<key>\'], metadata.annotations[\'<key>\'], spec.nodeName, spec.serviceAccountName, status.hostIP, status.hostIPs, status.podIP or status.podIPs.'),
    resourceFieldRef: opt(ResourceFieldSelectorSchema, 'A resource limit or request of a container.'),
    configMapKeyRef: opt(ConfigMapKeySelectorSchema, 'A key of a ConfigMap in the pod namespace.'),
    secretKeyRef: opt(SecretKeySelectorSchema, 'A key of a Secret in the pod namespace.'),
  }),
  `${P}.EnvVarSource`,
  'Where the value of an environment variable comes from when it is not literal; exactly one field is set.',
);

export const EnvVarSchema = named(
  z.object({
    name: req(z.string(), 'Name of the environment variable.'),
    value: str('Literal value; $(VAR) references to variables defined earlier are expanded, $$(VAR) escapes. Default "".'),
    valueFrom: opt(EnvVarSourceSchema, 'Read the value from elsewhere; not allowed together with value.'),
  }),
  `${P}.EnvVar`,
  'An environment variable of a container.',
);

export const ConfigMapEnvSourceSchema = named(
  z.object({
    name: str('Name of the ConfigMap.'),
    optional: bool('When true, a missing ConfigMap is not an error.'),
  }),
  `${P}.ConfigMapEnvSource`,
  'A ConfigMap whose keys become environment variables.',
);

export const SecretEnvSourceSchema = named(
  z.object({
    name: str('Name of the Secret.'),
    optional: bool('When true, a missing Secret is not an error.'),
  }),
  `${P}.SecretEnvSource`,
  'A Secret whose keys become environment variables.',
);

export const EnvFromSourceSchema = named(
  z.object({
    prefix: str('Prefix prepended to every key to make the variable name.'),
    configMapRef: opt(ConfigMapEnvSourceSchema, 'The ConfigMap to import.'),
    secretRef: opt(SecretEnvSourceSchema, 'The Secret to import.'),
  }),
  `${P}.EnvFromSource`,
  'Imports every key of a ConfigMap or Secret as environment variables; keys that are not valid names are skipped.',
);

// ---- Ports, probes, lifecycle ---------------------------------------------------------------
export const ContainerPortSchema = named(
  z.object({
    name: str('An IANA_SVC_NAME (at most 15 lowercase letters, digits and dashes) naming the port; unique in the pod, referable from Services and probes.'),
    hostPort: i32('Port on the node the container port is exposed on; most containers do not need one.'),
    containerPort: req(int32(), 'Port number the container listens on, 1 to 65535.'),
    protocol: optEnum(protocols, 'TCP (default), UDP or SCTP.', 'TCP'),
    hostIP: str('Host IP the host port is bound to.'),
  }),
  `${P}.ContainerPort`,
  'A network port a container listens on. Listing ports is informational; unlisted ports are reachable too.',
);

export const ExecActionSchema = named(
  z.object({ command: atomicList(z.string(), 'Command line run in the container, not in a shell; exit status 0 means success.').optional() }),
  `${P}.ExecAction`,
  'Runs a command in the container.',
);

export const HTTPHeaderSchema = named(
  z.object({
    name: req(z.string(), 'Header name; normalised when sent.'),
    value: req(z.string(), 'Header value.'),
  }),
  `${P}.HTTPHeader`,
  'A header sent with an HTTP probe.',
);

export const HTTPGetActionSchema = named(
  z.object({
    path: str('Path to request. Default /.'),
    port: req(IntOrString, 'Port number or name on the container.'),
    host: str('Host to connect to; defaults to the pod IP. Set a Host header to pick a virtual host.'),
    scheme: optEnum(['HTTP', 'HTTPS'], 'HTTP (default) or HTTPS; certificates are not verified.'),
    httpHeaders: atomicList(HTTPHeaderSchema, 'Extra request headers.').optional(),
  }),
  `${P}.HTTPGetAction`,
  'An HTTP GET request; a status of 200 to 399 is success.',
);

export const TCPSocketActionSchema = named(
  z.object({
    port: req(IntOrString, 'Port number or name on the container.'),
    host: str('Host to connect to; defaults to the pod IP.'),
  }),
  `${P}.TCPSocketAction`,
  'Opens a TCP connection; success if it connects.',
);

export const GRPCActionSchema = named(
  z.object({
    port: req(int32(), 'Port of the gRPC service, 1 to 65535.'),
    service: str('Service name sent in the gRPC health check request; empty asks about the server as a whole.'),
  }),
  `${P}.GRPCAction`,
  'A gRPC health check (grpc.health.v1); SERVING is success.',
);

export const ProbeSchema = named(
  z.object({
    exec: opt(ExecActionSchema, 'Run a command in the container.'),
    httpGet: opt(HTTPGetActionSchema, 'Send an HTTP GET request.'),
    tcpSocket: opt(TCPSocketActionSchema, 'Open a TCP connection.'),
    grpc: opt(GRPCActionSchema, 'Call the gRPC health service.'),
    initialDelaySeconds: i32('Seconds after the container started before the first probe.'),
    timeoutSeconds: i32('Seconds after which one probe attempt times out. Default 1.'),
    periodSeconds: i32('Seconds between probes. Default 10.'),
    successThreshold: i32('Consecutive successes that count as success after a failure. Default 1; must be 1 for liveness and startup probes.'),
    failureThreshold: i32('Consecutive failures that count as failure. Default 3.'),
    terminationGracePeriodSeconds: i64('Grace period used when this probe fails and the container is killed; overrides the pod value. Liveness and startup probes only.'),
  }),
  `${P}.Probe`,
  'A health check the kubelet runs against a container; exactly one handler is set.',
);

export const SleepActionSchema = named(
  z.object({ seconds: req(int64(), 'Seconds to sleep.') }),
  `${P}.SleepAction`,
  'Waits for a number of seconds.',
);

export const LifecycleHandlerSchema = named(
  z.object({
    exec: opt(ExecActionSchema, 'Run a command in the container.'),
    httpGet: opt(HTTPGetActionSchema, 'Send an HTTP GET request.'),
    tcpSocket: opt(TCPSocketActionSchema, 'Deprecated and never run; kept for compatibility.'),
    sleep: opt(SleepActionSchema, 'Sleep for a while.'),
  }),
  `${P}.LifecycleHandler`,
  'An action run at a point of the container lifecycle; exactly one field is set.',
);

export const LifecycleSchema = named(
  z.object({
    postStart: opt(LifecycleHandlerSchema, 'Runs right after the container is created; the container is killed and restarted if it fails.'),
    preStop: opt(LifecycleHandlerSchema, 'Runs before the container is terminated on an API request or a management event; counts against the grace period.'),
  }),
  `${P}.Lifecycle`,
  'Hooks the kubelet runs around the life of a container.',
);

// ---- Security ---------------------------------------------------------------------------------
export const CapabilitiesSchema = named(
  z.object({
    add: atomicList(z.string(), 'Capabilities to add, e.g. NET_ADMIN.').optional(),
    drop: atomicList(z.string(), 'Capabilities to drop, e.g. ALL.').optional(),
  }),
  `${P}.Capabilities`,
  'Linux capabilities to add to or drop from the runtime default set.',
);

export const SELinuxOptionsSchema = named(
  z.object({
    user: str('SELinux user label.'),
    role: str('SELinux role label.'),
    type: str('SELinux type label.'),
    level: str('SELinux level label.'),
  }),
  `${P}.SELinuxOptions`,
  'SELinux labels applied to the container.',
);

export const WindowsSecurityContextOptionsSchema = named(
  z.object({
    gmsaCredentialSpecName: str('Name of the GMSA credential spec to use.'),
    gmsaCredentialSpec: str('Contents of the GMSA credential spec, filled in by the GMSA admission webhook.'),
    runAsUserName: str('Windows user the entrypoint runs as.'),
    hostProcess: bool('Run as a Windows HostProcess container; all containers of the pod must agree, and the pod must use the host network.'),
  }),
  `${P}.WindowsSecurityContextOptions`,
  'Windows-specific security settings.',
);

export const SeccompProfileSchema = named(
  z.object({
    type: req(z.enum(['Unconfined', 'RuntimeDefault', 'Localhost']), 'Localhost (a profile file on the node), RuntimeDefault or Unconfined.'),
    localhostProfile: str("For Localhost: path of the profile relative to the kubelet's seccomp directory."),
  }),
  `${P}.SeccompProfile`,
  'The seccomp profile a container runs under.',
);
export type SeccompProfile = z.infer<typeof SeccompProfileSchema>;

export const AppArmorProfileSchema = named(
  z.object({
    type: req(z.enum(['Unconfined', 'RuntimeDefault', 'Localhost']), 'Localhost (a profile loaded on the node), RuntimeDefault or Unconfined.'),
    localhostProfile: str('For Localhost: name of the profile loaded on the node.'),
  }),
  `${P}.AppArmorProfile`,
  'The AppArmor profile a container runs under.',
);

export const SecurityContextSchema = named(
  z.object({
    capabilities: opt(CapabilitiesSchema, 'Linux capabilities to add or drop. Not for Windows.'),
    privileged: bool('Run the container privileged: like root on the host, with all devices. Default false.'),
    seLinuxOptions: opt(SELinuxOptionsSchema, 'SELinux context of the container; overrides the pod setting.'),
    windowsOptions: opt(WindowsSecurityContextOptionsSchema, 'Windows-specific settings; overrides the pod setting.'),
    runAsUser: i64('UID the container process runs as; defaults to the image user. Overrides the pod setting.'),
    runAsGroup: i64('GID the container process runs as; defaults to the runtime default. Overrides the pod setting.'),
    runAsNonRoot: bool('Refuse to start the container if it would run as UID 0. Overrides the pod setting.'),
    readOnlyRootFilesystem: bool('Mount the root filesystem of the container read-only. Default false.'),
    allowPrivilegeEscalation: bool('Whether a process can gain more privileges than its parent (sets no_new_privs when false). Always true when privileged or with CAP_SYS_ADMIN.'),
    procMount: optEnum(['Default', 'Unmasked'], 'Default masks and read-only paths in /proc, or Unmasked (needs a user namespace).'),
    seccompProfile: opt(SeccompProfileSchema, 'Seccomp profile of the container; overrides the pod setting.'),
    appArmorProfile: opt(AppArmorProfileSchema, 'AppArmor profile of the container; overrides the pod setting.'),
  }),
  `${P}.SecurityContext`,
  'Security settings of a container; where a field is also in the pod security context, this one wins.',
);

// ---- Mounts and resources ----------------------------------------------------------------------
export const VolumeMountSchema = named(
  z.object({
    name: req(z.string(), 'Name of the pod volume to mount.'),
    readOnly: bool('Mount read-only. Default false.'),
    recursiveReadOnly: optEnum(['Disabled', 'IfPossible', 'Enabled'], 'Make a read-only mount read-only in its submounts too: Disabled (default), IfPossible or Enabled. Needs readOnly.'),
    mountPath: req(z.string(), "Path inside the container where the volume is mounted; may not contain ':'."),
    subPath: str('Path within the volume to mount instead of its root. Default "".'),
    mountPropagation: optEnum(['None', 'HostToContainer', 'Bidirectional'], 'How mounts propagate between host and container: None (default), HostToContainer or Bidirectional (privileged containers only).'),
    subPathExpr: str('Like subPath, with $(VAR) references to the container environment expanded; exclusive with subPath.'),
  }),
  `${P}.VolumeMount`,
  'A mount of a pod volume into a container.',
);

export const VolumeDeviceSchema = named(
  z.object({
    name: req(z.string(), 'Name of a pod volume backed by a block-mode PersistentVolumeClaim.'),
    devicePath: req(z.string(), 'Path inside the container where the device appears.'),
  }),
  `${P}.VolumeDevice`,
  'A raw block volume exposed as a device in a container.',
);

export const ResourceClaimSchema = named(
  z.object({
    name: req(z.string(), 'Name of an entry of the pod resourceClaims.'),
    request: str('Only this request of the claim; empty makes the whole claim available.'),
  }),
  `${P}.ResourceClaim`,
  'A dynamically allocated resource (DRA) a container uses.',
);

export const ResourceRequirementsSchema = named(
  z.object({
    limits: opt(ResourceListSchema, 'The most of each compute resource the container may use.'),
    requests: opt(ResourceListSchema, 'The compute resources the scheduler reserves for the container; default to the limits when unset.'),
    claims: mapList(ResourceClaimSchema, ['name'], 'Dynamically allocated resources (DRA claims of the pod) the container uses. Alpha.').optional(),
  }),
  `${P}.ResourceRequirements`,
  'Compute resource requests and limits.',
);

export const ContainerResizePolicySchema = named(
  z.object({
    resourceName: req(z.string(), 'Resource the policy is for: cpu or memory.'),
    restartPolicy: req(z.enum(['NotRequired', 'RestartContainer']), 'NotRequired (default): resize in place; RestartContainer: restart the container to apply the new value.'),
  }),
  `${P}.ContainerResizePolicy`,
  'What happens to a container when one of its resources is resized in place.',
);

const containerShape = {
  name: req(z.string(), 'Name of the container, a DNS label unique within the pod.'),
  image: str('Container image name. Required for containers, optional in templates that fill it in later.'),
  command: atomicList(z.string(), "Entrypoint array, not run in a shell; replaces the image's ENTRYPOINT. $(VAR) references are expanded.").optional(),
  args: atomicList(z.string(), "Arguments to the entrypoint; replace the image's CMD. $(VAR) references are expanded.").optional(),
  workingDir: str("Working directory of the container process; defaults to the image's."),
  ports: mergeList(ContainerPortSchema, ['containerPort', 'protocol'], 'Ports the container listens on.').optional(),
  envFrom: atomicList(EnvFromSourceSchema, 'Sources to populate environment variables from; env entries win on duplicates.').optional(),
  env: mergeList(EnvVarSchema, 'name', 'Environment variables to set in the container.').optional(),
  resources: opt(ResourceRequirementsSchema, 'Compute resources the container needs and may use.'),
  resizePolicy: atomicList(ContainerResizePolicySchema, 'How each resource is resized in place.').optional(),
  restartPolicy: optEnum(['Always'], 'For init containers only: Always makes it a sidecar that starts before the app containers and keeps running.'),
  volumeMounts: mergeList(VolumeMountSchema, 'mountPath', 'Volumes to mount into the container filesystem.').optional(),
  volumeDevices: mergeList(VolumeDeviceSchema, 'devicePath', 'Block volumes to expose as devices.').optional(),
  livenessProbe: opt(ProbeSchema, 'Restarts the container when it fails.'),
  readinessProbe: opt(ProbeSchema, 'Removes the pod from Service endpoints while it fails.'),
  startupProbe: opt(ProbeSchema, 'Holds back the other probes until it succeeds; the container is restarted if it fails.'),
  lifecycle: opt(LifecycleSchema, 'Hooks run after start and before stop.'),
  terminationMessagePath: str('File whose contents become the termination message. Default /dev/termination-log.'),
  terminationMessagePolicy: optEnum(['File', 'FallbackToLogsOnError'], 'File (default), or FallbackToLogsOnError to use the end of the log when the file is empty and the container failed.'),
  imagePullPolicy: optEnum(['Always', 'Never', 'IfNotPresent'], 'Always, Never or IfNotPresent; defaults to Always for :latest or untagged images, else IfNotPresent.'),
  securityContext: opt(SecurityContextSchema, 'Security settings of the container.'),
  stdin: bool('Keep a stdin buffer open for the container (for attach). Default false.'),
  stdinOnce: bool('Close stdin after the first attach session ends. Default false.'),
  tty: bool('Allocate a TTY; needs stdin. Default false.'),
};

export const ContainerSchema = named(z.object(containerShape), `${P}.Container`, 'A single application container that runs within a pod.');
export type Container = z.infer<typeof ContainerSchema>;

export const EphemeralContainerSchema = named(
  z.object({
    ...containerShape,
    targetContainerName: str('Container whose namespaces (IPC, PID...) the ephemeral container joins; needs runtime support.'),
  }),
  `${P}.EphemeralContainer`,
  'A temporary container added to a running pod for debugging; it has no ports, probes or resources and is never restarted.',
);

export const VolumeSchema = named(
  z.object({ name: req(z.string(), 'Name of the volume, a DNS label unique within the pod.'), ...VolumeSourceShape }),
  `${P}.Volume`,
  'A named volume that containers of the pod can mount; exactly one source is set.',
);
export type Volume = z.infer<typeof VolumeSchema>;

// ---- Scheduling -----------------------------------------------------------------------------
export const PreferredSchedulingTermSchema = named(
  z.object({
    weight: req(int32(), 'Weight of the term, 1 to 100.'),
    preference: req(NodeSelectorTermSchema, 'The node requirements.'),
  }),
  `${P}.PreferredSchedulingTerm`,
  'A weighted node preference; nodes matching it score the weight.',
);

export const NodeAffinitySchema = named(
  z.object({
    requiredDuringSchedulingIgnoredDuringExecution: opt(NodeSelectorSchema, 'Nodes the pod may be scheduled on; not re-checked once the pod runs.'),
    preferredDuringSchedulingIgnoredDuringExecution: atomicList(PreferredSchedulingTermSchema, 'Node preferences; the scheduler favours nodes with the highest total weight.').optional(),
  }),
  `${P}.NodeAffinity`,
  'Node constraints, required or preferred.',
);

export const PodAffinityTermSchema = named(
  z.object({
    labelSelector: opt(LabelSelectorSchema, 'The pods the term is about; unset matches no pod.'),
    namespaces: atomicList(z.string(), 'Namespaces the selected pods are in; with namespaceSelector unset and this empty, the pod namespace.').optional(),
    topologyKey: req(z.string(), 'Node label whose value defines the co-location domain, e.g. kubernetes.io/hostname or topology.kubernetes.io/zone.'),
    namespaceSelector: opt(LabelSelectorSchema, 'Namespaces (by label) the selected pods are in, added to namespaces; empty selects all namespaces.'),
    matchLabelKeys: atomicList(z.string(), "Label keys whose values, taken from this pod, are ANDed into labelSelector (beta).").optional(),
    mismatchLabelKeys: atomicList(z.string(), "Label keys whose values, taken from this pod, are added to labelSelector as NotIn (beta).").optional(),
  }),
  `${P}.PodAffinityTerm`,
  'Pods (selected by labels and namespaces) this pod should or should not share a topology domain with.',
);

export const WeightedPodAffinityTermSchema = named(
  z.object({
    weight: req(int32(), 'Weight of the term, 1 to 100.'),
    podAffinityTerm: req(PodAffinityTermSchema, 'The pods and the topology domain.'),
  }),
  `${P}.WeightedPodAffinityTerm`,
  'A weighted pod affinity preference.',
);

export const PodAffinitySchema = named(
  z.object({
    requiredDuringSchedulingIgnoredDuringExecution: atomicList(PodAffinityTermSchema, 'Terms that must all hold when the pod is scheduled.').optional(),
    preferredDuringSchedulingIgnoredDuringExecution: atomicList(WeightedPodAffinityTermSchema, 'Preferences; nodes score the weights of the terms they satisfy.').optional(),
  }),
  `${P}.PodAffinity`,
  'Co-locate the pod with other pods.',
);

export const PodAntiAffinitySchema = named(
  z.object({
    requiredDuringSchedulingIgnoredDuringExecution: atomicList(PodAffinityTermSchema, 'Terms that must all hold when the pod is scheduled.').optional(),
    preferredDuringSchedulingIgnoredDuringExecution: atomicList(WeightedPodAffinityTermSchema, 'Preferences; nodes score the weights of the terms they satisfy.').optional(),
  }),
  `${P}.PodAntiAffinity`,
  'Keep the pod away from other pods.',
);

export const AffinitySchema = named(
  z.object({
    nodeAffinity: opt(NodeAffinitySchema, 'Constraints on the node.'),
    podAffinity: opt(PodAffinitySchema, 'Pods to be near.'),
    podAntiAffinity: opt(PodAntiAffinitySchema, 'Pods to avoid.'),
  }),
  `${P}.Affinity`,
  'Scheduling constraints.',
);

export const TopologySpreadConstraintSchema = named(
  z.object({
    maxSkew: req(int32(), 'Largest allowed difference in matching pods between a domain and the least populated eligible domain; at least 1.'),
    topologyKey: req(z.string(), 'Node label whose values are the domains, e.g. topology.kubernetes.io/zone.'),
    whenUnsatisfiable: req(z.enum(['DoNotSchedule', 'ScheduleAnyway']), 'DoNotSchedule (a hard constraint) or ScheduleAnyway (prefer the least skew).'),
    labelSelector: opt(LabelSelectorSchema, 'The pods counted in each domain.'),
    minDomains: i32('Fewest eligible domains; with fewer, the global minimum counts as 0. Needs DoNotSchedule.'),
    nodeAffinityPolicy: optEnum(['Honor', 'Ignore'], "Whether the pod's node affinity and selector limit the nodes counted: Honor (default) or Ignore."),
    nodeTaintsPolicy: optEnum(['Honor', 'Ignore'], 'Whether node taints limit the nodes counted: Ignore (default) or Honor.'),
    matchLabelKeys: atomicList(z.string(), 'Label keys whose values, taken from this pod, are ANDed into labelSelector.').optional(),
  }),
  `${P}.TopologySpreadConstraint`,
  'How to spread matching pods over topology domains.',
);

export const SysctlSchema = named(
  z.object({ name: req(z.string(), 'Name of the sysctl.'), value: req(z.string(), 'Value to set.') }),
  `${P}.Sysctl`,
  'A kernel parameter to set.',
);

export const PodSecurityContextSchema = named(
  z.object({
    seLinuxOptions: opt(SELinuxOptionsSchema, 'SELinux context of all containers; defaults to a random one per container.'),
    windowsOptions: opt(WindowsSecurityContextOptionsSchema, 'Windows-specific settings of all containers.'),
    runAsUser: i64('UID all container processes run as unless a container sets its own.'),
    runAsGroup: i64('GID all container processes run as unless a container sets its own.'),
    runAsNonRoot: bool('Refuse to start containers that would run as UID 0.'),
    supplementalGroups: atomicList(int64(), 'Extra groups the first process of each container belongs to.').optional(),
    supplementalGroupsPolicy: optEnum(['Merge', 'Strict'], 'Merge (default): add the groups of the image user; Strict: only the listed groups. Alpha.'),
    fsGroup: i64('Group that owns the volumes (files made group-writable and setgid) and is added to every container process.'),
    sysctls: atomicList(SysctlSchema, 'Namespaced kernel parameters set for the pod.').optional(),
    fsGroupChangePolicy: optEnum(['OnRootMismatch', 'Always'], 'When volume ownership is changed to fsGroup: Always (default) or OnRootMismatch (only if the root directory does not match).'),
    seccompProfile: opt(SeccompProfileSchema, 'Seccomp profile of all containers.'),
    appArmorProfile: opt(AppArmorProfileSchema, 'AppArmor profile of all containers.'),
    seLinuxChangePolicy: optEnum(['Recursive', 'MountOption'], 'How volumes get their SELinux label: Recursive relabels every file, MountOption mounts with a context option. Alpha.'),
  }),
  `${P}.PodSecurityContext`,
  'Security settings for every container of the pod; container settings win where both are set.',
);

export const PodDNSConfigOptionSchema = named(
  z.object({ name: str('Resolver option name, e.g. ndots.'), value: str('Option value, if it takes one.') }),
  `${P}.PodDNSConfigOption`,
  'A resolver option.',
);

export const PodDNSConfigSchema = named(
  z.object({
    nameservers: atomicList(z.string(), 'DNS server IPs added to those the DNS policy gives; at most 3 in total.').optional(),
    searches: atomicList(z.string(), 'Search domains added to those the DNS policy gives.').optional(),
    options: atomicList(PodDNSConfigOptionSchema, 'Resolver options; these override options of the same name from the DNS policy.').optional(),
  }),
  `${P}.PodDNSConfig`,
  'Extra DNS settings merged into the resolv.conf generated from the DNS policy.',
);

export const HostAliasSchema = named(
  z.object({
    ip: req(z.string(), 'IP address the host names resolve to.'),
    hostnames: atomicList(z.string(), 'Host names for the IP address.').optional(),
  }),
  `${P}.HostAlias`,
  "An entry added to the pod's /etc/hosts.",
);

export const PodReadinessGateSchema = named(
  z.object({ conditionType: req(z.string(), 'A pod condition type that must be True for the pod to be ready.') }),
  `${P}.PodReadinessGate`,
  'An extra condition the pod readiness waits for.',
);

export const PodOSSchema = named(
  z.object({ name: req(z.enum(['linux', 'windows']), 'linux or windows; enables the validation of the OS-specific fields.') }),
  `${P}.PodOS`,
  'The operating system the containers of the pod need.',
);

export const PodSchedulingGateSchema = named(
  z.object({ name: req(z.string(), 'Name of the gate; unique within the pod.') }),
  `${P}.PodSchedulingGate`,
  'Holds the pod back from scheduling until it is removed.',
);

export const PodResourceClaimSchema = named(
  z.object({
    name: req(z.string(), 'Name of the entry, a DNS label referred to by container resources.claims.'),
    resourceClaimName: str('An existing ResourceClaim in the pod namespace; exclusive with resourceClaimTemplateName.'),
    resourceClaimTemplateName: str('A ResourceClaimTemplate from which a claim is made for this pod and deleted with it.'),
  }),
  `${P}.PodResourceClaim`,
  'A dynamically allocated resource (DRA) the pod needs.',
);

export const PodSpecSchema = named(
  z.object({
    volumes: mergeList(VolumeSchema, 'name', 'Volumes that containers of the pod can mount.', { retainKeys: true }).optional(),
    initContainers: mergeList(ContainerSchema, 'name', 'Containers run one after another, each to completion, before the app containers start; sidecars (restartPolicy Always) keep running.').optional(),
    containers: mergeList(ContainerSchema, 'name', 'The containers of the pod. At least one; cannot be added or removed later.'),
    ephemeralContainers: mergeList(EphemeralContainerSchema, 'name', 'Debugging containers added to a running pod through the ephemeralcontainers subresource.').optional(),
    restartPolicy: optEnum(['Always', 'OnFailure', 'Never'], 'When the kubelet restarts exited containers: Always (default), OnFailure or Never.'),
    terminationGracePeriodSeconds: i64('Seconds between the termination signal and the kill on deletion; 0 kills at once. Default 30.'),
    activeDeadlineSeconds: i64('Seconds the pod may be active (counted from its start) before it is failed.'),
    dnsPolicy: optEnum(['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'], 'ClusterFirst (default): resolve through cluster DNS; Default: the node resolver; ClusterFirstWithHostNet: cluster DNS with host networking; None: only dnsConfig.'),
    nodeSelector: opt(StringMap, 'Labels a node must have for the pod to be scheduled on it.'),
    serviceAccountName: str('ServiceAccount the pod runs as. Default default.'),
    serviceAccount: str('Deprecated alias of serviceAccountName.'),
    automountServiceAccountToken: bool('Mount an API token for the service account into the containers.'),
    nodeName: str('The node the pod is bound to; set by the scheduler through the binding subresource, or by hand to skip scheduling.'),
    hostNetwork: bool("Use the node's network namespace; ports must then be declared. Default false."),
    hostPID: bool("Use the node's PID namespace. Default false."),
    hostIPC: bool("Use the node's IPC namespace. Default false."),
    shareProcessNamespace: bool('Share one PID namespace between all containers, so they see and can signal each other. Default false.'),
    securityContext: opt(PodSecurityContextSchema, 'Pod-level security settings.'),
    imagePullSecrets: mergeList(LocalObjectReferenceSchema, 'name', 'Secrets in the pod namespace with registry credentials for pulling images.').optional(),
    hostname: str('Host name of the pod; defaults to the pod name.'),
    subdomain: str('With a headless Service of this name, gives the pod the DNS name <hostname>.<subdomain>.<namespace>.svc.<cluster domain>.'),
    affinity: opt(AffinitySchema, 'Node and pod affinity constraints.'),
    schedulerName: str('Scheduler that places the pod. Default default-scheduler.'),
    tolerations: atomicList(TolerationSchema, 'Taints the pod tolerates.').optional(),
    hostAliases: mergeList(HostAliasSchema, 'ip', 'Entries added to /etc/hosts (not with host networking).').optional(),
    priorityClassName: str('PriorityClass of the pod; system-node-critical and system-cluster-critical are built in.'),
    priority: i32('Priority resolved from the PriorityClass by admission; higher pods schedule first and may preempt lower ones.'),
    dnsConfig: opt(PodDNSConfigSchema, 'Extra DNS settings.'),
    readinessGates: atomicList(PodReadinessGateSchema, 'Extra pod conditions readiness waits for.').optional(),
    runtimeClassName: str('RuntimeClass (container runtime handler) the pod runs with; unset uses the default handler.'),
    enableServiceLinks: bool('Inject <SVC>_SERVICE_HOST style variables for the services of the namespace. Default true.'),
    preemptionPolicy: optEnum(['PreemptLowerPriority', 'Never'], 'Whether the pod may preempt lower-priority pods: PreemptLowerPriority (default) or Never.'),
    overhead: opt(ResourceListSchema, 'Resources the pod sandbox uses, added from the RuntimeClass by admission.'),
    topologySpreadConstraints: mergeList(TopologySpreadConstraintSchema, ['topologyKey', 'whenUnsatisfiable'], 'How matching pods spread over topology domains; all must hold.').optional(),
    setHostnameAsFQDN: bool('Set the kernel host name to the fully qualified domain name. Default false.'),
    os: opt(PodOSSchema, 'Operating system the pod needs.'),
    hostUsers: bool("Use the host user namespace (default true); false runs the pod in its own user namespace."),
    schedulingGates: mergeList(PodSchedulingGateSchema, 'name', 'Gates that hold the pod back from scheduling until they are all removed.').optional(),
    resourceClaims: mergeList(PodResourceClaimSchema, 'name', 'Dynamically allocated resources (DRA) the pod needs. Alpha.', { retainKeys: true }).optional(),
    resources: opt(ResourceRequirementsSchema, 'Pod-level requests and limits (cpu and memory) shared by the containers. Alpha.'),
  }),
  `${P}.PodSpec`,
  'The desired state of a pod.',
);
export type PodSpec = z.infer<typeof PodSpecSchema>;

// ---- Status ---------------------------------------------------------------------------------
export const ContainerStateWaitingSchema = named(
  z.object({
    reason: str('Why the container is not running yet, e.g. ContainerCreating, ImagePullBackOff or CrashLoopBackOff.'),
    message: str('Details of the reason.'),
  }),
  `${P}.ContainerStateWaiting`,
  'A container that is not running yet.',
);

export const ContainerStateRunningSchema = named(
  z.object({ startedAt: opt(Time, 'When the container last (re)started.') }),
  `${P}.ContainerStateRunning`,
  'A running container.',
);

export const ContainerStateTerminatedSchema = named(
  z.object({
    exitCode: req(int32(), 'Exit status of the container process.'),
    signal: i32('Signal that ended the process.'),
    reason: str('Short reason, e.g. Completed, Error or OOMKilled.'),
    message: str('Details, e.g. the termination message.'),
    startedAt: opt(Time, 'When the container started.'),
    finishedAt: opt(Time, 'When the container exited.'),
    containerID: str('Runtime ID of the container, as <type>://<id>.'),
  }),
  `${P}.ContainerStateTerminated`,
  'A container that has exited.',
);

export const ContainerStateSchema = named(
  z.object({
    waiting: opt(ContainerStateWaitingSchema, 'Set while the container waits to run.'),
    running: opt(ContainerStateRunningSchema, 'Set while the container runs.'),
    terminated: opt(ContainerStateTerminatedSchema, 'Set once the container exited.'),
  }),
  `${P}.ContainerState`,
  'The state of a container: exactly one of waiting, running and terminated (waiting when none is set).',
);

export const VolumeMountStatusSchema = named(
  z.object({
    name: req(z.string(), 'Name of the volume mount.'),
    mountPath: req(z.string(), 'Path of the mount in the container.'),
    readOnly: bool('Whether the mount is read-only.'),
    recursiveReadOnly: optEnum(['Disabled', 'IfPossible', 'Enabled'], 'Whether the read-only mount is recursively read-only: Disabled or Enabled.'),
  }),
  `${P}.VolumeMountStatus`,
  'The observed state of a volume mount.',
);

export const LinuxContainerUserSchema = named(
  z.object({
    uid: req(int64(), 'UID of the first container process.'),
    gid: req(int64(), 'GID of the first container process.'),
    supplementalGroups: atomicList(int64(), 'Supplementary groups of the first container process.').optional(),
  }),
  `${P}.LinuxContainerUser`,
  'The Linux identity of the first process of a container.',
);

export const ContainerUserSchema = named(
  z.object({ linux: opt(LinuxContainerUserSchema, 'The Linux identity.') }),
  `${P}.ContainerUser`,
  'The identity the first process of a container runs as.',
);

export const ResourceHealthSchema = named(
  z.object({
    resourceID: req(z.string(), 'ID of the device, unique within its resource.'),
    health: optEnum(['Healthy', 'Unhealthy', 'Unknown'], 'Healthy, Unhealthy or Unknown.'),
  }),
  `${P}.ResourceHealth`,
  'Health of one device allocated to a container.',
);

export const ResourceStatusSchema = named(
  z.object({
    name: req(z.string(), 'Resource name, e.g. a device-plugin resource or claim:<claim>/<request>.'),
    resources: mapList(ResourceHealthSchema, ['resourceID'], 'Health of each device allocated for the resource.').optional(),
  }),
  `${P}.ResourceStatus`,
  'Health of the devices allocated to a container for one resource.',
);

export const ContainerStatusSchema = named(
  z.object({
    name: req(z.string(), 'Name of the container, as in the pod spec.'),
    state: opt(ContainerStateSchema, 'Current state.'),
    lastState: opt(ContainerStateSchema, 'State of the previous run, usually its termination.'),
    ready: req(z.boolean(), 'Whether the container passes its readiness probe (and has started).'),
    restartCount: req(int32(), 'Times the container has been restarted.'),
    image: req(z.string(), 'Image the container runs.'),
    imageID: req(z.string(), 'ID (digest) of the image the container runs.'),
    containerID: str('Runtime ID of the container, as <type>://<id>.'),
    started: bool('Whether the container has started and passed its startup probe.'),
    allocatedResources: opt(ResourceListSchema, 'Resources the node allocated to the container (in-place resize).'),
    resources: opt(ResourceRequirementsSchema, 'Requests and limits the container runs with now.'),
    volumeMounts: mergeList(VolumeMountStatusSchema, 'mountPath', 'The observed volume mounts.').optional(),
    user: opt(ContainerUserSchema, 'Identity of the first container process.'),
    allocatedResourcesStatus: mergeList(ResourceStatusSchema, 'name', 'Health of the devices allocated to the container.').optional(),
  }),
  `${P}.ContainerStatus`,
  'The observed state of one container.',
);
export type ContainerStatus = z.infer<typeof ContainerStatusSchema>;

export const PodConditionSchema = named(
  z.object({
    type: req(z.string(), 'PodScheduled, PodReadyToStartContainers, Initialized, ContainersReady, Ready, DisruptionTarget, or a readiness gate.'),
    status: req(z.enum(['True', 'False', 'Unknown']), 'True, False or Unknown.'),
    observedGeneration: i64('The pod generation the condition was set for.'),
    lastProbeTime: opt(Time.nullable(), 'When the condition was last probed.'),
    lastTransitionTime: opt(Time.nullable(), 'When the status last changed.'),
    reason: str('Machine-readable reason of the last transition.'),
    message: str('Human-readable details of the last transition.'),
  }),
  `${P}.PodCondition`,
  'One condition of a pod.',
);
export type PodCondition = z.infer<typeof PodConditionSchema>;

export const HostIPSchema = named(z.object({ ip: req(z.string(), 'An IP address of the node.') }), `${P}.HostIP`, 'An IP address of the node the pod runs on.');
export const PodIPSchema = named(z.object({ ip: req(z.string(), 'An IP address of the pod.') }), `${P}.PodIP`, 'An IP address of the pod.');

export const PodResourceClaimStatusSchema = named(
  z.object({
    name: req(z.string(), 'Name of the entry in the pod resourceClaims.'),
    resourceClaimName: str('Name of the ResourceClaim made for the pod; unset when none was needed.'),
  }),
  `${P}.PodResourceClaimStatus`,
  'The ResourceClaim made for a pod claim from a template.',
);

export const PodStatusSchema = named(
  z.object({
    observedGeneration: i64('The pod generation the status was written for.'),
    phase: optEnum(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'], 'Where the pod is in its lifecycle: Pending, Running, Succeeded, Failed or Unknown.'),
    conditions: mergeList(PodConditionSchema, 'type', 'Current conditions of the pod.').optional(),
    message: str('Why the pod is in this state.'),
    reason: str('Short reason for the state, e.g. Evicted.'),
    nominatedNodeName: str('Node the scheduler preempted pods on for this pod; it may still land elsewhere.'),
    hostIP: str('Primary IP address of the node the pod is bound to.'),
    hostIPs: mergeList(HostIPSchema, 'ip', 'IP addresses of the node; the first equals hostIP.', { listType: 'atomic' }).optional(),
    podIP: str('Primary IP address of the pod, from its node range.'),
    podIPs: mergeList(PodIPSchema, 'ip', 'IP addresses of the pod, at most one per family; the first equals podIP.').optional(),
    startTime: opt(Time, 'When the kubelet accepted the pod, before its images were pulled.'),
    initContainerStatuses: atomicList(ContainerStatusSchema, 'Status of each init container.').optional(),
    containerStatuses: atomicList(ContainerStatusSchema, 'Status of each app container.').optional(),
    qosClass: optEnum(['Guaranteed', 'Burstable', 'BestEffort'], 'Quality of service class, from the requests and limits: Guaranteed, Burstable or BestEffort.'),
    ephemeralContainerStatuses: atomicList(ContainerStatusSchema, 'Status of each ephemeral container.').optional(),
    resize: str('Progress of an in-place resize: Proposed, InProgress, Deferred or Infeasible.'),
    resourceClaimStatuses: mergeList(PodResourceClaimStatusSchema, 'name', 'ResourceClaims made for the pod from templates.', { retainKeys: true }).optional(),
  }),
  `${P}.PodStatus`,
  'The observed state of a pod, written by the kubelet.',
);
export type PodStatus = z.infer<typeof PodStatusSchema>;

export const PodSchema = named(
  z.object({
    ...typeMeta,
    metadata: ObjectMetaSchema,
    spec: opt(PodSpecSchema, 'What the pod should run.'),
    status: opt(PodStatusSchema, 'What the pod is doing; read-only for users.'),
  }),
  `${P}.Pod`,
  'A group of containers sharing network and storage, scheduled together onto a node.',
);
export type Pod = z.infer<typeof PodSchema>;

export const PodTemplateSpecSchema = named(
  z.object({
    metadata: opt(ObjectMetaSchema, 'Labels and annotations of the pods made from the template.'),
    spec: opt(PodSpecSchema, 'Spec of the pods made from the template.'),
  }),
  `${P}.PodTemplateSpec`,
  'The pods a controller creates are made from this template.',
);
export type PodTemplateSpec = z.infer<typeof PodTemplateSpecSchema>;
