/** apps/v1: Deployments, ReplicaSets, DaemonSets, StatefulSets, ControllerRevisions. */
import { z, typeMeta, named, IntOrString, int32, Time, AnyJSON, mergeList, atomicList, str, bool, i32, i64, opt, req, optEnum, patchStrategy } from '../schema.js';
import { ObjectMetaSchema, LabelSelectorSchema } from '../meta/v1.js';
import { PodTemplateSpecSchema, PersistentVolumeClaimSchema } from '../core/v1.js';

const P = 'io.k8s.api.apps.v1';
const objectBase = { ...typeMeta, metadata: ObjectMetaSchema };

/** The fields every apps/v1 condition has; Deployment conditions add lastUpdateTime. */
function conditionShape(types: string) {
  return {
    type: req(z.string(), types),
    status: req(z.enum(['True', 'False', 'Unknown']), 'True, False or Unknown.'),
    lastTransitionTime: opt(Time, 'When the status last changed.'),
    reason: str('Machine-readable reason of the last transition.'),
    message: str('Human-readable details of the last transition.'),
  };
}

const selector = (what: string) => req(LabelSelectorSchema, `Selects the pods of this ${what}; must match the template labels. Immutable.`);
const minReadySeconds = i32('Seconds a new pod must be ready, without any container crashing, to count as available. Default 0.');
const revisionHistoryLimit = (what: string) => i32(`Old ${what} kept for rollback. Default 10.`);
const collisionCount = i32('Counter mixed into the name hash of new revisions when a hash collides.');

// ---- Deployment ----------------------------------------------------------------------
export const DeploymentConditionSchema = named(
  z.object({ ...conditionShape('Available, Progressing or ReplicaFailure.'), lastUpdateTime: opt(Time, 'When the condition was last updated.') }),
  `${P}.DeploymentCondition`,
  'One condition of a deployment.',
);

export const RollingUpdateDeploymentSchema = named(
  z.object({
    maxUnavailable: opt(IntOrString, 'Pods that may be unavailable during the update, as a number or a percentage of the desired count (rounded down). Default 25%.'),
    maxSurge: opt(IntOrString, 'Pods that may be created above the desired count during the update, as a number or a percentage (rounded up). Default 25%.'),
  }),
  `${P}.RollingUpdateDeployment`,
  'How fast a rolling update may go.',
);

export const DeploymentStrategySchema = named(
  z.object({
    type: optEnum(['Recreate', 'RollingUpdate'], 'RollingUpdate (default): replace pods gradually; Recreate: delete all old pods first.'),
    rollingUpdate: opt(RollingUpdateDeploymentSchema, 'Parameters of a rolling update; only with type RollingUpdate.'),
  }),
  `${P}.DeploymentStrategy`,
  'A replacement strategy: Recreate (all old pods go first) or RollingUpdate (a few at a time).',
);

export const DeploymentSpecSchema = named(
  z.object({
    replicas: i32('Desired number of pods. Default 1.'),
    selector: selector('deployment'),
    template: req(PodTemplateSpecSchema, 'Template of the pods; its restartPolicy must be Always.'),
    strategy: patchStrategy(DeploymentStrategySchema.optional(), 'retainKeys', 'How old pods are replaced by new ones.'),
    minReadySeconds,
    revisionHistoryLimit: revisionHistoryLimit('ReplicaSets'),
    paused: bool('A paused deployment does not roll out template changes.'),
    progressDeadlineSeconds: i32('Seconds without progress before the rollout is reported failed (Progressing=False, ProgressDeadlineExceeded). Default 600.'),
  }),
  `${P}.DeploymentSpec`,
  'The desired state of a deployment.',
);

export const DeploymentStatusSchema = named(
  z.object({
    observedGeneration: i64('Generation the status was computed for.'),
    replicas: i32('Pods of the deployment (old and new).'),
    updatedReplicas: i32('Pods made from the current template.'),
    readyReplicas: i32('Pods that are ready.'),
    availableReplicas: i32('Pods ready for at least minReadySeconds.'),
    unavailableReplicas: i32('Pods still needed for the desired count to be available.'),
    terminatingReplicas: i32('Pods being terminated (newer API versions).'),
    conditions: mergeList(DeploymentConditionSchema, 'type', 'Available, Progressing and ReplicaFailure.').optional(),
    collisionCount,
  }),
  `${P}.DeploymentStatus`,
  'The observed state of a deployment.',
);

export const DeploymentSchema = named(
  z.object({
    ...objectBase,
    spec: opt(DeploymentSpecSchema, 'What the deployment should run.'),
    status: opt(DeploymentStatusSchema, 'Progress of the deployment.'),
  }),
  `${P}.Deployment`,
  'Declarative updates for pods through ReplicaSets.',
);
export type Deployment = z.infer<typeof DeploymentSchema>;

// ---- ReplicaSet ------------------------------------------------------------------------
export const ReplicaSetConditionSchema = named(z.object(conditionShape('ReplicaFailure.')), `${P}.ReplicaSetCondition`, 'One condition of a replica set.');

export const ReplicaSetSpecSchema = named(
  z.object({
    replicas: i32('Desired number of pods. Default 1.'),
    minReadySeconds,
    selector: selector('replica set'),
    template: opt(PodTemplateSpecSchema, 'Template of the pods created when too few exist.'),
  }),
  `${P}.ReplicaSetSpec`,
  'The desired state of a replica set.',
);

export const ReplicaSetStatusSchema = named(
  z.object({
    replicas: req(int32(), 'Number of pods.'),
    fullyLabeledReplicas: i32('Pods whose labels match the template labels.'),
    readyReplicas: i32('Pods that are ready.'),
    availableReplicas: i32('Pods ready for at least minReadySeconds.'),
    terminatingReplicas: i32('Pods being terminated (newer API versions).'),
    observedGeneration: i64('Generation the status was computed for.'),
    conditions: mergeList(ReplicaSetConditionSchema, 'type', 'Current conditions.').optional(),
  }),
  `${P}.ReplicaSetStatus`,
  'The observed state of a replica set.',
);

export const ReplicaSetSchema = named(
  z.object({
    ...objectBase,
    spec: opt(ReplicaSetSpecSchema, 'What the replica set should maintain.'),
    status: opt(ReplicaSetStatusSchema, 'What the replica set has.'),
  }),
  `${P}.ReplicaSet`,
  'Keeps a number of identical pods running.',
);
export type ReplicaSet = z.infer<typeof ReplicaSetSchema>;

// ---- DaemonSet -------------------------------------------------------------------------
export const DaemonSetConditionSchema = named(z.object(conditionShape('Type of the condition.')), `${P}.DaemonSetCondition`, 'One condition of a daemon set.');

export const RollingUpdateDaemonSetSchema = named(
  z.object({
    maxUnavailable: opt(IntOrString, 'Nodes whose pod may be unavailable during the update, as a number or a percentage of the scheduled nodes. Default 1.'),
    maxSurge: opt(IntOrString, 'Nodes that may run an extra updated pod while the old one still runs, as a number or a percentage. Default 0.'),
  }),
  `${P}.RollingUpdateDaemonSet`,
  'How fast a daemon set rolling update may go.',
);

export const DaemonSetUpdateStrategySchema = named(
  z.object({
    type: optEnum(['RollingUpdate', 'OnDelete'], 'RollingUpdate (default) or OnDelete (new pods only when old ones are deleted by hand).'),
    rollingUpdate: opt(RollingUpdateDaemonSetSchema, 'Parameters of a rolling update.'),
  }),
  `${P}.DaemonSetUpdateStrategy`,
  'How daemon pods are replaced when the template changes.',
);

export const DaemonSetSpecSchema = named(
  z.object({
    selector: selector('daemon set'),
    template: req(PodTemplateSpecSchema, 'Template of the pods; one is run on every eligible node. Its restartPolicy must be Always.'),
    updateStrategy: opt(DaemonSetUpdateStrategySchema, 'How pods are replaced when the template changes.'),
    minReadySeconds,
    revisionHistoryLimit: revisionHistoryLimit('revisions'),
  }),
  `${P}.DaemonSetSpec`,
  'The desired state of a daemon set.',
);

export const DaemonSetStatusSchema = named(
  z.object({
    currentNumberScheduled: req(int32(), 'Nodes running at least one daemon pod that should.'),
    numberMisscheduled: req(int32(), 'Nodes running a daemon pod that should not.'),
    desiredNumberScheduled: req(int32(), 'Nodes that should run the daemon pod.'),
    numberReady: req(int32(), 'Nodes whose daemon pod is ready.'),
    observedGeneration: i64('Generation the status was computed for.'),
    updatedNumberScheduled: i32('Nodes running the updated daemon pod.'),
    numberAvailable: i32('Nodes whose daemon pod has been ready for minReadySeconds.'),
    numberUnavailable: i32('Nodes that should run the daemon pod but have none available.'),
    collisionCount,
    conditions: mergeList(DaemonSetConditionSchema, 'type', 'Current conditions.').optional(),
  }),
  `${P}.DaemonSetStatus`,
  'The observed state of a daemon set.',
);

export const DaemonSetSchema = named(
  z.object({
    ...objectBase,
    spec: opt(DaemonSetSpecSchema, 'What the daemon set should run.'),
    status: opt(DaemonSetStatusSchema, 'What the daemon set runs.'),
  }),
  `${P}.DaemonSet`,
  'Runs one pod on every eligible node.',
);
export type DaemonSet = z.infer<typeof DaemonSetSchema>;

// ---- StatefulSet -----------------------------------------------------------------------
export const StatefulSetConditionSchema = named(z.object(conditionShape('Type of the condition.')), `${P}.StatefulSetCondition`, 'One condition of a stateful set.');

export const RollingUpdateStatefulSetStrategySchema = named(
  z.object({
    partition: i32('Only pods with an ordinal at or above this are updated. Default 0.'),
    maxUnavailable: opt(IntOrString, 'Pods that may be unavailable during the update, as a number or a percentage. Default 1 (alpha: needs MaxUnavailableStatefulSet).'),
  }),
  `${P}.RollingUpdateStatefulSetStrategy`,
  'Parameters of a stateful set rolling update.',
);

export const StatefulSetUpdateStrategySchema = named(
  z.object({
    type: optEnum(['RollingUpdate', 'OnDelete'], 'RollingUpdate (default): replace pods in reverse ordinal order; OnDelete: only when pods are deleted by hand.'),
    rollingUpdate: opt(RollingUpdateStatefulSetStrategySchema, 'Parameters of a rolling update.'),
  }),
  `${P}.StatefulSetUpdateStrategy`,
  'How stateful set pods are replaced when the template changes.',
);

export const StatefulSetPersistentVolumeClaimRetentionPolicySchema = named(
  z.object({
    whenDeleted: optEnum(['Retain', 'Delete'], 'What happens to the claims when the stateful set is deleted: Retain (default) or Delete.'),
    whenScaled: optEnum(['Retain', 'Delete'], 'What happens to the claims of pods removed by a scale-down: Retain (default) or Delete.'),
  }),
  `${P}.StatefulSetPersistentVolumeClaimRetentionPolicy`,
  'Whether claims made from volumeClaimTemplates are kept or deleted.',
);

export const StatefulSetOrdinalsSchema = named(
  z.object({ start: i32('Ordinal of the first pod. Default 0.') }),
  `${P}.StatefulSetOrdinals`,
  'Numbering of the stateful set pods.',
);

export const StatefulSetSpecSchema = named(
  z.object({
    replicas: i32('Desired number of pods. Default 1.'),
    selector: selector('stateful set'),
    template: req(PodTemplateSpecSchema, 'Template of the pods; each gets a stable name <set>-<ordinal>.'),
    volumeClaimTemplates: atomicList(PersistentVolumeClaimSchema, 'Claims made for every pod, named <claim>-<set>-<ordinal>, and mounted by the volume of the same name.').optional(),
    serviceName: str('The headless service that gives the pods their stable network identity.'),
    podManagementPolicy: optEnum(['OrderedReady', 'Parallel'], 'OrderedReady (default): create and delete pods one at a time, in order; Parallel: all at once.'),
    updateStrategy: opt(StatefulSetUpdateStrategySchema, 'How pods are replaced when the template changes.'),
    revisionHistoryLimit: revisionHistoryLimit('revisions'),
    minReadySeconds,
    persistentVolumeClaimRetentionPolicy: opt(StatefulSetPersistentVolumeClaimRetentionPolicySchema, 'What happens to the claims on delete and scale-down.'),
    ordinals: opt(StatefulSetOrdinalsSchema, 'Numbering of the pods.'),
  }),
  `${P}.StatefulSetSpec`,
  'The desired state of a stateful set.',
);

export const StatefulSetStatusSchema = named(
  z.object({
    observedGeneration: i64('Generation the status was computed for.'),
    replicas: req(int32(), 'Number of pods.'),
    readyReplicas: i32('Pods that are ready.'),
    currentReplicas: i32('Pods at currentRevision.'),
    updatedReplicas: i32('Pods at updateRevision.'),
    currentRevision: str('Revision of the pods before the update in progress.'),
    updateRevision: str('Revision the pods are being updated to.'),
    collisionCount,
    conditions: mergeList(StatefulSetConditionSchema, 'type', 'Current conditions.').optional(),
    availableReplicas: i32('Pods ready for at least minReadySeconds.'),
  }),
  `${P}.StatefulSetStatus`,
  'The observed state of a stateful set.',
);

export const StatefulSetSchema = named(
  z.object({
    ...objectBase,
    spec: opt(StatefulSetSpecSchema, 'What the stateful set should run.'),
    status: opt(StatefulSetStatusSchema, 'What the stateful set runs.'),
  }),
  `${P}.StatefulSet`,
  'Pods with stable names (web-0, web-1...), stable storage and ordered start-up.',
);
export type StatefulSet = z.infer<typeof StatefulSetSchema>;

// ---- ControllerRevision ----------------------------------------------------------------------
export const ControllerRevisionSchema = named(
  z.object({
    ...objectBase,
    data: opt(AnyJSON, 'The recorded state: a patch of the template at this revision.'),
    revision: req(z.number().int().meta({ format: 'int64' }), 'Revision number, increasing over the revisions of one controller.'),
  }),
  `${P}.ControllerRevision`,
  'An immutable snapshot of a controller template, for rollbacks.',
);
export type ControllerRevision = z.infer<typeof ControllerRevisionSchema>;

/** autoscaling/v1 Scale: the scale subresource's body. */
export const ScaleSchema = named(
  z.object({
    ...objectBase,
    spec: opt(
      named(z.object({ replicas: i32('Desired number of replicas.') }), 'io.k8s.api.autoscaling.v1.ScaleSpec', 'The replica count asked for.'),
      'The desired scale.',
    ),
    status: opt(
      named(
        z.object({
          replicas: req(int32(), 'Current number of replicas.'),
          selector: str('Label selector of the pods, in string form (as for kubectl -l).'),
        }),
        'io.k8s.api.autoscaling.v1.ScaleStatus',
        'The replica count observed, with the selector of the pods counted.',
      ),
      'The current scale.',
    ),
  }),
  'io.k8s.api.autoscaling.v1.Scale',
  'The desired and current replica count of a scalable resource.',
);
export type Scale = z.infer<typeof ScaleSchema>;
