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
}

export interface ControllerDescriptor {
  /** The name `--controllers` uses, as upstream (replicaset, deployment, garbagecollector...). */
  name: string;
  enabledByDefault: boolean;
  create(ctx: ControllerContext): Runnable;
}
