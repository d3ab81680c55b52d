/**
 * Where the autoscaler reads metrics: the three metrics APIs of Kubernetes, as one interface
 * so that tests (and other deployments) can put in values of their own.
 *
 *   metrics.k8s.io/v1beta1           PodMetrics: cpu and memory usage of each container
 *   custom.metrics.k8s.io/v1beta2    a named metric of each pod, or of one object
 *   external.metrics.k8s.io/v1beta1  a named metric from outside the cluster
 *
 * The default source reads the first from the API server (tkube serves it itself, from the
 * kubelets' summaries); tkube serves neither of the other two, so the default source answers
 * them with an error, which the controller reports as upstream does when no adapter is
 * registered (ScalingActive=False, FailedGetPodsMetric / FailedGetObjectMetric /
 * FailedGetExternalMetric).
 */
import type { HorizontalPodAutoscaler, KubeObject } from '../../api/index.js';
import { defineResourceDescriptor, type KubeClient } from '../../client/index.js';

/** metrics.k8s.io/v1beta1 PodMetrics, as the API serves it. */
export interface PodMetrics {
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  /** RFC 3339: when the usage was measured (the end of the window). */
  timestamp: string;
  /** Go duration text (`10s`): the span the usage (a rate, for cpu) was measured over. */
  window: string;
  containers: { name: string; usage: Record<string, string> }[];
}

export type CrossVersionObjectReference = NonNullable<HorizontalPodAutoscaler['spec']>['scaleTargetRef'];

/** custom.metrics.k8s.io/v1beta2 MetricValue: one metric of one object (a pod, an Ingress...). */
export interface CustomMetricValue {
  describedObject: { kind?: string; name: string; namespace?: string; apiVersion?: string };
  metric: { name: string };
  timestamp: string;
  /** The span a rate was measured over; unset means upstream's default of one minute. */
  windowSeconds?: number;
  value: string;
}

/** external.metrics.k8s.io/v1beta1 ExternalMetricValue. */
export interface ExternalMetricValue {
  metricName: string;
  metricLabels?: Record<string, string>;
  timestamp: string;
  windowSeconds?: number;
  value: string;
}

/**
 * The metrics the autoscaler reads. Each call is one read of current values; implementations
 * reject (with an Error whose message says what is missing) when they cannot answer, and may be
 * called concurrently for different autoscalers.
 */
export interface MetricsSource {
  /** metrics.k8s.io: the PodMetrics of the pods of `namespace` matching `selector` (label selector text). */
  podMetrics(namespace: string, selector: string, signal?: AbortSignal): Promise<PodMetrics[]>;
  /** custom.metrics.k8s.io: metric `name` of each pod of `namespace` matching `selector`. */
  podsMetric(name: string, namespace: string, selector: string, metricSelector: string, signal?: AbortSignal): Promise<CustomMetricValue[]>;
  /** custom.metrics.k8s.io: metric `name` of one object of `namespace`. */
  objectMetric(name: string, namespace: string, object: CrossVersionObjectReference, metricSelector: string, signal?: AbortSignal): Promise<CustomMetricValue>;
  /** external.metrics.k8s.io: the series of metric `name` visible from `namespace`. */
  externalMetric(name: string, namespace: string, metricSelector: string, signal?: AbortSignal): Promise<ExternalMetricValue[]>;
}

const podMetricsResource = defineResourceDescriptor<KubeObject & PodMetrics>({
  group: 'metrics.k8s.io',
  version: 'v1beta1',
  resource: 'pods',
  kind: 'PodMetrics',
  namespaced: true,
});

/**
 * The default source: PodMetrics from the API server
 * (GET /apis/metrics.k8s.io/v1beta1/namespaces/<ns>/pods?labelSelector=...). Custom and
 * external metrics need an adapter registered for their APIs, which tkube does not have.
 */
export class MetricsAPISource implements MetricsSource {
  constructor(private readonly client: KubeClient) {}

  async podMetrics(namespace: string, selector: string, signal?: AbortSignal): Promise<PodMetrics[]> {
    const list = await this.client.resource(podMetricsResource, namespace).list({ labelSelector: selector || undefined, signal });
    return list.items ?? [];
  }

  async podsMetric(): Promise<CustomMetricValue[]> {
    throw new Error('no custom metrics API (custom.metrics.k8s.io) registered');
  }

  async objectMetric(): Promise<CustomMetricValue> {
    throw new Error('no custom metrics API (custom.metrics.k8s.io) registered');
  }

  async externalMetric(): Promise<ExternalMetricValue[]> {
    throw new Error('no external metrics API (external.metrics.k8s.io) registered');
  }
}
