/**
 * The controller manager's plug-in point. Every controller is a ControllerDescriptor: a name
 * (as `--controllers` knows it), whether it runs by default, and a factory that builds a
 * Runnable from the shared context. Controllers never talk to each other: each only reads
 * through the shared informers and writes through the client (the design notes' rule).
 */
import type { Logger } from 'pino';
import type { Clock, MetricsRegistry, Runnable } from '../base/index.js';
import type { EventRecorder, KubeClient, SharedInformerFactory } from '../client/index.js';

export interface ControllerManagerOptions {
  /** The CA bundle published as kube-root-ca.crt in every namespace (--root-ca-file, else the kubeconfig's CA). */
  rootCA?: string;
  /** --service-account-private-key-file's PEM: signs the tokens of service account token Secrets (serviceaccount-token runs only with it). */
  serviceAccountPrivateKey?: string;
  /** --cluster-signing-cert-file/--cluster-signing-key-file's PEM and --cluster-signing-duration: csrsigning runs only with them. */
  clusterSigning?: { certPEM: string; keyPEM: string; durationMs: number };
  /** --cluster-cidr, for node IPAM (default 10.244.0.0/16). */
  clusterCIDR: string;
  /** --allocate-node-cidrs */
  allocateNodeCIDRs: boolean;
  /** --node-cidr-mask-size (default 24). */
  nodeCIDRMaskSize: number;
  /** --service-cluster-ip-range, so node IPAM never hands out service addresses. */
  serviceClusterIPRange: string;
  /** --node-monitor-grace-period in ms (default 40s). */
  nodeMonitorGracePeriodMs: number;
  /** --node-monitor-period in ms (default 5s). */
  nodeMonitorPeriodMs: number;
  /** --node-eviction-rate (nodes per second whose pods may be evicted, default 0.1). */
  nodeEvictionRate: number;
  /** --terminated-pod-gc-threshold (default 12500). */
  terminatedPodGCThreshold: number;
  /** Workers per controller (--concurrent-*-syncs; default 5). */
  concurrentSyncs: number;
  /**
   * Workers of one controller by its name, from its own --concurrent-<x>-syncs flag
   * (endpoint 5, endpointslice 5, garbagecollector 20, namespace 10, ...); read it with
   * `concurrentSyncsFor`. Controllers absent here use `concurrentSyncs`.
   */
  concurrentSyncsByController?: Record<string, number>;
  /** --node-startup-grace-period in ms: the grace of a node that never posted status (default 60s). */
  nodeStartupGracePeriodMs?: number;
  /** --secondary-node-eviction-rate: the tainting rate of a large zone in partial disruption (default 0.01). */
  secondaryNodeEvictionRate?: number;
  /** --large-cluster-size-threshold: zones above this size keep tainting, slowly, in partial disruption (default 50). */
  largeClusterSizeThreshold?: number;
  /** --unhealthy-zone-threshold: the share of not-ready nodes that puts a zone in partial disruption (default 0.55). */
  unhealthyZoneThreshold?: number;
  /** --max-endpoints-per-slice (default 100). */
  maxEndpointsPerSlice?: number;
  /** --mirroring-max-endpoints-per-subset: addresses of one Endpoints subset mirrored into a slice at most (default 1000). */
  mirroringMaxEndpointsPerSubset?: number;
  /** --enable-hostpath-provisioner: hostPath volumes for claims of kubernetes.io/host-path classes (single-machine clusters). */
  enableHostPathProvisioner?: boolean;
  /** --pvclaimbinder-sync-period in ms: how often every claim and volume is synced again (default 15s). */
  pvClaimBinderSyncPeriodMs?: number;
  /** --enable-garbage-collector (default true). */
  enableGarbageCollector?: boolean;
  /** How often PodGC looks for garbage (upstream's fixed 20s; tests shorten it). */
  podGCPeriodMs?: number;
  /** How long PodGC waits for a node missing from its cache before asking the API server (upstream's 40s). */
  podGCQuarantineMs?: number;
  /** How often the garbage collector and the namespace controller re-read discovery (default 30s). */
  discoveryPeriodMs?: number;
  /** --horizontal-pod-autoscaler-sync-period in ms: how often each autoscaler is synced (default 15s). */
  hpaSyncPeriodMs?: number;
  /** --horizontal-pod-autoscaler-tolerance: the usage ratio's distance from 1 below which nothing is scaled (default 0.1). */
  hpaTolerance?: number;
  /** --horizontal-pod-autoscaler-downscale-stabilization in ms: the scale-down window without spec.behavior's own (default 5m). */
  hpaDownscaleStabilizationWindowMs?: number;
  /** --horizontal-pod-autoscaler-cpu-initialization-period in ms: after a pod starts, cpu samples count only from ready pods measured since (default 5m). */
  hpaCPUInitializationPeriodMs?: number;
  /** --horizontal-pod-autoscaler-initial-readiness-delay in ms: how long after start a readiness change still counts as the first one (default 30s). */
  hpaInitialReadinessDelayMs?: number;
}

/**
 * The worker count of the controller `name`: its own flag if given, else `fallback` (the
 * controller's upstream default), else `concurrentSyncs`.
 */
export function concurrentSyncsFor(options: ControllerManagerOptions, name: string, fallback?: number): number {
  return Math.max(1, options.concurrentSyncsByController?.[name] ?? fallback ?? options.concurrentSyncs);
}

/** One resource the API server serves, as discovery describes it. */
export interface DiscoveredResource {
  group: string;
  version: string;
  /** Plural name, e.g. `pods`. */
  resource: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
}

/**
 * What the API server serves, for controllers that act on every resource (the garbage
 * collector, the namespace controller). `resources` returns the preferred version of every
 * group; when some groups could not be read it still returns the others and names the failed
 * ones in `failedGroups` (the caller decides whether a partial answer is good enough).
 */
export interface ResourceDiscovery {
  resources(signal?: AbortSignal): Promise<{ resources: DiscoveredResource[]; failedGroups: Record<string, string> }>;
}

export const defaultControllerManagerOptions: ControllerManagerOptions = {
  clusterCIDR: '10.244.0.0/16',
  allocateNodeCIDRs: false,
  nodeCIDRMaskSize: 24,
  serviceClusterIPRange: '10.96.0.0/12',
  nodeMonitorGracePeriodMs: 40_000,
  nodeMonitorPeriodMs: 5_000,
  nodeEvictionRate: 0.1,
  terminatedPodGCThreshold: 12_500,
  concurrentSyncs: 5,
};

export interface ControllerContext {
  client: KubeClient;
  /** Shared by every controller of the process: one watch per resource. */
  informers: SharedInformerFactory;
  /** A recorder whose events name this controller as their source. */
  recorder(component: string): EventRecorder;
  log: Logger;
  clock: Clock;
  metrics: MetricsRegistry;
  options: ControllerManagerOptions;
  /**
   * Discovery of the served resources (custom resources included). The controller manager
   * always sets it; without it, controllers that need it fall back to the built-in resources.
   */
  discovery?: ResourceDiscovery;
}

export interface ControllerDescriptor {
  /** The name `--controllers` uses, as upstream (replicaset, deployment, garbagecollector...). */
  name: string;
  enabledByDefault: boolean;
  /**
   * The service account kube-system/<serviceAccount> the controller acts as under
   * --use-service-account-credentials (upstream's, bound to system:controller:<serviceAccount>);
   * omitted: the manager's own identity, as upstream's token controller.
   */
  serviceAccount?: string;
  create(ctx: ControllerContext): Runnable;
}
