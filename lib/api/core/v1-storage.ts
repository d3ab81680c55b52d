/** core/v1 PersistentVolumes and PersistentVolumeClaims. */
import { z, typeMeta, named, mergeList, atomicList, StringMap, Time, str, opt, req, optEnum } from '../schema.js';
import { ObjectMetaSchema } from '../meta/v1.js';
import { ResourceListSchema, ObjectReferenceSchema, NodeSelectorSchema } from './v1-common.js';
import { PersistentVolumeSourceShape, PersistentVolumeClaimSpecSchema, accessModes } from './v1-volume.js';

const P = 'io.k8s.api.core.v1';

/** Finalizers that keep a volume or claim while it is in use (added at creation by StorageObjectInUseProtection). */
export const pvProtectionFinalizer = 'kubernetes.io/pv-protection';
export const pvcProtectionFinalizer = 'kubernetes.io/pvc-protection';
const objectBase = { ...typeMeta, metadata: ObjectMetaSchema };

export const VolumeNodeAffinitySchema = named(
  z.object({ required: opt(NodeSelectorSchema, 'Nodes from which the volume can be used.') }),
  `${P}.VolumeNodeAffinity`,
  'The nodes a volume can be used from; pods using it are scheduled there.',
);

export const PersistentVolumeSpecSchema = named(
  z.object({
    capacity: opt(ResourceListSchema, 'Size of the volume, e.g. storage: 10Gi.'),
    ...PersistentVolumeSourceShape,
    accessModes: atomicList(z.enum(accessModes), 'How the volume can be mounted: ReadWriteOnce, ReadOnlyMany, ReadWriteMany or ReadWriteOncePod.').optional(),
    claimRef: opt(ObjectReferenceSchema, 'The claim the volume is bound to (or reserved for, when set by hand).'),
    persistentVolumeReclaimPolicy: optEnum(['Recycle', 'Delete', 'Retain'], 'What happens when the claim is released: Retain (default for hand-made volumes), Delete (default for provisioned ones) or Recycle (deprecated).'),
    storageClassName: str('StorageClass the volume belongs to; only claims of that class bind to it. Empty means no class.'),
    mountOptions: atomicList(z.string(), 'Mount options, e.g. ro or soft; not validated, a bad option fails the mount.').optional(),
    volumeMode: optEnum(['Block', 'Filesystem'], 'Filesystem (default) or Block.'),
    nodeAffinity: opt(VolumeNodeAffinitySchema, 'Nodes the volume can be used from.'),
    volumeAttributesClassName: str('VolumeAttributesClass of the volume (beta, off by default).'),
  }),
  `${P}.PersistentVolumeSpec`,
  'A piece of storage: its size, access modes, backing source and reclaim policy.',
);

export const PersistentVolumeStatusSchema = named(
  z.object({
    phase: optEnum(['Pending', 'Available', 'Bound', 'Released', 'Failed'], 'Pending, Available (not bound), Bound, Released (claim deleted, not reclaimed yet) or Failed.'),
    message: str('Why the volume is in this state.'),
    reason: str('Short reason for the state.'),
    lastPhaseTransitionTime: opt(Time, 'When the phase last changed.'),
  }),
  `${P}.PersistentVolumeStatus`,
  'The observed state of a PersistentVolume.',
);

export const PersistentVolumeSchema = named(
  z.object({
    ...objectBase,
    spec: opt(PersistentVolumeSpecSchema, 'The storage offered.'),
    status: opt(PersistentVolumeStatusSchema, 'Where the volume is in its lifecycle.'),
  }),
  `${P}.PersistentVolume`,
  'A piece of cluster storage, provisioned by an administrator or dynamically through a StorageClass.',
);
export type PersistentVolume = z.infer<typeof PersistentVolumeSchema>;

export const PersistentVolumeClaimConditionSchema = named(
  z.object({
    type: req(z.string(), 'Resizing, FileSystemResizePending, ControllerResizeError, NodeResizeError, ModifyVolumeError or ModifyingVolume.'),
    status: req(z.enum(['True', 'False', 'Unknown']), 'True, False or Unknown.'),
    lastProbeTime: opt(Time, 'When the condition was last probed.'),
    lastTransitionTime: opt(Time, 'When the status last changed.'),
    reason: str('Machine-readable reason of the last transition.'),
    message: str('Human-readable details of the last transition.'),
  }),
  `${P}.PersistentVolumeClaimCondition`,
  'One condition of a claim, mostly about resizing.',
);

export const ModifyVolumeStatusSchema = named(
  z.object({
    targetVolumeAttributesClassName: str('VolumeAttributesClass being applied.'),
    status: req(z.string(), 'Pending, InProgress or Infeasible.'),
  }),
  `${P}.ModifyVolumeStatus`,
  'Progress of a change of VolumeAttributesClass.',
);

export const PersistentVolumeClaimStatusSchema = named(
  z.object({
    phase: optEnum(['Pending', 'Bound', 'Lost'], 'Pending, Bound, or Lost (the bound volume disappeared).'),
    accessModes: atomicList(z.enum(accessModes), 'Access modes of the bound volume.').optional(),
    capacity: opt(ResourceListSchema, 'Size of the bound volume.'),
    conditions: mergeList(PersistentVolumeClaimConditionSchema, 'type', 'Current conditions of the claim.').optional(),
    allocatedResources: opt(ResourceListSchema, 'Storage allocated to the claim, possibly more than requested while a resize is in progress.'),
    allocatedResourceStatuses: opt(StringMap, 'Progress of resizing per resource, e.g. storage: ControllerResizeInProgress.'),
    currentVolumeAttributesClassName: str('VolumeAttributesClass the volume currently has.'),
    modifyVolumeStatus: opt(ModifyVolumeStatusSchema, 'Progress of a VolumeAttributesClass change, if any.'),
  }),
  `${P}.PersistentVolumeClaimStatus`,
  'The observed state of a claim.',
);

export const PersistentVolumeClaimSchema = named(
  z.object({
    ...objectBase,
    spec: opt(PersistentVolumeClaimSpecSchema, 'The storage asked for.'),
    status: opt(PersistentVolumeClaimStatusSchema, 'Whether and to what the claim is bound.'),
  }),
  `${P}.PersistentVolumeClaim`,
  "A user's request for storage, bound to a matching PersistentVolume.",
);
export type PersistentVolumeClaim = z.infer<typeof PersistentVolumeClaimSchema>;
