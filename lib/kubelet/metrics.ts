/** The kubelet's Prometheus metrics (upstream's names), served on the healthz port's /metrics. */
import { MetricsRegistry, type Counter, type Gauge, type Histogram } from '../base/index.js';

const startBuckets = [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600];

export class KubeletMetrics {
  readonly registry: MetricsRegistry;
  readonly podStartDuration: Histogram;
  readonly plegRelistDuration: Histogram;
  readonly plegRelistInterval: Histogram;
  readonly podWorkerDuration: Histogram;
  readonly runningPods: Gauge;
  readonly runningContainers: Gauge;
  readonly startedContainers: Counter;
  readonly startedContainersErrors: Counter;
  readonly nodeStatusWrites: Counter;
  readonly podStatusWrites: Counter;

  constructor(registry = new MetricsRegistry()) {
    this.registry = registry;
    this.podStartDuration = registry.histogram('kubelet_pod_start_duration_seconds', 'Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run', startBuckets);
    this.plegRelistDuration = registry.histogram('kubelet_pleg_relist_duration_seconds', 'Duration in seconds for relisting pods in PLEG.');
    this.plegRelistInterval = registry.histogram('kubelet_pleg_relist_interval_seconds', 'Interval in seconds between relisting in PLEG.');
    this.podWorkerDuration = registry.histogram('kubelet_pod_worker_duration_seconds', 'Duration in seconds to sync a single pod, by the state it ended in.');
    this.runningPods = registry.gauge('kubelet_running_pods', 'Number of pods that have a running pod sandbox');
    this.runningContainers = registry.gauge('kubelet_running_containers', 'Number of containers currently running, by state');
    this.startedContainers = registry.counter('kubelet_started_containers_total', 'Cumulative number of containers started');
    this.startedContainersErrors = registry.counter('kubelet_started_containers_errors_total', 'Cumulative number of errors when starting containers');
    this.nodeStatusWrites = registry.counter('kubelet_node_status_writes_total', 'Node status writes to the API server');
    this.podStatusWrites = registry.counter('kubelet_pod_status_writes_total', 'Pod status writes to the API server');
  }
}
