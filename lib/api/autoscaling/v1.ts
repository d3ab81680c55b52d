/**
 * autoscaling/v1: the first HorizontalPodAutoscaler version, CPU utilization only. It is what
 * `kubectl autoscale` still sends. Objects are stored as autoscaling/v2 (lib/api/autoscaling/
 * v1-conversion.ts converts both ways); what v1 cannot say travels in annotations.
 */
import { z, typeMeta, named, Time, int32, i32, i64, opt, req } from '../schema.js';
import { ObjectMetaSchema } from '../meta/v1.js';
import { crossVersionObjectReference } from './v2.js';

const P = 'io.k8s.api.autoscaling.v1';

export const CrossVersionObjectReferenceV1Schema = crossVersionObjectReference(P);

export const HorizontalPodAutoscalerSpecV1Schema = named(
  z.object({
    scaleTargetRef: req(CrossVersionObjectReferenceV1Schema, 'The scalable object (with a scale subresource) whose pods are measured and replicas set.'),
    minReplicas: i32('Fewest replicas (default 1).'),
    maxReplicas: req(int32(), 'Most replicas; at least minReplicas.'),
    targetCPUUtilizationPercentage: i32('Target average CPU usage of the pods, as a percentage of their requests; unset means the default (80%).'),
  }),
  `${P}.HorizontalPodAutoscalerSpec`,
  'The desired behaviour of an autoscaler.',
);

export const HorizontalPodAutoscalerStatusV1Schema = named(
  z.object({
    observedGeneration: i64('Generation the status was computed for.'),
    lastScaleTime: opt(Time, 'When the replica count was last changed.'),
    currentReplicas: req(int32(), 'Replicas of the target as last seen.'),
    desiredReplicas: req(int32(), 'Replicas the autoscaler last asked for.'),
    currentCPUUtilizationPercentage: i32('Current average CPU usage of the pods, as a percentage of their requests.'),
  }),
  `${P}.HorizontalPodAutoscalerStatus`,
  'The observed state of an autoscaler.',
);

export const HorizontalPodAutoscalerV1Schema = named(
  z.object({
    ...typeMeta,
    metadata: ObjectMetaSchema,
    spec: opt(HorizontalPodAutoscalerSpecV1Schema, 'Target, bounds and CPU target.'),
    status: opt(HorizontalPodAutoscalerStatusV1Schema, 'Current CPU usage and replica counts.'),
  }),
  `${P}.HorizontalPodAutoscaler`,
  'Scales a workload between bounds to keep the average CPU usage of its pods near a target.',
);
export type HorizontalPodAutoscalerV1 = z.infer<typeof HorizontalPodAutoscalerV1Schema>;
