/**
 * The metrics a MetricsSource answers, in the form the replica calculator counts with
 * (upstream's pkg/controller/podautoscaler/metrics): per pod, a value in milli-units with the
 * time and window it was measured over.
 */
import { parseDuration } from '../../base/index.js';
import { errorMessage } from '../replicaset/index.js';
import type { CrossVersionObjectReference, MetricsSource, PodMetrics } from './metrics-source.js';
import { toMilli } from './quantity.js';

/** One pod's value of a metric. */
export interface PodMetric {
  /** Milli-units (millicores for cpu, millibytes for memory). */
  value: number;
  /** When it was measured (ms since the epoch). */
  timestamp: number;
  /** The span it was measured over (ms). */
  windowMs: number;
}

/** Values by pod name. */
export type PodMetricsInfo = Map<string, PodMetric>;

/** Upstream's window for custom metrics that do not state theirs. */
const defaultCustomMetricWindowMs = 60_000;

function timeOf(t: string): number {
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? 0 : ms;
}

function windowOf(w: string | undefined): number {
  if (!w) return 0;
  try {
    return parseDuration(w);
  } catch {
    return 0;
  }
}

export class MetricsClient {
  constructor(private readonly source: MetricsSource) {}

  /**
   * Usage of `resource` by each pod matching `selector`: the sum over its containers, or only
   * `container` when given. A pod lacking the resource in a container is left out (it then
   * counts as a pod without metrics).
   */
  async getResourceMetric(resource: string, namespace: string, selector: string, container: string, signal?: AbortSignal): Promise<{ metrics: PodMetricsInfo; timestamp: number }> {
    let items: PodMetrics[];
    try {
      items = await this.source.podMetrics(namespace, selector, signal);
    } catch (err) {
      throw new Error(`unable to fetch metrics from resource metrics API: ${errorMessage(err)}`, { cause: err });
    }
    if (items.length === 0) throw new Error('no metrics returned from resource metrics API');
    const metrics = container ? containerMetrics(items, resource, container) : podMetrics(items, resource);
    return { metrics, timestamp: timeOf(items[0]!.timestamp) };
  }

  /** Custom metric `name` of each pod matching `selector` (upstream GetRawMetric). */
  async getRawMetric(name: string, namespace: string, selector: string, metricSelector: string, signal?: AbortSignal): Promise<{ metrics: PodMetricsInfo; timestamp: number }> {
    let items;
    try {
      items = await this.source.podsMetric(name, namespace, selector, metricSelector, signal);
    } catch (err) {
      throw new Error(`unable to fetch metrics from custom metrics API: ${errorMessage(err)}`, { cause: err });
    }
    if (items.length === 0) throw new Error('no metrics returned from custom metrics API');
    const metrics: PodMetricsInfo = new Map();
    for (const m of items) {
      metrics.set(m.describedObject.name, {
        value: toMilli(m.value),
        timestamp: timeOf(m.timestamp),
        windowMs: m.windowSeconds !== undefined ? m.windowSeconds * 1000 : defaultCustomMetricWindowMs,
      });
    }
    return { metrics, timestamp: timeOf(items[0]!.timestamp) };
  }

  /** Custom metric `name` of one object, in milli-units. */
  async getObjectMetric(name: string, namespace: string, object: CrossVersionObjectReference, metricSelector: string, signal?: AbortSignal): Promise<{ value: number; timestamp: number }> {
    try {
      const m = await this.source.objectMetric(name, namespace, object, metricSelector, signal);
      return { value: toMilli(m.value), timestamp: timeOf(m.timestamp) };
    } catch (err) {
      throw new Error(`unable to fetch metrics from custom metrics API: ${errorMessage(err)}`, { cause: err });
    }
  }

  /** The values of external metric `name`, in milli-units. */
  async getExternalMetric(name: string, namespace: string, metricSelector: string, signal?: AbortSignal): Promise<{ values: number[]; timestamp: number }> {
    let items;
    try {
      items = await this.source.externalMetric(name, namespace, metricSelector, signal);
    } catch (err) {
      throw new Error(`unable to fetch metrics from external metrics API: ${errorMessage(err)}`, { cause: err });
    }
    if (items.length === 0) throw new Error('no metrics returned from external metrics API');
    return { values: items.map((m) => toMilli(m.value)), timestamp: timeOf(items[0]!.timestamp) };
  }
}

/** Each pod's usage summed over its containers; a pod missing the resource in any container is left out. */
function podMetrics(items: PodMetrics[], resource: string): PodMetricsInfo {
  const out: PodMetricsInfo = new Map();
  for (const m of items) {
    const containers = m.containers ?? [];
    let sum = 0;
    let missing = containers.length === 0;
    for (const c of containers) {
      const v = c.usage?.[resource];
      if (v === undefined) {
        missing = true;
        break;
      }
      sum += toMilli(v);
    }
    if (!missing) out.set(m.metadata.name, { value: sum, timestamp: timeOf(m.timestamp), windowMs: windowOf(m.window) });
  }
  return out;
}

/** One container's usage of each pod; a pod whose metrics lack the container is an error (upstream getContainerMetrics). */
function containerMetrics(items: PodMetrics[], resource: string, container: string): PodMetricsInfo {
  const out: PodMetricsInfo = new Map();
  for (const m of items) {
    const c = (m.containers ?? []).find((x) => x.name === container);
    if (!c) throw new Error(`failed to get container metrics: container ${container} not present in metrics for pod ${m.metadata.namespace ?? ''}/${m.metadata.name}`);
    const v = c.usage?.[resource];
    if (v !== undefined) out.set(m.metadata.name, { value: toMilli(v), timestamp: timeOf(m.timestamp), windowMs: windowOf(m.window) });
  }
  return out;
}
