/**
 * autoscaling/v1 ⇄ autoscaling/v2 HorizontalPodAutoscalers, as upstream converts them.
 *
 * v1 knows one metric: average CPU utilization (spec.targetCPUUtilizationPercentage,
 * status.currentCPUUtilizationPercentage). Everything else a v2 object holds rides in four
 * annotations on the v1 form, so that a v1 client reading and writing back (kubectl edit,
 * an old controller) loses nothing:
 *
 *   autoscaling.alpha.kubernetes.io/metrics          the other spec metrics (v1 MetricSpec JSON)
 *   autoscaling.alpha.kubernetes.io/current-metrics  the other status metrics (v1 MetricStatus JSON)
 *   autoscaling.alpha.kubernetes.io/conditions       status.conditions
 *   autoscaling.alpha.kubernetes.io/behavior         spec.behavior (upstream writes its Go field names)
 *
 * On the way in (v1 → v2) the annotations are lifted back out and removed.
 */
import type { KubeObject } from '../meta/v1.js';
import type { HorizontalPodAutoscaler } from './v2.js';
import type { HorizontalPodAutoscalerV1 } from './v1.js';

export const metricSpecsAnnotation = 'autoscaling.alpha.kubernetes.io/metrics';
export const metricStatusesAnnotation = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const conditionsAnnotation = 'autoscaling.alpha.kubernetes.io/conditions';
export const behaviorAnnotation = 'autoscaling.alpha.kubernetes.io/behavior';

type Spec = NonNullable<HorizontalPodAutoscaler['spec']>;
type Status = NonNullable<HorizontalPodAutoscaler['status']>;
type MetricSpec = NonNullable<Spec['metrics']>[number];
type MetricStatus = NonNullable<Status['currentMetrics']>[number];
type MetricTarget = NonNullable<MetricSpec['resource']>['target'];
type Behavior = NonNullable<Spec['behavior']>;
type Rules = NonNullable<Behavior['scaleUp']>;
type Json = Record<string, unknown>;

/** Drops undefined members, so the JSON in annotations carries only what is set. */
function clean<T extends Json>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

const isCPUUtilization = (m: MetricSpec) => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.target.averageUtilization !== undefined;
const isCPUStatus = (m: MetricStatus) => m.type === 'Resource' && m.resource?.name === 'cpu';

// ---- metric specs -------------------------------------------------------------------------

function specToV1(m: MetricSpec): Json {
  const out: Json = { type: m.type };
  if (m.resource) out.resource = clean({ name: m.resource.name, targetAverageUtilization: m.resource.target.averageUtilization, targetAverageValue: m.resource.target.averageValue });
  if (m.containerResource) {
    const c = m.containerResource;
    out.containerResource = clean({ name: c.name, container: c.container, targetAverageUtilization: c.target.averageUtilization, targetAverageValue: c.target.averageValue });
  }
  if (m.pods) out.pods = clean({ metricName: m.pods.metric.name, selector: m.pods.metric.selector, targetAverageValue: m.pods.target.averageValue });
  if (m.object) {
    const o = m.object;
    out.object = clean({ target: o.describedObject, metricName: o.metric.name, selector: o.metric.selector, targetValue: o.target.value, averageValue: o.target.averageValue });
  }
  if (m.external) {
    const e = m.external;
    out.external = clean({ metricName: e.metric.name, metricSelector: e.metric.selector, targetValue: e.target.value, targetAverageValue: e.target.averageValue });
  }
  return out;
}

/** The v2 target of a v1 source: utilization wins over an average value, as upstream's conversion. */
function targetOf(s: Json, utilization: string, average: string): MetricTarget {
  if (s[utilization] !== undefined) return { type: 'Utilization', averageUtilization: s[utilization] as number };
  return { type: 'AverageValue', averageValue: s[average] as string };
}

function specFromV1(m: Json): MetricSpec {
  const type = m.type as MetricSpec['type'];
  const out: MetricSpec = { type };
  const r = m.resource as Json | undefined;
  if (r) out.resource = { name: r.name as string, target: targetOf(r, 'targetAverageUtilization', 'targetAverageValue') };
  const c = m.containerResource as Json | undefined;
  if (c) out.containerResource = { name: c.name as string, container: c.container as string, target: targetOf(c, 'targetAverageUtilization', 'targetAverageValue') };
  const p = m.pods as Json | undefined;
  if (p) out.pods = { metric: clean({ name: p.metricName as string, selector: p.selector as never }), target: { type: 'AverageValue', averageValue: p.targetAverageValue as string } };
  const o = m.object as Json | undefined;
  if (o)
    out.object = {
      describedObject: o.target as never,
      metric: clean({ name: o.metricName as string, selector: o.selector as never }),
      target: o.averageValue !== undefined ? { type: 'AverageValue', averageValue: o.averageValue as string } : { type: 'Value', value: o.targetValue as string },
    };
  const e = m.external as Json | undefined;
  if (e)
    out.external = {
      metric: clean({ name: e.metricName as string, selector: e.metricSelector as never }),
      target: e.targetAverageValue !== undefined ? { type: 'AverageValue', averageValue: e.targetAverageValue as string } : { type: 'Value', value: e.targetValue as string },
    };
  return out;
}

// ---- metric statuses ----------------------------------------------------------------------

function statusToV1(m: MetricStatus): Json {
  const out: Json = { type: m.type };
  if (m.resource) out.resource = clean({ name: m.resource.name, currentAverageUtilization: m.resource.current.averageUtilization, currentAverageValue: m.resource.current.averageValue ?? '0' });
  if (m.containerResource) {
    const c = m.containerResource;
    out.containerResource = clean({ name: c.name, container: c.container, currentAverageUtilization: c.current.averageUtilization, currentAverageValue: c.current.averageValue ?? '0' });
  }
  if (m.pods) out.pods = clean({ metricName: m.pods.metric.name, selector: m.pods.metric.selector, currentAverageValue: m.pods.current.averageValue ?? '0' });
  if (m.object) {
    const o = m.object;
    out.object = clean({ target: o.describedObject, metricName: o.metric.name, selector: o.metric.selector, currentValue: o.current.value ?? '0', averageValue: o.current.averageValue });
  }
  if (m.external) {
    const e = m.external;
    out.external = clean({ metricName: e.metric.name, metricSelector: e.metric.selector, currentValue: e.current.value ?? '0', currentAverageValue: e.current.averageValue });
  }
  return out;
}

function statusFromV1(m: Json): MetricStatus {
  const out: MetricStatus = { type: m.type as MetricStatus['type'] };
  const r = m.resource as Json | undefined;
  if (r) out.resource = { name: r.name as string, current: clean({ averageUtilization: r.currentAverageUtilization as number | undefined, averageValue: r.currentAverageValue as string | undefined }) };
  const c = m.containerResource as Json | undefined;
  if (c)
    out.containerResource = {
      name: c.name as string,
      container: c.container as string,
      current: clean({ averageUtilization: c.currentAverageUtilization as number | undefined, averageValue: c.currentAverageValue as string | undefined }),
    };
  const p = m.pods as Json | undefined;
  if (p) out.pods = { metric: clean({ name: p.metricName as string, selector: p.selector as never }), current: { averageValue: p.currentAverageValue as string } };
  const o = m.object as Json | undefined;
  if (o)
    out.object = {
      describedObject: o.target as never,
      metric: clean({ name: o.metricName as string, selector: o.selector as never }),
      current: clean({ value: o.currentValue as string | undefined, averageValue: o.averageValue as string | undefined }),
    };
  const e = m.external as Json | undefined;
  if (e)
    out.external = {
      metric: clean({ name: e.metricName as string, selector: e.metricSelector as never }),
      current: clean({ value: e.currentValue as string | undefined, averageValue: e.currentAverageValue as string | undefined }),
    };
  return out;
}

// ---- behavior (upstream's annotation carries the Go field names) ----------------------------

function rulesToGo(r: Rules | undefined): Json | undefined {
  if (!r) return undefined;
  return clean({
    StabilizationWindowSeconds: r.stabilizationWindowSeconds,
    SelectPolicy: r.selectPolicy,
    Policies: r.policies?.map((p) => ({ Type: p.type, Value: p.value, PeriodSeconds: p.periodSeconds })),
  });
}

function rulesFromGo(r: Json | undefined | null): Rules | undefined {
  if (!r) return undefined;
  const policies = (r.Policies ?? r.policies) as Json[] | undefined;
  return clean({
    stabilizationWindowSeconds: (r.StabilizationWindowSeconds ?? r.stabilizationWindowSeconds) as number | undefined,
    selectPolicy: (r.SelectPolicy ?? r.selectPolicy) as Rules['selectPolicy'],
    policies: policies?.map((p) => ({ type: (p.Type ?? p.type) as 'Pods' | 'Percent', value: (p.Value ?? p.value) as number, periodSeconds: (p.PeriodSeconds ?? p.periodSeconds) as number })),
  });
}

// ---- whole objects ------------------------------------------------------------------------

/** The v1 form of a stored (v2) autoscaler. Never mutates its argument. */
export function hpaToV1(obj: KubeObject): HorizontalPodAutoscalerV1 {
  const hpa = obj as HorizontalPodAutoscaler;
  const annotations: Record<string, string> = { ...(hpa.metadata.annotations ?? {}) };
  const metrics = hpa.spec?.metrics ?? [];
  const cpu = metrics.find(isCPUUtilization);
  const others = metrics.filter((m) => !isCPUUtilization(m));
  if (others.length) annotations[metricSpecsAnnotation] = JSON.stringify(others.map(specToV1));
  if (hpa.spec?.behavior) annotations[behaviorAnnotation] = JSON.stringify(clean({ ScaleUp: rulesToGo(hpa.spec.behavior.scaleUp), ScaleDown: rulesToGo(hpa.spec.behavior.scaleDown) }));
  const st = hpa.status;
  const current = st?.currentMetrics ?? [];
  const otherCurrent = current.filter((m) => !isCPUStatus(m));
  if (otherCurrent.length) annotations[metricStatusesAnnotation] = JSON.stringify(otherCurrent.map(statusToV1));
  if (st?.conditions?.length) annotations[conditionsAnnotation] = JSON.stringify(st.conditions);
  const metadata = structuredClone(hpa.metadata);
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  const out: HorizontalPodAutoscalerV1 = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata };
  if (hpa.spec)
    out.spec = clean({
      scaleTargetRef: structuredClone(hpa.spec.scaleTargetRef),
      minReplicas: hpa.spec.minReplicas,
      maxReplicas: hpa.spec.maxReplicas,
      targetCPUUtilizationPercentage: cpu?.resource?.target.averageUtilization,
    });
  if (st)
    out.status = clean({
      observedGeneration: st.observedGeneration,
      lastScaleTime: st.lastScaleTime,
      currentReplicas: st.currentReplicas ?? 0,
      desiredReplicas: st.desiredReplicas,
      currentCPUUtilizationPercentage: current.find(isCPUStatus)?.resource?.current.averageUtilization,
    });
  return out;
}

function parseAnnotation<T>(annotations: Record<string, string>, key: string): T | undefined {
  const raw = annotations[key];
  if (raw === undefined) return undefined;
  delete annotations[key];
  try {
    return JSON.parse(raw) as T;
  } catch {
    return undefined;
  }
}

/** The v2 (stored) form of a v1 autoscaler. Never mutates its argument. */
export function hpaFromV1(obj: KubeObject): HorizontalPodAutoscaler {
  const v1 = obj as HorizontalPodAutoscalerV1;
  const metadata = structuredClone(v1.metadata);
  const annotations = { ...(metadata.annotations ?? {}) };
  const otherSpecs = parseAnnotation<Json[]>(annotations, metricSpecsAnnotation);
  const otherStatuses = parseAnnotation<Json[]>(annotations, metricStatusesAnnotation);
  const conditions = parseAnnotation<Status['conditions']>(annotations, conditionsAnnotation);
  const behavior = parseAnnotation<Json>(annotations, behaviorAnnotation);
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  else delete metadata.annotations;
  const out: HorizontalPodAutoscaler = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata };
  if (v1.spec) {
    const metrics: MetricSpec[] = Array.isArray(otherSpecs) ? otherSpecs.map(specFromV1) : [];
    if (v1.spec.targetCPUUtilizationPercentage !== undefined)
      metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: v1.spec.targetCPUUtilizationPercentage } } });
    const spec: Spec = clean({ scaleTargetRef: structuredClone(v1.spec.scaleTargetRef), minReplicas: v1.spec.minReplicas, maxReplicas: v1.spec.maxReplicas });
    if (metrics.length) spec.metrics = metrics;
    if (behavior && typeof behavior === 'object') {
      const b = clean({ scaleUp: rulesFromGo((behavior.ScaleUp ?? behavior.scaleUp) as Json), scaleDown: rulesFromGo((behavior.ScaleDown ?? behavior.scaleDown) as Json) });
      spec.behavior = b;
    }
    out.spec = spec;
  }
  if (v1.status) {
    const s = v1.status;
    const current: MetricStatus[] = Array.isArray(otherStatuses) ? otherStatuses.map(statusFromV1) : [];
    if (s.currentCPUUtilizationPercentage !== undefined) current.push({ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: s.currentCPUUtilizationPercentage } } });
    const status: Status = clean({ observedGeneration: s.observedGeneration, lastScaleTime: s.lastScaleTime, currentReplicas: s.currentReplicas, desiredReplicas: s.desiredReplicas });
    if (current.length) status.currentMetrics = current;
    if (Array.isArray(conditions) && conditions.length) status.conditions = conditions;
    out.status = status;
  }
  return out;
}
