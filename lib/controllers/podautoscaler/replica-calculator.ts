/**
 * The replica calculator (upstream's replica_calculator.go): how many replicas would bring a
 * metric to its target, given what the pods use now.
 *
 * For a metric measured per pod, the pods matching the target's selector fall into four groups:
 *
 *   ignored   being deleted, or Failed: left out altogether
 *   unready   Pending; for cpu also not Ready yet, or too fresh for a full sample (below)
 *   missing   no metrics for the pod
 *   ready     the rest: their values make the usage ratio (usage / target)
 *
 * With only ready pods, or no change of direction to fear, desired = ceil(ratio × ready pods),
 * unless the ratio is within the tolerance of 1 (then the current count stays). Otherwise the
 * ratio is computed again with the doubtful pods filled in so as to damp the move: missing
 * pods count as using 100% of their request (the target, for plain metrics) on a scale-down
 * and 0% on a scale-up; unready pods count 0% on a scale-up only. If the damped ratio changes
 * the direction or falls within the tolerance, the current count stays.
 *
 * cpu readiness: within --horizontal-pod-autoscaler-cpu-initialization-period of its start a
 * pod counts only once Ready and measured over a full window after turning Ready (start-up
 * bursts are not load); later, a not-Ready pod is left out only if it has never been Ready,
 * that is, its Ready condition last changed within --horizontal-pod-autoscaler-initial-readiness-delay
 * of its start.
 */
import type { Pod } from '../../api/index.js';
import type { Clock } from '../../base/index.js';
import type { LabelSelector } from '../../machinery/index.js';
import { errorMessage, isPodReady, parseTime } from '../replicaset/index.js';
import type { MetricsClient, PodMetricsInfo } from './metrics-client.js';
import type { CrossVersionObjectReference } from './metrics-source.js';
import { toMilli } from './quantity.js';

export interface ReplicaCalculatorOptions {
  metrics: MetricsClient;
  /** The pods of a namespace matching a selector (the pod informer's cache). */
  listPods(namespace: string, selector: LabelSelector): Pod[];
  /** --horizontal-pod-autoscaler-tolerance (0.1). */
  tolerance: number;
  /** --horizontal-pod-autoscaler-cpu-initialization-period (5m). */
  cpuInitializationPeriodMs: number;
  /** --horizontal-pod-autoscaler-initial-readiness-delay (30s). */
  delayOfInitialReadinessStatusMs: number;
  clock: Clock;
}

/** What one metric proposes. */
export interface ResourceProposal {
  replicas: number;
  /** Percent of requests (utilization targets only). */
  utilization: number;
  /** Average usage per pod, in milli-units. */
  rawUtilization: number;
  timestamp: number;
}

export interface PlainProposal {
  replicas: number;
  /** The usage reported (an average per pod, or a total), in milli-units. */
  usage: number;
  timestamp: number;
}

export class ReplicaCalculator {
  constructor(private readonly o: ReplicaCalculatorOptions) {}

  /** The pods' usage of a resource, with upstream's wording when the metrics API fails. */
  private async readResource(resource: string, namespace: string, selector: LabelSelector, container: string, signal?: AbortSignal) {
    try {
      return await this.o.metrics.getResourceMetric(resource, namespace, selector.toString(), container, signal);
    } catch (err) {
      throw new Error(`unable to get metrics for resource ${resource}: ${errorMessage(err)}`, { cause: err });
    }
  }

  /** A Resource (or ContainerResource) metric with a Utilization target, in percent of requests. */
  async getResourceReplicas(
    currentReplicas: number,
    targetUtilization: number,
    resource: string,
    namespace: string,
    selector: LabelSelector,
    container: string,
    signal?: AbortSignal,
  ): Promise<ResourceProposal> {
    const read = await this.readResource(resource, namespace, selector, container, signal);
    const { metrics, timestamp } = read;
    const pods = this.o.listPods(namespace, selector);
    if (pods.length === 0) throw new Error('no pods returned by selector while calculating replica count');

    const groups = groupPods(pods, metrics, resource, this.o.cpuInitializationPeriodMs, this.o.delayOfInitialReadinessStatusMs, this.o.clock.now());
    removeMetricsForPods(metrics, groups.ignored);
    removeMetricsForPods(metrics, groups.unready);
    if (metrics.size === 0) throw new Error('did not receive metrics for targeted pods (pods might be unready)');

    const requests = calculatePodRequests(pods, container, resource);
    const first = resourceUtilizationRatio(metrics, requests, targetUtilization);
    const { ratio: usageRatio, utilization, rawUtilization } = first;
    const tolerance = this.o.tolerance;

    const scaleUpWithUnready = groups.unready.size > 0 && usageRatio > 1.0;
    if (!scaleUpWithUnready && groups.missing.size === 0) {
      if (Math.abs(1.0 - usageRatio) <= tolerance) return { replicas: currentReplicas, utilization, rawUtilization, timestamp };
      return { replicas: Math.ceil(usageRatio * groups.readyPodCount), utilization, rawUtilization, timestamp };
    }

    if (groups.missing.size > 0) {
      // Scaling down: a pod without metrics may be busy, count it at 100% of its request.
      // Scaling up: it may be idle, count it at 0%.
      for (const name of groups.missing) {
        if (usageRatio < 1.0) metrics.set(name, { value: requests.get(name) ?? 0, timestamp: 0, windowMs: 0 });
        else if (usageRatio > 1.0) metrics.set(name, { value: 0, timestamp: 0, windowMs: 0 });
      }
    }
    if (scaleUpWithUnready) {
      // Scaling up: a pod not ready yet will take load soon, count it at 0%.
      for (const name of groups.unready) metrics.set(name, { value: 0, timestamp: 0, windowMs: 0 });
    }

    const newUsageRatio = resourceUtilizationRatio(metrics, requests, targetUtilization).ratio;
    if (Math.abs(1.0 - newUsageRatio) <= tolerance || (usageRatio < 1.0 && newUsageRatio > 1.0) || (usageRatio > 1.0 && newUsageRatio < 1.0)) {
      return { replicas: currentReplicas, utilization, rawUtilization, timestamp };
    }
    const newReplicas = Math.ceil(newUsageRatio * metrics.size);
    if ((newUsageRatio < 1.0 && newReplicas > currentReplicas) || (newUsageRatio > 1.0 && newReplicas < currentReplicas)) {
      // The pods counted differ from the current count so much that the direction would flip.
      return { replicas: currentReplicas, utilization, rawUtilization, timestamp };
    }
    return { replicas: newReplicas, utilization, rawUtilization, timestamp };
  }

  /** A Resource (or ContainerResource) metric with an AverageValue target, in milli-units per pod. */
  async getRawResourceReplicas(
    currentReplicas: number,
    targetUsage: number,
    resource: string,
    namespace: string,
    selector: LabelSelector,
    container: string,
    signal?: AbortSignal,
  ): Promise<PlainProposal> {
    const read = await this.readResource(resource, namespace, selector, container, signal);
    const { replicas, usage } = this.calcPlainMetricReplicas(read.metrics, currentReplicas, targetUsage, namespace, selector, resource);
    return { replicas, usage, timestamp: read.timestamp };
  }

  /** A Pods metric (custom metrics API) with an AverageValue target. */
  async getMetricReplicas(currentReplicas: number, targetUsage: number, metricName: string, namespace: string, selector: LabelSelector, metricSelector: string, signal?: AbortSignal): Promise<PlainProposal> {
    let read;
    try {
      read = await this.o.metrics.getRawMetric(metricName, namespace, selector.toString(), metricSelector, signal);
    } catch (err) {
      throw new Error(`unable to get metric ${metricName}: ${errorMessage(err)}`, { cause: err });
    }
    const { replicas, usage } = this.calcPlainMetricReplicas(read.metrics, currentReplicas, targetUsage, namespace, selector, '');
    return { replicas, usage, timestamp: read.timestamp };
  }

  /** Desired replicas for values averaged per pod (upstream calcPlainMetricReplicas). */
  private calcPlainMetricReplicas(metrics: PodMetricsInfo, currentReplicas: number, targetUsage: number, namespace: string, selector: LabelSelector, resource: string): { replicas: number; usage: number } {
    const pods = this.o.listPods(namespace, selector);
    if (pods.length === 0) throw new Error('no pods returned by selector while calculating replica count');
    const groups = groupPods(pods, metrics, resource, this.o.cpuInitializationPeriodMs, this.o.delayOfInitialReadinessStatusMs, this.o.clock.now());
    removeMetricsForPods(metrics, groups.ignored);
    removeMetricsForPods(metrics, groups.unready);
    if (metrics.size === 0) throw new Error('did not receive metrics for targeted pods (pods might be unready)');

    const { ratio: usageRatio, usage } = metricUsageRatio(metrics, targetUsage);
    const tolerance = this.o.tolerance;
    const scaleUpWithUnready = groups.unready.size > 0 && usageRatio > 1.0;
    if (!scaleUpWithUnready && groups.missing.size === 0) {
      if (Math.abs(1.0 - usageRatio) <= tolerance) return { replicas: currentReplicas, usage };
      return { replicas: Math.ceil(usageRatio * groups.readyPodCount), usage };
    }
    if (groups.missing.size > 0) {
      // Scaling down: a pod without metrics counts at the target exactly; scaling up: at 0.
      for (const name of groups.missing) {
        if (usageRatio < 1.0) metrics.set(name, { value: targetUsage, timestamp: 0, windowMs: 0 });
        else if (usageRatio > 1.0) metrics.set(name, { value: 0, timestamp: 0, windowMs: 0 });
      }
    }
    if (scaleUpWithUnready) for (const name of groups.unready) metrics.set(name, { value: 0, timestamp: 0, windowMs: 0 });

    const newUsageRatio = metricUsageRatio(metrics, targetUsage).ratio;
    if (Math.abs(1.0 - newUsageRatio) <= tolerance || (usageRatio < 1.0 && newUsageRatio > 1.0) || (usageRatio > 1.0 && newUsageRatio < 1.0)) {
      return { replicas: currentReplicas, usage };
    }
    const newReplicas = Math.ceil(newUsageRatio * metrics.size);
    if ((newUsageRatio < 1.0 && newReplicas > currentReplicas) || (newUsageRatio > 1.0 && newReplicas < currentReplicas)) return { replicas: currentReplicas, usage };
    return { replicas: newReplicas, usage };
  }

  /** An Object metric with a Value target: the object's value against the target, times the ready pods. */
  async getObjectMetricReplicas(
    currentReplicas: number,
    targetUsage: number,
    metricName: string,
    namespace: string,
    objectRef: CrossVersionObjectReference,
    selector: LabelSelector,
    metricSelector: string,
    signal?: AbortSignal,
  ): Promise<PlainProposal> {
    let usage: number;
    try {
      usage = (await this.o.metrics.getObjectMetric(metricName, namespace, objectRef, metricSelector, signal)).value;
    } catch (err) {
      throw new Error(`unable to get metric ${metricName}: ${objectRef.kind} on ${namespace} ${objectRef.name}/${errorMessage(err)}`, { cause: err });
    }
    const replicas = this.usageRatioReplicaCount(currentReplicas, usage / targetUsage, namespace, selector);
    // Upstream reports the zero time here (the object's own timestamp is dropped).
    return { replicas, usage, timestamp: 0 };
  }

  /** An Object metric with an AverageValue target: the object's value shared by the current replicas. */
  async getObjectPerPodMetricReplicas(statusReplicas: number, targetAverageUsage: number, metricName: string, namespace: string, objectRef: CrossVersionObjectReference, metricSelector: string, signal?: AbortSignal): Promise<PlainProposal> {
    let read;
    try {
      read = await this.o.metrics.getObjectMetric(metricName, namespace, objectRef, metricSelector, signal);
    } catch (err) {
      throw new Error(`unable to get metric ${metricName}: ${objectRef.kind} on ${namespace} ${objectRef.name}/${errorMessage(err)}`, { cause: err });
    }
    let replicas = statusReplicas;
    const usageRatio = read.value / (targetAverageUsage * replicas);
    if (Math.abs(1.0 - usageRatio) > this.o.tolerance) replicas = Math.ceil(read.value / targetAverageUsage);
    return { replicas, usage: Math.ceil(read.value / statusReplicas), timestamp: read.timestamp };
  }

  /** An External metric with a Value target: the sum of its series against the target, times the ready pods. */
  async getExternalMetricReplicas(currentReplicas: number, targetUsage: number, metricName: string, namespace: string, metricSelector: string, podSelector: LabelSelector, signal?: AbortSignal): Promise<PlainProposal> {
    let read;
    try {
      read = await this.o.metrics.getExternalMetric(metricName, namespace, metricSelector, signal);
    } catch (err) {
      throw new Error(`unable to get external metric ${namespace}/${metricName}/${metricSelector || 'nil'}: ${errorMessage(err)}`, { cause: err });
    }
    const usage = read.values.reduce((a, b) => a + b, 0);
    const replicas = this.usageRatioReplicaCount(currentReplicas, usage / targetUsage, namespace, podSelector);
    return { replicas, usage, timestamp: 0 };
  }

  /** An External metric with an AverageValue target: the sum of its series shared by the current replicas. */
  async getExternalPerPodMetricReplicas(statusReplicas: number, targetUsagePerPod: number, metricName: string, namespace: string, metricSelector: string, signal?: AbortSignal): Promise<PlainProposal> {
    let read;
    try {
      read = await this.o.metrics.getExternalMetric(metricName, namespace, metricSelector, signal);
    } catch (err) {
      throw new Error(`unable to get external metric ${namespace}/${metricName}/${metricSelector || 'nil'}: ${errorMessage(err)}`, { cause: err });
    }
    const usage = read.values.reduce((a, b) => a + b, 0);
    let replicas = statusReplicas;
    const usageRatio = usage / (targetUsagePerPod * replicas);
    if (Math.abs(1.0 - usageRatio) > this.o.tolerance) replicas = Math.ceil(usage / targetUsagePerPod);
    return { replicas, usage: Math.ceil(usage / statusReplicas), timestamp: read.timestamp };
  }

  /**
   * Replicas for a ratio that does not come from the pods themselves (object and external
   * metrics): ratio × ready pods, or ceil(ratio) from zero replicas (upstream's scale-to-zero path).
   */
  private usageRatioReplicaCount(currentReplicas: number, usageRatio: number, namespace: string, selector: LabelSelector): number {
    if (currentReplicas === 0) return Math.ceil(usageRatio);
    if (Math.abs(1.0 - usageRatio) <= this.o.tolerance) return currentReplicas;
    const pods = this.o.listPods(namespace, selector);
    if (pods.length === 0) throw new Error('unable to calculate ready pods: no pods returned by selector while calculating replica count');
    const ready = pods.filter((p) => p.status?.phase === 'Running' && isPodReady(p)).length;
    return Math.ceil(usageRatio * ready);
  }
}

export interface PodGroups {
  readyPodCount: number;
  unready: Set<string>;
  missing: Set<string>;
  ignored: Set<string>;
}

/** Sorts pods into ready, unready, missing (no metrics) and ignored (upstream groupPods). */
export function groupPods(pods: Pod[], metrics: PodMetricsInfo, resource: string, cpuInitializationPeriodMs: number, delayOfInitialReadinessStatusMs: number, now: number): PodGroups {
  const out: PodGroups = { readyPodCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  for (const pod of pods) {
    const name = pod.metadata.name!;
    if (pod.metadata.deletionTimestamp || pod.status?.phase === 'Failed') {
      out.ignored.add(name);
      continue;
    }
    if (pod.status?.phase === 'Pending') {
      out.unready.add(name);
      continue;
    }
    const metric = metrics.get(name);
    if (!metric) {
      out.missing.add(name);
      continue;
    }
    if (resource === 'cpu') {
      const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
      const startTime = parseTime(pod.status?.startTime);
      let unready: boolean;
      if (!ready || startTime === undefined) {
        unready = true;
      } else {
        const transition = parseTime(ready.lastTransitionTime) ?? 0;
        if (startTime + cpuInitializationPeriodMs > now) {
          // Still starting: count the sample only if the pod is ready and was measured over a
          // whole window since it turned ready.
          unready = ready.status === 'False' || metric.timestamp < transition + metric.windowMs;
        } else {
          // Started long ago: leave it out only if it is not ready and never has been.
          unready = ready.status === 'False' && startTime + delayOfInitialReadinessStatusMs > transition;
        }
      }
      if (unready) {
        out.unready.add(name);
        continue;
      }
    }
    out.readyPodCount++;
  }
  return out;
}

/**
 * Each pod's request of `resource` in milli-units: the sum over its containers (and sidecars,
 * the init containers that keep running), or only `container` when given. A container without
 * a request makes utilization meaningless, so it is an error.
 */
export function calculatePodRequests(pods: Pod[], container: string, resource: string): Map<string, number> {
  const requests = new Map<string, number>();
  for (const pod of pods) {
    let sum = 0;
    const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
    for (const c of containers) {
      if (container !== '' && container !== c.name) continue;
      const request = c.resources?.requests?.[resource];
      if (request === undefined) throw new Error(`missing request for ${resource} in container ${c.name} of Pod ${pod.metadata.name}`);
      sum += toMilli(request);
    }
    requests.set(pod.metadata.name!, sum);
  }
  return requests;
}

function removeMetricsForPods(metrics: PodMetricsInfo, pods: Set<string>): void {
  for (const name of pods) metrics.delete(name);
}

/**
 * Utilization of the pods that have both a value and a request: whole percent of the summed
 * requests (truncated, as upstream's integer arithmetic), its ratio to the target, and the
 * average value per pod.
 */
export function resourceUtilizationRatio(metrics: PodMetricsInfo, requests: Map<string, number>, targetUtilization: number): { ratio: number; utilization: number; rawUtilization: number } {
  let metricsTotal = 0;
  let requestsTotal = 0;
  let entries = 0;
  for (const [name, m] of metrics) {
    const request = requests.get(name);
    // A value without a request belongs to a pod the lister does not know (yet): extraneous.
    if (request === undefined) continue;
    metricsTotal += m.value;
    requestsTotal += request;
    entries++;
  }
  if (requestsTotal === 0) throw new Error('no metrics returned matched known pods');
  // BigInt: memory in millibytes times 100 can pass 2^53.
  const utilization = Number((BigInt(metricsTotal) * 100n) / BigInt(requestsTotal));
  return { ratio: utilization / targetUtilization, utilization, rawUtilization: Math.trunc(metricsTotal / entries) };
}

/** The average value per pod (truncated) and its ratio to the target. */
export function metricUsageRatio(metrics: PodMetricsInfo, targetUsage: number): { ratio: number; usage: number } {
  let total = 0;
  for (const m of metrics.values()) total += m.value;
  const usage = Math.trunc(total / metrics.size);
  return { ratio: usage / targetUsage, usage };
}
