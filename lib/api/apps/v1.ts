/** apps/v1: Deployments, ReplicaSets, DaemonSets, StatefulSets, ControllerRevisions. */
import { z, doc, named, IntOrString, int32, int64, Time, AnyJSON, mergeList } from '../schema.js';
import { ObjectMetaSchema, LabelSelectorSchema } from '../meta/v1.js';
import { PodTemplateSpecSchema, PersistentVolumeClaimSchema } from '../core/v1.js';

const P = 'io.k8s.api.apps.v1';
const objectBase = { apiVersion: z.string().optional(), kind: z.string().optional(), metadata: ObjectMetaSchema };

const WorkloadConditionSchema = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  lastUpdateTime: Time.optional(),
  lastTransitionTime: Time.optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});

export const DeploymentSchema = named(
  z.object({
    ...objectBase,
    spec: z
      .object({
        replicas: doc(int32().optional(), 'Desired number of pods. Default 1.'),
        selector: doc(LabelSelectorSchema.optional(), 'Selects the pods of this deployment; must match the template labels.'),
        template: PodTemplateSpecSchema,
        strategy: z
          .object({
            type: doc(z.enum(['Recreate', 'RollingUpdate']).optional(), 'RollingUpdate (default) or Recreate.'),
            rollingUpdate: z
              .object({
                maxUnavailable: doc(IntOrString.optional(), 'Pods that may be unavailable during the update (number or percent). Default 25%.'),
                maxSurge: doc(IntOrString.optional(), 'Pods that may be created above the desired count (number or percent). Default 25%.'),
              })
              .optional(),
          })
          .meta({ id: `${P}.DeploymentStrategy`, description: 'How old pods are replaced by new ones.' })
          .optional(),
        minReadySeconds: int32().optional(),
        revisionHistoryLimit: doc(int32().optional(), 'Old ReplicaSets kept for rollback. Default 10.'),
        paused: doc(z.boolean().optional(), 'A paused deployment does not roll out template changes.'),
        progressDeadlineSeconds: doc(int32().optional(), 'Seconds without progress before the rollout is reported failed. Default 600.'),
      })
      .meta({ id: `${P}.DeploymentSpec`, description: 'The desired state of a deployment.' })
      .optional(),
    status: z
      .object({
        observedGeneration: int64().optional(),
        replicas: int32().optional(),
        updatedReplicas: int32().optional(),
        readyReplicas: int32().optional(),
        availableReplicas: int32().optional(),
        unavailableReplicas: int32().optional(),
        terminatingReplicas: int32().optional(),
        conditions: mergeList(WorkloadConditionSchema, 'type', 'Available and Progressing.').optional(),
        collisionCount: int32().optional(),
      })
      .optional(),
  }),
  `${P}.Deployment`,
  'Declarative updates for pods through ReplicaSets.',
);
export type Deployment = z.infer<typeof DeploymentSchema>;

export const ReplicaSetSchema = named(
  z.object({
    ...objectBase,
    spec: z
      .object({
        replicas: doc(int32().optional(), 'Desired number of pods. Default 1.'),
        minReadySeconds: int32().optional(),
        selector: LabelSelectorSchema.optional(),
        template: PodTemplateSpecSchema.optional(),
      })
      .optional(),
    status: z
      .object({
        replicas: int32(),
        fullyLabeledReplicas: int32().optional(),
        readyReplicas: int32().optional(),
        availableReplicas: int32().optional(),
        terminatingReplicas: int32().optional(),
        observedGeneration: int64().optional(),
        conditions: z.array(WorkloadConditionSchema.omit({ lastUpdateTime: true })).optional(),
      })
      .optional(),
  }),
  `${P}.ReplicaSet`,
  'Keeps a number of identical pods running.',
);
export type ReplicaSet = z.infer<typeof ReplicaSetSchema>;

export const DaemonSetSchema = named(
  z.object({
    ...objectBase,
    spec: z
      .object({
        selector: LabelSelectorSchema.optional(),
        template: PodTemplateSpecSchema,
        updateStrategy: z
          .object({
            type: z.enum(['RollingUpdate', 'OnDelete']).optional(),
            rollingUpdate: z.object({ maxUnavailable: IntOrString.optional(), maxSurge: IntOrString.optional() }).optional(),
          })
          .optional(),
        minReadySeconds: int32().optional(),
        revisionHistoryLimit: int32().optional(),
      })
      .optional(),
    status: z
      .object({
        currentNumberScheduled: int32(),
        numberMisscheduled: int32(),
        desiredNumberScheduled: int32(),
        numberReady: int32(),
        observedGeneration: int64().optional(),
        updatedNumberScheduled: int32().optional(),
        numberAvailable: int32().optional(),
        numberUnavailable: int32().optional(),
        collisionCount: int32().optional(),
        conditions: z.array(WorkloadConditionSchema.omit({ lastUpdateTime: true })).optional(),
      })
      .optional(),
  }),
  `${P}.DaemonSet`,
  'Runs one pod on every eligible node.',
);
export type DaemonSet = z.infer<typeof DaemonSetSchema>;

export const StatefulSetSchema = named(
  z.object({
    ...objectBase,
    spec: z
      .object({
        replicas: int32().optional(),
        selector: LabelSelectorSchema.optional(),
        template: PodTemplateSpecSchema,
        volumeClaimTemplates: doc(z.array(PersistentVolumeClaimSchema).optional(), 'Claims each pod gets its own volume from, named <claim>-<pod>.'),
        serviceName: doc(z.string().optional(), 'The headless service that gives the pods their stable network identity.'),
        podManagementPolicy: doc(z.enum(['OrderedReady', 'Parallel']).optional(), 'OrderedReady (default): one pod at a time, in order.'),
        updateStrategy: z
          .object({
            type: z.enum(['RollingUpdate', 'OnDelete']).optional(),
            rollingUpdate: z.object({ partition: int32().optional(), maxUnavailable: IntOrString.optional() }).optional(),
          })
          .optional(),
        revisionHistoryLimit: int32().optional(),
        minReadySeconds: int32().optional(),
        persistentVolumeClaimRetentionPolicy: z.object({ whenDeleted: z.string().optional(), whenScaled: z.string().optional() }).optional(),
        ordinals: z.object({ start: int32().optional() }).optional(),
      })
      .optional(),
    status: z
      .object({
        observedGeneration: int64().optional(),
        replicas: int32(),
        readyReplicas: int32().optional(),
        currentReplicas: int32().optional(),
        updatedReplicas: int32().optional(),
        currentRevision: z.string().optional(),
        updateRevision: z.string().optional(),
        collisionCount: int32().optional(),
        availableReplicas: int32().optional(),
        conditions: z.array(WorkloadConditionSchema.omit({ lastUpdateTime: true })).optional(),
      })
      .optional(),
  }),
  `${P}.StatefulSet`,
  'Pods with stable names (web-0, web-1...) and ordered start-up.',
);
export type StatefulSet = z.infer<typeof StatefulSetSchema>;

export const ControllerRevisionSchema = named(
  z.object({ ...objectBase, data: AnyJSON.optional(), revision: int64() }),
  `${P}.ControllerRevision`,
  'An immutable snapshot of a controller template, for rollbacks.',
);
export type ControllerRevision = z.infer<typeof ControllerRevisionSchema>;

/** autoscaling/v1 Scale: the scale subresource's body. */
export const ScaleSchema = named(
  z.object({
    ...objectBase,
    spec: z.object({ replicas: int32().optional() }).optional(),
    status: z.object({ replicas: int32(), selector: z.string().optional() }).optional(),
  }),
  'io.k8s.api.autoscaling.v1.Scale',
  'The desired and current replica count of a scalable resource.',
);
export type Scale = z.infer<typeof ScaleSchema>;
