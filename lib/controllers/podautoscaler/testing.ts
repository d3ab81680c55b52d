/** For tests of the autoscaler: a metrics source holding values a test sets, and pods to measure. */
import type { Pod } from '../../api/index.js';
import { rfc3339 } from '../../base/index.js';
import { parseLabelSelector } from '../../machinery/index.js';
import type { CustomMetricValue, ExternalMetricValue, MetricsSource, PodMetrics } from './metrics-source.js';

/**
 * A MetricsSource answering from a table the test fills: PodMetrics per namespace, and
 * optionally custom and external metrics. Without an entry it answers as tkube's API does
 * (no custom or external metrics API).
 */
export class FakeMetricsSource implements MetricsSource {
  readonly pods = new Map<string, PodMetrics[]>();
  podsMetricValues?: CustomMetricValue[];
  externalValues?: ExternalMetricValue[];
  /** Set to make podMetrics fail. */
  podMetricsError?: Error;

  /** Sets the PodMetrics of `namespace`. */
  set(namespace: string, items: PodMetrics[]): void {
    this.pods.set(namespace, items);
  }

  async podMetrics(namespace: string, selector: string): Promise<PodMetrics[]> {
    if (this.podMetricsError) throw this.podMetricsError;
    const sel = parseLabelSelector(selector);
    return (this.pods.get(namespace) ?? []).filter((m) => sel.matches(m.metadata.labels ?? {}));
  }

  async podsMetric(): Promise<CustomMetricValue[]> {
    if (!this.podsMetricValues) throw new Error('no custom metrics API (custom.metrics.k8s.io) registered');
    return this.podsMetricValues;
  }

  async objectMetric(): Promise<CustomMetricValue> {
    throw new Error('no custom metrics API (custom.metrics.k8s.io) registered');
  }

  async externalMetric(): Promise<ExternalMetricValue[]> {
    if (!this.externalValues) throw new Error('no external metrics API (external.metrics.k8s.io) registered');
    return this.externalValues;
  }
}

/** PodMetrics of one pod: `usage` per container name (cpu as `230m`, memory as `100Mi`). */
export function podMetrics(name: string, containers: Record<string, Record<string, string>>, o: { at: number; window?: string; labels?: Record<string, string>; namespace?: string }): PodMetrics {
  return {
    metadata: { name, namespace: o.namespace ?? 'default', labels: o.labels ?? { app: 'web' } },
    timestamp: rfc3339(o.at),
    window: o.window ?? '30s',
    containers: Object.entries(containers).map(([c, usage]) => ({ name: c, usage })),
  };
}

export interface TestPodOptions {
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  /** Ready condition: status, and when it last changed (default: ready since `startTime`). */
  ready?: boolean;
  readySince?: number;
  startTime?: number;
  deleting?: boolean;
  /** Requests per container (default one container `c` requesting 1 cpu). */
  requests?: Record<string, Record<string, string>>;
  labels?: Record<string, string>;
}

/** A pod as the kubelet reports it, for the replica calculator (which reads only the informer's copy). */
export function testPod(name: string, o: TestPodOptions = {}): Pod {
  const start = o.startTime ?? Date.UTC(2025, 0, 1);
  const requests = o.requests ?? { c: { cpu: '1' } };
  return {
    metadata: { name, namespace: 'default', labels: o.labels ?? { app: 'web' }, ...(o.deleting ? { deletionTimestamp: rfc3339(start) } : {}) },
    spec: { containers: Object.entries(requests).map(([c, r]) => ({ name: c, image: 'x', resources: Object.keys(r).length > 0 ? { requests: r } : {} })) },
    status: {
      phase: o.phase ?? 'Running',
      startTime: rfc3339(start),
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: rfc3339(o.readySince ?? start) }],
    },
  };
}
