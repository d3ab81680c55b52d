/**
 * ContainerRuntime: what the kubelet needs from a container engine, in the spirit of the
 * Kubernetes CRI. A pod is a *sandbox* (the pause container, holding the pod's namespaces)
 * plus *containers* that join it. Docker is one adapter (docker/), FakeRuntime another.
 *
 * Life of a container, as seen through inspect:
 *
 *   createContainer ──► created ──startContainer──► running ──(exit, kill, stop)──► exited
 *                          │                                                        │
 *                          └──────────────────── removeContainer ◄──────────────────┘
 *
 * Sandboxes go the same way; their state is `ready` while the pause process runs, and
 * `notready` before start and after it stopped or died (an app container cannot outlive the
 * namespaces it joined, so a notready sandbox means the pod must be re-created).
 *
 * Everything the runtime creates carries labels naming the pod (uid, namespace, name), the
 * container's name in the pod and its restart count, and for containers the sandbox id, so
 * that a restarted kubelet finds and adopts what runs with `listSandboxes`/`listContainers`.
 */
import type { Duplex, Readable, Writable } from 'node:stream';

export interface RuntimeVersion {
  /** "docker", "fake", ... */
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
  kernelVersion?: string;
  operatingSystem?: string;
  cgroupDriver?: string;
  cgroupVersion?: string;
}

// ---- Sandboxes ---------------------------------------------------------------------------------

export interface PodSandboxMetadata {
  uid: string;
  namespace: string;
  name: string;
  /** How many sandboxes this pod had before this one (0 for the first). */
  attempt: number;
}

export interface SandboxConfig {
  metadata: PodSandboxMetadata;
  /** Hostname of the pod; default the pod name. Containers share it. */
  hostname?: string;
  /** The pod's labels and annotations, kept on the sandbox for people and for adoption. */
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Use the node's network namespace: no pod network is set up for such a sandbox. */
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  /** Containers join the sandbox's PID namespace, where pause is PID 1 and reaps orphans. */
  shareProcessNamespace?: boolean;
  /** Namespaced sysctls of the pod (net.*, kernel.shm*, ...). */
  sysctls?: Record<string, string>;
  /** The pod-level seccomp profile, for the pause container. Unset: the runtime's default. */
  seccomp?: SeccompProfile;
  cgroupParent?: string;
  /** The pause image; default: the runtime's configured pod infra image. */
  image?: string;
  /** The runtime handler of the pod's RuntimeClass (Docker: a runtime name such as runc); every container of the pod uses it. */
  runtimeHandler?: string;
}

export type SandboxState = 'ready' | 'notready';

export interface SandboxSummary {
  id: string;
  metadata: PodSandboxMetadata;
  state: SandboxState;
  createdAt: Date;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface SandboxStatus extends SandboxSummary {
  /** PID of the pause process in the host PID namespace while ready: how to enter its network namespace. */
  pid?: number;
  hostNetwork: boolean;
  shareProcessNamespace: boolean;
  startedAt?: Date;
  /** Set once the pause process has ended (stopped, killed, died). */
  finishedAt?: Date;
  exitCode?: number;
}

export interface SandboxFilter {
  podUID?: string;
  state?: SandboxState;
  /** Every label must match (on the runtime's labels, e.g. io.kubernetes.pod.namespace). */
  labels?: Record<string, string>;
}

// ---- Containers --------------------------------------------------------------------------------

export interface ContainerMetadata {
  /** The container's name in the pod spec. */
  name: string;
  /** Restart count: 0 for the first container of this name in this pod, then 1, 2, ... */
  attempt: number;
}

export interface Mount {
  /** Path on the node (a volume's folder, prepared by the caller). */
  hostPath: string;
  containerPath: string;
  readOnly?: boolean;
  /** Mount propagation (Kubernetes None/HostToContainer/Bidirectional); default private. */
  propagation?: 'private' | 'rslave' | 'rshared';
}

/**
 * Resource settings of one container, already resolved to numbers. The adapter maps them like
 * the kubelet does for cgroups: CPU request → shares (1024 per core, at least 2), CPU limit →
 * quota over a 100ms period, memory limit → the memory cgroup's limit.
 */
export interface LinuxResources {
  cpuRequestMilli?: number;
  cpuLimitMilli?: number;
  memoryLimitBytes?: number;
  /** -1000..1000; the kubelet sets it from the pod's QoS class. */
  oomScoreAdj?: number;
}

/**
 * The seccomp filter a sandbox or container runs under (CRI's SecurityProfile): none, the
 * runtime's default profile, or a profile file on the node (an absolute path the kubelet
 * resolved under its seccomp folder).
 */
export type SeccompProfile = { type: 'Unconfined' } | { type: 'RuntimeDefault' } | { type: 'Localhost'; path: string };

export interface ContainerSecurity {
  runAsUser?: number;
  runAsGroup?: number;
  supplementalGroups?: number[];
  readOnlyRootFilesystem?: boolean;
  privileged?: boolean;
  /** Names as in Kubernetes (NET_ADMIN, or ALL); CAP_ prefixes are accepted too. */
  capabilities?: { add?: string[]; drop?: string[] };
  /** Sets no_new_privs (Kubernetes allowPrivilegeEscalation: false). */
  noNewPrivileges?: boolean;
  /** Unset: the runtime's default profile. */
  seccomp?: SeccompProfile;
}

export interface ContainerConfig {
  metadata: ContainerMetadata;
  image: string;
  /** Replaces the image's ENTRYPOINT when set (Kubernetes `command`). */
  command?: string[];
  /** Replaces the image's CMD when set (Kubernetes `args`). */
  args?: string[];
  workingDir?: string;
  /** Resolved environment, in order; later entries win. */
  env?: Array<{ name: string; value: string }>;
  mounts?: Mount[];
  /** A file on the node mounted as /etc/hosts (the kubelet writes it per pod). */
  hostsPath?: string;
  /** A file on the node mounted as /etc/resolv.conf. */
  resolvConfPath?: string;
  /** A file on the node mounted as /etc/hostname (the pod's hostname). */
  hostnamePath?: string;
  resources?: LinuxResources;
  security?: ContainerSecurity;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  /**
   * Join this container's PID namespace (CRI's NamespaceMode TARGET: an ephemeral container's
   * targetContainerName) instead of a namespace of its own. Ignored when the sandbox's PID
   * namespace is shared (shareProcessNamespace) or the host's (hostPID), as upstream. The
   * target must be running when this container starts.
   */
  pidTargetContainerId?: string;
  /** Signal that stopContainer sends first when the caller names none; default the image's, else SIGTERM. */
  stopSignal?: string;
  labels?: Record<string, string>;
  /** Kept with the container (restart count is added by the runtime) and returned by inspect/list. */
  annotations?: Record<string, string>;
  cgroupParent?: string;
}

export type ContainerState = 'created' | 'running' | 'exited' | 'unknown';

export interface ContainerSummary {
  id: string;
  sandboxId: string;
  podUID: string;
  podNamespace: string;
  podName: string;
  metadata: ContainerMetadata;
  /** The image as asked for (e.g. tkube/busybox:1.36). */
  image: string;
  /** The image's id (sha256:...), Kubernetes' imageID. */
  imageId: string;
  state: ContainerState;
  createdAt: Date;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface ContainerStatus extends ContainerSummary {
  startedAt?: Date;
  finishedAt?: Date;
  exitCode?: number;
  /** Kubernetes' terminated reason: Completed, Error, OOMKilled, ContainerCannotRun. */
  reason?: string;
  /** The runtime's explanation when it could not run the container. */
  message?: string;
  oomKilled: boolean;
  /** PID of the container's first process (host PID namespace) while running. */
  pid?: number;
  mounts: Mount[];
}

export interface ContainerFilter {
  sandboxId?: string;
  podUID?: string;
  state?: ContainerState;
  /** Every label must match. */
  labels?: Record<string, string>;
}

export interface PodObjectsFilter {
  podUID?: string;
  /** Every label must match. */
  labels?: Record<string, string>;
}

export interface PodObjects {
  sandboxes: SandboxSummary[];
  containers: ContainerSummary[];
}

export interface StopOptions {
  /** Seconds between the stop signal and SIGKILL; 0 kills at once. */
  gracePeriodSeconds: number;
  /** First signal; default the container's stop signal (SIGTERM unless the image says otherwise). */
  signal?: string;
}

export interface StopResult {
  /** True when the container did not exit within the grace period and was killed. */
  killed: boolean;
  exitCode?: number;
}

// ---- Images ------------------------------------------------------------------------------------

export interface ImageInfo {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  sizeBytes: number;
  /** The image's default user ("" = root), for runAsNonRoot checks; known from imageStatus, not from listImages. */
  user?: string;
}

export interface PullOptions {
  auth?: { username?: string; password?: string; serverAddress?: string; identityToken?: string };
  /** Progress lines as the engine reports them. */
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
}

// ---- Streams -----------------------------------------------------------------------------------

export interface LogOptions {
  /** Keep the stream open and send new output until the container stops or `signal` aborts. */
  follow?: boolean;
  /** Only the last N lines. */
  tail?: number;
  /** Only output written at or after this time. */
  since?: Date;
  /** Prefix each line with its RFC 3339 timestamp (nanoseconds) and a space, like kubectl --timestamps. */
  timestamps?: boolean;
  /**
   * Logs of the instance before the given container: the container of the same pod and name
   * with the highest lower restart count that still exists (kubectl logs --previous).
   */
  previous?: boolean;
  /** Stop after this many bytes. */
  limitBytes?: number;
  signal?: AbortSignal;
}

export interface TerminalSize {
  width: number;
  height: number;
}

export interface StreamOptions {
  /** Sent to the process; its end closes the process's stdin. */
  stdin?: Readable;
  /** Receive the output; they are not ended by the session. With tty, stderr is merged into stdout. */
  stdout?: Writable;
  stderr?: Writable;
  tty?: boolean;
  /** Initial terminal size for tty sessions. */
  size?: TerminalSize;
}

export interface ExecOptions extends StreamOptions {
  cmd: string[];
}

export interface StreamResult {
  /** Exit code of an exec'd command; for attach, of the container when it exited during the session. */
  exitCode?: number;
}

/**
 * An open exec or attach session. `done` resolves when the output ends (the command exited,
 * the container stopped, or close() was called); it rejects only when the connection fails.
 */
export interface StreamSession {
  resize(size: TerminalSize): Promise<void>;
  readonly done: Promise<StreamResult>;
  /** Ends the session from the caller's side. An attached container keeps running. */
  close(): void;
}

export interface ExecSyncResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
  /** True when the command was still running at the timeout (exitCode is then -1). */
  timedOut: boolean;
}

// ---- Stats -------------------------------------------------------------------------------------

export interface ContainerStats {
  id: string;
  timestamp: Date;
  /** Cumulative CPU time in nanoseconds. */
  cpuUsageCoreNanoSeconds: number;
  memoryUsageBytes: number;
  /** Usage less inactive file cache: what the kubelet evicts and `kubectl top` reports on. */
  memoryWorkingSetBytes: number;
  memoryRssBytes?: number;
  /** The memory limit the container runs under; undefined when unlimited. */
  memoryLimitBytes?: number;
}

/**
 * Contract shared by every implementation:
 * - Ids are the runtime's full ids; methods taking an id also accept a unique prefix.
 * - A missing sandbox, container or image is a RuntimeError with reason NotFound (see errors.ts);
 *   a name clash on create is AlreadyExists; an engine that does not answer is Unavailable.
 * - stop and remove are idempotent: stopping an exited container resolves at once with its exit
 *   code; removing a container or sandbox that is already gone resolves.
 * - Methods are safe to call concurrently for different objects; for one object the caller
 *   serialises (the kubelet's pod worker does).
 * - Nothing here talks to the API server or knows about pod specs: the kubelet resolves the
 *   spec (env, volumes to host paths, resources to numbers) before calling in.
 */
export interface ContainerRuntime {
  version(): Promise<RuntimeVersion>;

  /** Creates the pause container (not started) and returns its id. */
  createSandbox(config: SandboxConfig): Promise<string>;
  startSandbox(id: string): Promise<void>;
  /** Stops the sandbox's app containers, then the pause container, each with the grace period. */
  stopSandbox(id: string, gracePeriodSeconds?: number): Promise<void>;
  /** Removes the sandbox and every container in it, stopping them first. */
  removeSandbox(id: string): Promise<void>;
  inspectSandbox(id: string): Promise<SandboxStatus>;
  listSandboxes(filter?: SandboxFilter): Promise<SandboxSummary[]>;

  /** Creates a container (not started) that joins the sandbox's namespaces. */
  createContainer(sandboxId: string, config: ContainerConfig): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** Sends the stop signal, waits up to the grace period, then SIGKILL; resolves once it has exited. */
  stopContainer(id: string, opts: StopOptions): Promise<StopResult>;
  removeContainer(id: string): Promise<void>;
  inspectContainer(id: string): Promise<ContainerStatus>;
  /** Containers of sandboxes (never sandboxes themselves), any state. */
  listContainers(filter?: ContainerFilter): Promise<ContainerSummary[]>;
  /**
   * Sandboxes and containers together (of one pod, or every one matching the labels) in a single
   * query to the engine: what a pod read and a relist need, at half the calls of the two lists.
   */
  listPodObjects(filter?: PodObjectsFilter): Promise<PodObjects>;

  /** The image if it is present on the node, else undefined. */
  imageStatus(ref: string): Promise<ImageInfo | undefined>;
  pullImage(ref: string, opts?: PullOptions): Promise<ImageInfo>;
  listImages(): Promise<ImageInfo[]>;
  removeImage(ref: string): Promise<void>;

  /**
   * The container's output as a byte stream: stdout and stderr interleaved in the order the
   * engine recorded them (Docker keeps each stream's order, not the order between the two).
   */
  logs(containerId: string, opts?: LogOptions): Promise<Readable>;
  exec(containerId: string, opts: ExecOptions): Promise<StreamSession>;
  /** Runs a command to completion and collects its output (exec probes). */
  execSync(containerId: string, cmd: string[], opts?: { timeoutMs?: number }): Promise<ExecSyncResult>;
  /** Connects to the running container's main process (its stdin if opened with stdin: true). */
  attach(containerId: string, opts: StreamOptions): Promise<StreamSession>;
  /**
   * Connects `stream` to TCP `port` on localhost inside the sandbox's network namespace and
   * copies both ways until either side closes. Rejects when nothing listens there.
   */
  portForward(sandboxId: string, port: number, stream: Duplex): Promise<void>;
  stats(containerId: string): Promise<ContainerStats>;
}
