/** The scheduler's Prometheus metrics, under upstream's names. */
import type { Counter, Gauge, Histogram, MetricsRegistry } from '../base/index.js';

/** 1ms doubling to ~16s, as upstream's scheduling duration histograms. */
const durationBuckets = Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i);
/** 10ms doubling to ~164s: end-to-end times include backoff and waiting for room. */
const sliBuckets = Array.from({ length: 15 }, (_, i) => 0.01 * 2 ** i);

export class SchedulerMetrics {
  readonly scheduleAttempts: Counter;
  readonly schedulingAttemptDuration: Histogram;
  readonly podSchedulingSLIDuration: Histogram;
  readonly podSchedulingAttempts: Histogram;
  readonly pendingPods: Gauge;
  readonly queueIncomingPods: Counter;
  readonly preemptionAttempts: Counter;
  readonly preemptionVictims: Histogram;
  readonly cacheSize: Gauge;
  readonly bindingDuration: Histogram;
  readonly leaderStatus: Gauge;

  constructor(r: MetricsRegistry) {
    this.scheduleAttempts = r.counter('scheduler_schedule_attempts_total', 'Number of attempts to schedule pods, by the result: scheduled, unschedulable or error.');
    this.schedulingAttemptDuration = r.histogram('scheduler_scheduling_attempt_duration_seconds', 'Scheduling attempt latency in seconds (the scheduling algorithm and binding), by result.', durationBuckets);
    this.podSchedulingSLIDuration = r.histogram(
      'scheduler_pod_scheduling_sli_duration_seconds',
      'E2e latency for a pod being scheduled, from the time the pod enters the scheduling queue until it is bound, by the number of attempts.',
      sliBuckets,
    );
    this.podSchedulingAttempts = r.histogram('scheduler_pod_scheduling_attempts', 'Number of attempts to successfully schedule a pod.', [1, 2, 4, 8, 16]);
    this.pendingPods = r.gauge('scheduler_pending_pods', 'Number of pending pods, by the queue type: active, backoff, unschedulable or gated.');
    this.queueIncomingPods = r.counter('scheduler_queue_incoming_pods_total', 'Number of pods added to scheduling queues by event and queue type.');
    this.preemptionAttempts = r.counter('scheduler_preemption_attempts_total', 'Total preemption attempts in the cluster till now.');
    this.preemptionVictims = r.histogram('scheduler_preemption_victims', 'Number of selected preemption victims.', [1, 2, 4, 8, 16, 32, 64]);
    this.cacheSize = r.gauge('scheduler_cache_size', 'Number of nodes, pods and assumed (bound) pods in the scheduler cache.');
    this.bindingDuration = r.histogram('scheduler_binding_duration_seconds', 'Latency of the pods/binding request in seconds, by result.', durationBuckets);
    this.leaderStatus = r.gauge('leader_election_master_status', 'Gauge of whether the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.');
  }
}
