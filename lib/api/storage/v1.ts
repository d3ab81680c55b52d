/** storage.k8s.io/v1: StorageClasses. */
import { z, typeMeta, named, StringMap, atomicList, bool, req, opt, optEnum } from '../schema.js';
import { ObjectMetaSchema } from '../meta/v1.js';
import { TopologySelectorTermSchema } from '../core/v1.js';

/** Annotation that makes a StorageClass the default for claims that name none. */
export const defaultStorageClassAnnotation = 'storageclass.kubernetes.io/is-default-class';

export const StorageClassSchema = named(
  z.object({
    ...typeMeta,
    metadata: ObjectMetaSchema,
    provisioner: req(z.string(), 'Volume plugin or CSI driver that provisions volumes of this class, e.g. ebs.csi.aws.com. Immutable.'),
    parameters: opt(StringMap, 'Provisioner-specific parameters, at most 512 entries and 256KiB. Immutable.'),
    reclaimPolicy: optEnum(['Delete', 'Retain'], 'Reclaim policy of the volumes provisioned: Delete (default) or Retain. Immutable.'),
    mountOptions: atomicList(z.string(), 'Mount options of the volumes provisioned, e.g. ro or soft; not validated.').optional(),
    allowVolumeExpansion: bool('Whether claims of this class may be resized.'),
    volumeBindingMode: optEnum(['Immediate', 'WaitForFirstConsumer'], 'Immediate (default): provision and bind at once; WaitForFirstConsumer: wait until a pod uses the claim. Immutable.'),
    allowedTopologies: atomicList(TopologySelectorTermSchema, 'Topology domains where volumes may be provisioned; empty means anywhere.').optional(),
  }),
  'io.k8s.api.storage.v1.StorageClass',
  'A class of storage that volumes are provisioned dynamically from.',
);
export type StorageClass = z.infer<typeof StorageClassSchema>;


