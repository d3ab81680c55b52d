/** autoscaling/v2: HorizontalPodAutoscalers. */
import { z, typeMeta, named, mergeList, atomicList, Quantity, Time, int32, str, i32, i64, opt, req, optEnum } from '../schema.js';
import { ObjectMetaSchema, LabelSelectorSchema } from '../meta/v1.js';

const P = 'io.k8s.api.autoscaling.v2';
const metricTypes = ['Object', 'Pods', 'Resource', 'ContainerResource', 'External'] as const;

/** A CrossVersionObjectReference, under the OpenAPI name of its version (v1 has the same shape). */
export function crossVersionObjectReference(pkg: string) {
  return named(
    z.object({
      kind: req(z.string(), 'Kind of the target, e.g. Deployment.'),
      name: req(z.string(), 'Name of the target.'),
      apiVersion: str('API version of the target, e.g. apps/v1.'),
    }),
    `${pkg}.CrossVersionObjectReference`,
    'A reference to an object in the same namespace, by kind and name.',
  );
}

export const CrossVersionObjectReferenceSchema = crossVersionObjectReference(P);

export const MetricTargetSchema = named(
  z.object({
    type: req(z.enum(['Utilization', 'Value', 'AverageValue']), 'Utilization (percent of requests), Value or AverageValue (per pod).'),
    value: opt(Quantity, 'Target value of the metric, for type Value.'),
    averageValue: opt(Quantity, 'Target value averaged over the pods, for type AverageValue.'),
    averageUtilization: i32('Target average usage as a percentage of the pod requests, for type Utilization (Resource metrics only).'),
  }),
  `${P}.MetricTarget`,
  'The value a metric should be kept at.',
);

export const MetricIdentifierSchema = named(
  z.object({
    name: req(z.string(), 'Name of the metric.'),
    selector: opt(LabelSelectorSchema, 'Label selector passed to the metrics server to narrow the metric; unset uses only the name.'),
  }),
  `${P}.MetricIdentifier`,
  'A metric, by name and labels.',
);

export const ObjectMetricSourceSchema = named(
  z.object({
    describedObject: req(CrossVersionObjectReferenceSchema, 'The object the metric describes.'),
    target: req(MetricTargetSchema, 'Target value (Value or AverageValue).'),
    metric: req(MetricIdentifierSchema, 'The metric.'),
  }),
  `${P}.ObjectMetricSource`,
  'A metric of another object in the namespace, e.g. requests per second of an Ingress.',
);

export const PodsMetricSourceSchema = named(
  z.object({
    metric: req(MetricIdentifierSchema, 'The metric.'),
    target: req(MetricTargetSchema, 'Target value (AverageValue only).'),
  }),
  `${P}.PodsMetricSource`,
  'A metric of each pod of the target, averaged, e.g. transactions per second.',
);

export const ResourceMetricSourceSchema = named(
  z.object({
    name: req(z.string(), 'Resource, e.g. cpu or memory.'),
    target: req(MetricTargetSchema, 'Target value (Utilization or AverageValue).'),
  }),
  `${P}.ResourceMetricSource`,
  'Resource usage (as known from requests and limits) of the pods, averaged.',
);

export const ContainerResourceMetricSourceSchema = named(
  z.object({
    name: req(z.string(), 'Resource, e.g. cpu or memory.'),
    target: req(MetricTargetSchema, 'Target value (Utilization or AverageValue).'),
    container: req(z.string(), 'Container of the pods whose usage counts.'),
  }),
  `${P}.ContainerResourceMetricSource`,
  'Resource usage of one container of each pod, averaged.',
);

export const ExternalMetricSourceSchema = named(
  z.object({
    metric: req(MetricIdentifierSchema, 'The metric.'),
    target: req(MetricTargetSchema, 'Target value (Value or AverageValue).'),
  }),
  `${P}.ExternalMetricSource`,
  'A metric from outside the cluster, e.g. the length of a cloud queue.',
);

export const MetricSpecSchema = named(
  z.object({
    type: req(z.enum(metricTypes), 'Which source is set: Object, Pods, Resource, ContainerResource or External.'),
    object: opt(ObjectMetricSourceSchema, 'A metric of another object.'),
    pods: opt(PodsMetricSourceSchema, 'A per-pod metric.'),
    resource: opt(ResourceMetricSourceSchema, 'Pod resource usage.'),
    containerResource: opt(ContainerResourceMetricSourceSchema, 'Container resource usage.'),
    external: opt(ExternalMetricSourceSchema, 'A metric from outside the cluster.'),
  }),
  `${P}.MetricSpec`,
  'A metric to scale on and its target; the field named by type is set.',
);

export const HPAScalingPolicySchema = named(
  z.object({
    type: req(z.enum(['Pods', 'Percent']), 'Pods (a number of pods) or Percent (of the current replicas).'),
    value: req(int32(), 'Amount of change allowed; greater than 0.'),
    periodSeconds: req(int32(), 'Window the change is allowed in, 1 to 1800 seconds.'),
  }),
  `${P}.HPAScalingPolicy`,
  'How much the replica count may change within a period.',
);

export const HPAScalingRulesSchema = named(
  z.object({
    stabilizationWindowSeconds: i32('Seconds of past recommendations considered, to avoid flapping: 0 to 3600. Default 0 up, 300 down.'),
    selectPolicy: optEnum(['Max', 'Min', 'Disabled'], 'Which policy applies when several do: Max (default, the largest change), Min, or Disabled (no scaling this way).'),
    policies: atomicList(HPAScalingPolicySchema, 'Allowed changes; with several, selectPolicy picks one.').optional(),
  }),
  `${P}.HPAScalingRules`,
  'Scaling behaviour in one direction.',
);

export const HorizontalPodAutoscalerBehaviorSchema = named(
  z.object({
    scaleUp: opt(HPAScalingRulesSchema, 'Rules for scaling up. Default: no stabilization; the larger of 4 pods or 100% per 15 seconds.'),
    scaleDown: opt(HPAScalingRulesSchema, 'Rules for scaling down. Default: a 300-second stabilization window; up to 100% per 15 seconds.'),
  }),
  `${P}.HorizontalPodAutoscalerBehavior`,
  'How fast the autoscaler may scale up and down.',
);

export const HorizontalPodAutoscalerSpecSchema = named(
  z.object({
    scaleTargetRef: req(CrossVersionObjectReferenceSchema, 'The scalable object (with a scale subresource) whose pods are measured and replicas set.'),
    minReplicas: i32('Fewest replicas. Default 1; 0 needs the HPAScaleToZero feature and an Object or External metric.'),
    maxReplicas: req(int32(), 'Most replicas; at least minReplicas.'),
    metrics: atomicList(MetricSpecSchema, 'Metrics to scale on; the largest recommended replica count wins. Default 80% average CPU utilization.').optional(),
    behavior: opt(HorizontalPodAutoscalerBehaviorSchema, 'Scaling speed limits; defaults apply when unset.'),
  }),
  `${P}.HorizontalPodAutoscalerSpec`,
  'The desired behaviour of an autoscaler.',
);

export const MetricValueStatusSchema = named(
  z.object({
    value: opt(Quantity, 'Current value of the metric.'),
    averageValue: opt(Quantity, 'Current value averaged over the pods.'),
    averageUtilization: i32('Current average usage as a percentage of the pod requests.'),
  }),
  `${P}.MetricValueStatus`,
  'The current value of a metric.',
);

export const ObjectMetricStatusSchema = named(
  z.object({
    metric: req(MetricIdentifierSchema, 'The metric.'),
    current: req(MetricValueStatusSchema, 'Current value.'),
    describedObject: req(CrossVersionObjectReferenceSchema, 'The object the metric describes.'),
  }),
  `${P}.ObjectMetricStatus`,
  'Current value of an object metric.',
);

export const PodsMetricStatusSchema = named(
  z.object({
    metric: req(MetricIdentifierSchema, 'The metric.'),
    current: req(MetricValueStatusSchema, 'Current value.'),
  }),
  `${P}.PodsMetricStatus`,
  'Current value of a per-pod metric.',
);

export const ResourceMetricStatusSchema = named(
  z.object({
    name: req(z.string(), 'Resource, e.g. cpu.'),
    current: req(MetricValueStatusSchema, 'Current value.'),
  }),
  `${P}.ResourceMetricStatus`,
  'Current pod resource usage.',
);

export const ContainerResourceMetricStatusSchema = named(
  z.object({
    name: req(z.string(), 'Resource, e.g. cpu.'),
    current: req(MetricValueStatusSchema, 'Current value.'),
    container: req(z.string(), 'Container whose usage is measured.'),
  }),
  `${P}.ContainerResourceMetricStatus`,
  'Current container resource usage.',
);

export const ExternalMetricStatusSchema = named(
  z.object({
    metric: req(MetricIdentifierSchema, 'The metric.'),
    current: req(MetricValueStatusSchema, 'Current value.'),
  }),
  `${P}.ExternalMetricStatus`,
  'Current value of an external metric.',
);

export const MetricStatusSchema = named(
  z.object({
    type: req(z.enum(metricTypes), 'Which source is set: Object, Pods, Resource, ContainerResource or External.'),
    object: opt(ObjectMetricStatusSchema, 'An object metric.'),
    pods: opt(PodsMetricStatusSchema, 'A per-pod metric.'),
    resource: opt(ResourceMetricStatusSchema, 'Pod resource usage.'),
    containerResource: opt(ContainerResourceMetricStatusSchema, 'Container resource usage.'),
    external: opt(ExternalMetricStatusSchema, 'An external metric.'),
  }),
  `${P}.MetricStatus`,
  'Current value of one of the metrics of the spec.',
);

export const HorizontalPodAutoscalerConditionSchema = named(
  z.object({
    type: req(z.string(), 'ScalingActive, AbleToScale or ScalingLimited.'),
    status: req(z.enum(['True', 'False', 'Unknown']), 'True, False or Unknown.'),
    lastTransitionTime: opt(Time, 'When the status last changed.'),
    reason: str('Machine-readable reason of the last transition.'),
    message: str('Human-readable details of the last transition.'),
  }),
  `${P}.HorizontalPodAutoscalerCondition`,
  'One condition of an autoscaler.',
);

export const HorizontalPodAutoscalerStatusSchema = named(
  z.object({
    observedGeneration: i64('Generation the status was computed for.'),
    lastScaleTime: opt(Time, 'When the replica count was last changed.'),
    currentReplicas: i32('Replicas of the target as last seen.'),
    desiredReplicas: req(int32(), 'Replicas the autoscaler last asked for.'),
    currentMetrics: atomicList(MetricStatusSchema, 'Last read value of each metric.').optional(),
    conditions: mergeList(HorizontalPodAutoscalerConditionSchema, 'type', 'Current conditions.').optional(),
  }),
  `${P}.HorizontalPodAutoscalerStatus`,
  'The observed state of an autoscaler.',
);

export const HorizontalPodAutoscalerSchema = named(
  z.object({
    ...typeMeta,
    metadata: ObjectMetaSchema,
    spec: opt(HorizontalPodAutoscalerSpecSchema, 'Target, bounds and metrics.'),
    status: opt(HorizontalPodAutoscalerStatusSchema, 'Current metrics and replica counts.'),
  }),
  'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler',
  'Scales a workload between bounds to keep metrics (CPU usage, custom or external metrics) near targets.',
);
export type HorizontalPodAutoscaler = z.infer<typeof HorizontalPodAutoscalerSchema>;
