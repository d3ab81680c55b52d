/**
 * core/v1 volume sources: what a pod volume (VolumeSource) or a PersistentVolume
 * (PersistentVolumeSource) is backed by, and the claim spec that dynamic and ephemeral
 * volumes are requested with. Most in-tree cloud and network sources are deprecated
 * upstream in favour of CSI, but they remain part of the v1 API and are modelled here.
 */
import { z, named, atomicList, StringMap, Quantity, int32, str, bool, i32, i64, opt, req, optEnum } from '../schema.js';
import { ObjectMetaSchema, LabelSelectorSchema } from '../meta/v1.js';
import {
  LocalObjectReferenceSchema,
  SecretReferenceSchema,
  ObjectReferenceSchema,
  KeyToPathSchema,
  ObjectFieldSelectorSchema,
  ResourceFieldSelectorSchema,
  TypedLocalObjectReferenceSchema,
  TypedObjectReferenceSchema,
  ResourceListSchema,
} from './v1-common.js';

const P = 'io.k8s.api.core.v1';

const fsType = (extra = '') => str(`Filesystem type to mount, e.g. ext4 or xfs${extra}.`);
const readOnly = (what = 'the volume') => bool(`Mount ${what} read-only. Default false.`);
const defaultMode = i32('Permission bits (0 to 0777) for the files created, unless an item sets its own mode. Default 0644.');

export const HostPathVolumeSourceSchema = named(
  z.object({
    path: req(z.string(), 'Path of the file or directory on the host; a symlink is followed.'),
    type: optEnum(['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'], 'What must exist at the path: empty (no check), DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice or BlockDevice.'),
  }),
  `${P}.HostPathVolumeSource`,
  'A file or directory of the host mounted into the pod. Gives access to the node; use with care.',
);

export const EmptyDirVolumeSourceSchema = named(
  z.object({
    medium: str('Backing medium: empty for the node default (disk), Memory for a tmpfs, or HugePages / HugePages-<size>.'),
    sizeLimit: opt(Quantity, 'Most storage the volume may use; exceeding it gets the pod evicted. For Memory it also caps the tmpfs.'),
  }),
  `${P}.EmptyDirVolumeSource`,
  'A directory that starts empty and lives as long as the pod.',
);

export const GCEPersistentDiskVolumeSourceSchema = named(
  z.object({
    pdName: req(z.string(), 'Name of the persistent disk in GCE.'),
    fsType: fsType(),
    partition: i32('Partition to mount; 0 or unset mounts the whole disk.'),
    readOnly: readOnly(),
  }),
  `${P}.GCEPersistentDiskVolumeSource`,
  'A Google Compute Engine persistent disk (deprecated in-tree driver; use the CSI driver).',
);

export const AWSElasticBlockStoreVolumeSourceSchema = named(
  z.object({
    volumeID: req(z.string(), 'ID of the EBS volume.'),
    fsType: fsType(),
    partition: i32('Partition to mount; 0 or unset mounts the whole volume.'),
    readOnly: readOnly(),
  }),
  `${P}.AWSElasticBlockStoreVolumeSource`,
  'An AWS Elastic Block Store volume (deprecated in-tree driver; use the CSI driver).',
);

export const GitRepoVolumeSourceSchema = named(
  z.object({
    repository: req(z.string(), 'URL of the repository to clone.'),
    revision: str('Commit to check out.'),
    directory: str("Directory to clone into; '.' clones into the volume root, otherwise a subdirectory of that name."),
  }),
  `${P}.GitRepoVolumeSource`,
  'A directory filled with a git clone when the pod starts (deprecated; clone from an init container instead).',
);

export const SecretVolumeSourceSchema = named(
  z.object({
    secretName: str('Name of the Secret in the pod namespace.'),
    items: atomicList(KeyToPathSchema, 'Keys to project and where; without it every key becomes a file named after it.').optional(),
    defaultMode,
    optional: bool('When true, a missing Secret or key is not an error.'),
  }),
  `${P}.SecretVolumeSource`,
  'The keys of a Secret as files.',
);

export const NFSVolumeSourceSchema = named(
  z.object({
    server: req(z.string(), 'Host name or IP address of the NFS server.'),
    path: req(z.string(), 'Path exported by the server.'),
    readOnly: readOnly('the export'),
  }),
  `${P}.NFSVolumeSource`,
  'An NFS export mounted into the pod: server, path and read-only flag.',
);

const iscsiShape = {
  targetPortal: req(z.string(), 'iSCSI target portal: an IP address, with :port when not 3260.'),
  iqn: req(z.string(), 'iSCSI qualified name of the target.'),
  lun: req(int32(), 'Target LUN number.'),
  iscsiInterface: str('iSCSI interface name using the transport; default "default" (tcp).'),
  fsType: fsType(),
  readOnly: readOnly(),
  portals: atomicList(z.string(), 'Further target portals, tried when the first is unreachable.').optional(),
  chapAuthDiscovery: bool('Use CHAP authentication for discovery.'),
  chapAuthSession: bool('Use CHAP authentication for the session.'),
  initiatorName: str('Custom initiator name; with iscsiInterface set, a new interface <portal>:<volume name> is created.'),
};

export const ISCSIVolumeSourceSchema = named(
  z.object({ ...iscsiShape, secretRef: opt(LocalObjectReferenceSchema, 'Secret with the CHAP credentials.') }),
  `${P}.ISCSIVolumeSource`,
  'An iSCSI disk, attached to the node and mounted into the pod.',
);

export const GlusterfsVolumeSourceSchema = named(
  z.object({
    endpoints: req(z.string(), 'Name of the Endpoints object listing the Glusterfs servers.'),
    path: req(z.string(), 'Name of the Glusterfs volume.'),
    readOnly: readOnly(),
  }),
  `${P}.GlusterfsVolumeSource`,
  'A Glusterfs volume (the in-tree driver was removed in 1.26).',
);

export const PersistentVolumeClaimVolumeSourceSchema = named(
  z.object({
    claimName: req(z.string(), 'Name of a PersistentVolumeClaim in the pod namespace.'),
    readOnly: bool('Mount the claimed volume read-only. Default false.'),
  }),
  `${P}.PersistentVolumeClaimVolumeSource`,
  'Mounts the PersistentVolume bound to a claim.',
);

const rbdShape = {
  monitors: atomicList(z.string(), 'Ceph monitors to contact.'),
  image: req(z.string(), 'Name of the RADOS image.'),
  fsType: fsType(),
  pool: str('RADOS pool. Default rbd.'),
  user: str('RADOS user. Default admin.'),
  keyring: str('Path of the keyring for the user. Default /etc/ceph/keyring.'),
  readOnly: readOnly(),
};

export const RBDVolumeSourceSchema = named(
  z.object({ ...rbdShape, secretRef: opt(LocalObjectReferenceSchema, 'Secret with the user key; overrides keyring.') }),
  `${P}.RBDVolumeSource`,
  'A Ceph RADOS block device (the in-tree driver is deprecated).',
);

const flexShape = {
  driver: req(z.string(), 'Name of the FlexVolume driver.'),
  fsType: fsType('; the default depends on the driver'),
  readOnly: readOnly(),
  options: opt(StringMap, 'Extra options passed to the driver.'),
};

export const FlexVolumeSourceSchema = named(
  z.object({ ...flexShape, secretRef: opt(LocalObjectReferenceSchema, 'Secret passed to the driver scripts.') }),
  `${P}.FlexVolumeSource`,
  'A volume provisioned by an exec-based FlexVolume driver (deprecated; use CSI).',
);

const cinderShape = {
  volumeID: req(z.string(), 'ID of the Cinder volume.'),
  fsType: fsType(),
  readOnly: readOnly(),
};

export const CinderVolumeSourceSchema = named(
  z.object({ ...cinderShape, secretRef: opt(LocalObjectReferenceSchema, 'Secret with the parameters for connecting to OpenStack.') }),
  `${P}.CinderVolumeSource`,
  'An OpenStack Cinder volume (deprecated in-tree driver; use the CSI driver).',
);

const cephfsShape = {
  monitors: atomicList(z.string(), 'Ceph monitors to contact.'),
  path: str('Path within the Ceph filesystem to mount. Default /.'),
  user: str('RADOS user. Default admin.'),
  secretFile: str('Path of the keyring for the user. Default /etc/ceph/user.secret.'),
  readOnly: readOnly(),
};

export const CephFSVolumeSourceSchema = named(
  z.object({ ...cephfsShape, secretRef: opt(LocalObjectReferenceSchema, 'Secret with the user key; overrides secretFile.') }),
  `${P}.CephFSVolumeSource`,
  'A CephFS filesystem (the in-tree driver is deprecated).',
);

export const FlockerVolumeSourceSchema = named(
  z.object({
    datasetName: str('Name of the Flocker dataset (deprecated alias of the metadata name).'),
    datasetUUID: str('UUID of the Flocker dataset.'),
  }),
  `${P}.FlockerVolumeSource`,
  'A dataset of the Flocker control service, by name or UUID (deprecated).',
);

export const DownwardAPIVolumeFileSchema = named(
  z.object({
    path: req(z.string(), "Relative path of the file; may not contain '..' or start with '/'."),
    fieldRef: opt(ObjectFieldSelectorSchema, 'A pod field: metadata.name, metadata.namespace, metadata.labels, metadata.annotations or metadata.uid.'),
    resourceFieldRef: opt(ResourceFieldSelectorSchema, 'A container resource limit or request.'),
    mode: i32('Permission bits of this file (0 to 0777); defaults to the volume defaultMode.'),
  }),
  `${P}.DownwardAPIVolumeFile`,
  'One file of pod information.',
);

export const DownwardAPIVolumeSourceSchema = named(
  z.object({
    items: atomicList(DownwardAPIVolumeFileSchema, 'The files to write.').optional(),
    defaultMode,
  }),
  `${P}.DownwardAPIVolumeSource`,
  'Information about the pod itself, as files.',
);

export const FCVolumeSourceSchema = named(
  z.object({
    targetWWNs: atomicList(z.string(), 'Fibre Channel target world wide names.').optional(),
    lun: i32('Target LUN number.'),
    fsType: fsType(),
    readOnly: readOnly(),
    wwids: atomicList(z.string(), 'Volume world wide identifiers; set either these or targetWWNs with lun.').optional(),
  }),
  `${P}.FCVolumeSource`,
  'A Fibre Channel disk, attached to the node and mounted into the pod.',
);

const azureFileShape = {
  secretName: req(z.string(), 'Secret with the storage account name and key.'),
  shareName: req(z.string(), 'Name of the file share.'),
  readOnly: readOnly(),
};

export const AzureFileVolumeSourceSchema = named(
  z.object(azureFileShape),
  `${P}.AzureFileVolumeSource`,
  'An Azure File share (deprecated in-tree driver; use the CSI driver).',
);

export const ConfigMapVolumeSourceSchema = named(
  z.object({
    name: str('Name of the ConfigMap in the pod namespace.'),
    items: atomicList(KeyToPathSchema, 'Keys to project and where; without it every key becomes a file named after it.').optional(),
    defaultMode,
    optional: bool('When true, a missing ConfigMap or key is not an error.'),
  }),
  `${P}.ConfigMapVolumeSource`,
  'The keys of a ConfigMap as files.',
);

export const VsphereVirtualDiskVolumeSourceSchema = named(
  z.object({
    volumePath: req(z.string(), 'Path of the vSphere volume VMDK.'),
    fsType: fsType(),
    storagePolicyName: str('Storage policy based management (SPBM) profile name.'),
    storagePolicyID: str('Storage policy based management (SPBM) profile ID.'),
  }),
  `${P}.VsphereVirtualDiskVolumeSource`,
  'A vSphere virtual disk (deprecated in-tree driver; use the CSI driver).',
);

export const QuobyteVolumeSourceSchema = named(
  z.object({
    registry: req(z.string(), 'Quobyte registry host:port pairs, comma separated.'),
    volume: req(z.string(), 'Name of the Quobyte volume.'),
    readOnly: readOnly(),
    user: str('User the volume is accessed as. Default serviceaccount.'),
    group: str('Group the volume is accessed as. Default none.'),
    tenant: str('Tenant owning the volume, for dynamically provisioned volumes.'),
  }),
  `${P}.QuobyteVolumeSource`,
  'A Quobyte volume (the in-tree driver was removed).',
);

export const AzureDiskVolumeSourceSchema = named(
  z.object({
    diskName: req(z.string(), 'Name of the data disk in blob storage.'),
    diskURI: req(z.string(), 'URI of the data disk in blob storage.'),
    cachingMode: optEnum(['None', 'ReadOnly', 'ReadWrite'], 'Host caching mode: None, ReadOnly or ReadWrite.'),
    fsType: fsType(),
    readOnly: readOnly(),
    kind: optEnum(['Shared', 'Dedicated', 'Managed'], 'Shared (several disks per storage account), Dedicated (one per account) or Managed (an Azure managed disk). Default Shared.'),
  }),
  `${P}.AzureDiskVolumeSource`,
  'An Azure data disk (deprecated in-tree driver; use the CSI driver).',
);

export const PhotonPersistentDiskVolumeSourceSchema = named(
  z.object({
    pdID: req(z.string(), 'ID of the Photon Controller persistent disk.'),
    fsType: fsType(),
  }),
  `${P}.PhotonPersistentDiskVolumeSource`,
  'A Photon Controller persistent disk (the in-tree driver was removed).',
);

export const SecretProjectionSchema = named(
  z.object({
    name: str('Name of the Secret.'),
    items: atomicList(KeyToPathSchema, 'Keys to project and where; without it every key becomes a file named after it.').optional(),
    optional: bool('When true, a missing Secret or key is not an error.'),
  }),
  `${P}.SecretProjection`,
  'The keys of a Secret, as part of a projected volume.',
);

export const ConfigMapProjectionSchema = named(
  z.object({
    name: str('Name of the ConfigMap.'),
    items: atomicList(KeyToPathSchema, 'Keys to project and where; without it every key becomes a file named after it.').optional(),
    optional: bool('When true, a missing ConfigMap or key is not an error.'),
  }),
  `${P}.ConfigMapProjection`,
  'The keys of a ConfigMap, as part of a projected volume.',
);

export const DownwardAPIProjectionSchema = named(
  z.object({ items: atomicList(DownwardAPIVolumeFileSchema, 'The files to write.').optional() }),
  `${P}.DownwardAPIProjection`,
  'Pod information, as part of a projected volume.',
);

export const ServiceAccountTokenProjectionSchema = named(
  z.object({
    audience: str("Audience the token is for; the recipient must check it. Default the API server's audience."),
    expirationSeconds: i64('Requested lifetime of the token; the kubelet refreshes it before it expires. At least 600. Default 3600.'),
    path: req(z.string(), 'Path of the token file relative to the mount point.'),
  }),
  `${P}.ServiceAccountTokenProjection`,
  "A token for the pod's service account, written to a file and kept fresh by the kubelet.",
);

export const ClusterTrustBundleProjectionSchema = named(
  z.object({
    name: str('Select one ClusterTrustBundle by name; exclusive with signerName and labelSelector.'),
    signerName: str('Select the ClusterTrustBundles of this signer, narrowed by labelSelector.'),
    labelSelector: opt(LabelSelectorSchema, 'With signerName: the bundles to include; unset selects none, empty selects all.'),
    optional: bool('When true, a missing bundle writes an empty file instead of failing the pod start.'),
    path: req(z.string(), 'Path of the file relative to the volume root.'),
  }),
  `${P}.ClusterTrustBundleProjection`,
  'Certificates of ClusterTrustBundle objects, concatenated into one file.',
);

export const VolumeProjectionSchema = named(
  z.object({
    secret: opt(SecretProjectionSchema, 'Keys of a Secret.'),
    downwardAPI: opt(DownwardAPIProjectionSchema, 'Pod information.'),
    configMap: opt(ConfigMapProjectionSchema, 'Keys of a ConfigMap.'),
    serviceAccountToken: opt(ServiceAccountTokenProjectionSchema, 'A service account token.'),
    clusterTrustBundle: opt(ClusterTrustBundleProjectionSchema, 'Certificates from ClusterTrustBundles.'),
  }),
  `${P}.VolumeProjection`,
  'One source of a projected volume; exactly one field is set.',
);

export const ProjectedVolumeSourceSchema = named(
  z.object({
    sources: atomicList(VolumeProjectionSchema, 'The sources, projected into the same directory.').optional(),
    defaultMode,
  }),
  `${P}.ProjectedVolumeSource`,
  'Several sources (secrets, config maps, pod information, tokens) projected into one directory.',
);

export const PortworxVolumeSourceSchema = named(
  z.object({
    volumeID: req(z.string(), 'ID of the Portworx volume.'),
    fsType: fsType(),
    readOnly: readOnly(),
  }),
  `${P}.PortworxVolumeSource`,
  'A Portworx volume (deprecated in-tree driver; use the CSI driver).',
);

const scaleIOShape = {
  gateway: req(z.string(), 'Address of the ScaleIO API gateway.'),
  system: req(z.string(), 'Name of the storage system as configured in ScaleIO.'),
  sslEnabled: bool('Use SSL to talk to the gateway. Default false.'),
  protectionDomain: str('Name of the ScaleIO protection domain of the storage.'),
  storagePool: str('ScaleIO storage pool of the protection domain.'),
  storageMode: str('ThinProvisioned (default) or ThickProvisioned.'),
  volumeName: str('Name of a volume already created in ScaleIO.'),
  fsType: fsType('. Default xfs'),
  readOnly: readOnly(),
};

export const ScaleIOVolumeSourceSchema = named(
  z.object({ ...scaleIOShape, secretRef: req(LocalObjectReferenceSchema, 'Secret with the ScaleIO user credentials.') }),
  `${P}.ScaleIOVolumeSource`,
  'A ScaleIO volume (the in-tree driver was removed).',
);

const storageOSShape = {
  volumeName: str('Name of the StorageOS volume, unique within its namespace.'),
  volumeNamespace: str('StorageOS namespace of the volume; defaults to the pod namespace.'),
  fsType: fsType(),
  readOnly: readOnly(),
};

export const StorageOSVolumeSourceSchema = named(
  z.object({ ...storageOSShape, secretRef: opt(LocalObjectReferenceSchema, 'Secret with the StorageOS API credentials.') }),
  `${P}.StorageOSVolumeSource`,
  'A StorageOS volume (the in-tree driver was removed).',
);

export const CSIVolumeSourceSchema = named(
  z.object({
    driver: req(z.string(), 'Name of the CSI driver, as registered on the node.'),
    readOnly: bool('Mount the volume read-only. Default false.'),
    fsType: str('Filesystem type to mount, e.g. ext4; the driver picks one when empty.'),
    volumeAttributes: opt(StringMap, 'Driver-specific properties of the volume.'),
    nodePublishSecretRef: opt(LocalObjectReferenceSchema, 'Secret passed to the NodePublishVolume and NodeUnpublishVolume calls.'),
  }),
  `${P}.CSIVolumeSource`,
  'An inline (ephemeral) volume provided by a CSI driver.',
);

// ---- Claims ------------------------------------------------------------------------------
export const accessModes = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'] as const;

export const VolumeResourceRequirementsSchema = named(
  z.object({
    limits: opt(ResourceListSchema, 'The most storage the volume may grow to.'),
    requests: opt(ResourceListSchema, 'The least storage the volume must have, e.g. storage: 10Gi.'),
  }),
  `${P}.VolumeResourceRequirements`,
  'Storage requested for a volume.',
);

export const PersistentVolumeClaimSpecSchema = named(
  z.object({
    accessModes: atomicList(z.enum(accessModes), 'How the volume may be mounted: ReadWriteOnce, ReadOnlyMany, ReadWriteMany or ReadWriteOncePod.').optional(),
    selector: opt(LabelSelectorSchema, 'Only volumes with matching labels can be bound.'),
    resources: opt(VolumeResourceRequirementsSchema, 'Storage the claim needs; requests.storage is required.'),
    volumeName: str('Bind to this PersistentVolume only.'),
    storageClassName: str('StorageClass of the volume; empty means a volume without class, unset means the default class.'),
    volumeMode: optEnum(['Block', 'Filesystem'], 'Filesystem (default): mounted as a directory; Block: a raw block device.'),
    dataSource: opt(TypedLocalObjectReferenceSchema, 'Populate the new volume from this object: a VolumeSnapshot, another PersistentVolumeClaim, or a populator object.'),
    dataSourceRef: opt(TypedObjectReferenceSchema, 'Like dataSource, but any object kind and possibly another namespace; dataSource is kept in step with it.'),
    volumeAttributesClassName: str('VolumeAttributesClass for the volume (beta, off by default).'),
  }),
  `${P}.PersistentVolumeClaimSpec`,
  'The storage a claim asks for.',
);
export type PersistentVolumeClaimSpec = z.infer<typeof PersistentVolumeClaimSpecSchema>;

export const PersistentVolumeClaimTemplateSchema = named(
  z.object({
    metadata: opt(ObjectMetaSchema, 'Labels and annotations copied to the claim; name and namespace are not allowed.'),
    spec: req(PersistentVolumeClaimSpecSchema, 'Spec of the claim that is created.'),
  }),
  `${P}.PersistentVolumeClaimTemplate`,
  'A claim made for one pod, named <pod>-<volume>.',
);

export const EphemeralVolumeSourceSchema = named(
  z.object({
    volumeClaimTemplate: opt(PersistentVolumeClaimTemplateSchema, 'The claim created with the pod (owned by it, deleted with it).'),
  }),
  `${P}.EphemeralVolumeSource`,
  'A volume from a storage driver that lives as long as the pod, through a claim made for it.',
);

export const ImageVolumeSourceSchema = named(
  z.object({
    reference: str('Image or artifact reference to mount, as for a container image.'),
    pullPolicy: optEnum(['Always', 'Never', 'IfNotPresent'], 'Always, Never or IfNotPresent; defaults to Always for :latest, else IfNotPresent.'),
  }),
  `${P}.ImageVolumeSource`,
  'The contents of an OCI image or artifact, mounted read-only (alpha in 1.32).',
);

/** The sources a pod volume can have; exactly one is set. */
export const VolumeSourceShape = {
  hostPath: opt(HostPathVolumeSourceSchema, 'A file or directory of the host.'),
  emptyDir: opt(EmptyDirVolumeSourceSchema, 'A scratch directory that lives as long as the pod.'),
  gcePersistentDisk: opt(GCEPersistentDiskVolumeSourceSchema, 'A GCE persistent disk (deprecated).'),
  awsElasticBlockStore: opt(AWSElasticBlockStoreVolumeSourceSchema, 'An AWS EBS volume (deprecated).'),
  gitRepo: opt(GitRepoVolumeSourceSchema, 'A git clone (deprecated).'),
  secret: opt(SecretVolumeSourceSchema, 'The keys of a Secret.'),
  nfs: opt(NFSVolumeSourceSchema, 'An NFS export.'),
  iscsi: opt(ISCSIVolumeSourceSchema, 'An iSCSI disk.'),
  glusterfs: opt(GlusterfsVolumeSourceSchema, 'A Glusterfs volume (removed).'),
  persistentVolumeClaim: opt(PersistentVolumeClaimVolumeSourceSchema, 'The volume bound to a PersistentVolumeClaim.'),
  rbd: opt(RBDVolumeSourceSchema, 'A Ceph block device (deprecated).'),
  flexVolume: opt(FlexVolumeSourceSchema, 'A FlexVolume driver volume (deprecated).'),
  cinder: opt(CinderVolumeSourceSchema, 'An OpenStack Cinder volume (deprecated).'),
  cephfs: opt(CephFSVolumeSourceSchema, 'A CephFS filesystem (deprecated).'),
  flocker: opt(FlockerVolumeSourceSchema, 'A Flocker dataset (deprecated).'),
  downwardAPI: opt(DownwardAPIVolumeSourceSchema, 'Information about the pod, as files.'),
  fc: opt(FCVolumeSourceSchema, 'A Fibre Channel disk.'),
  azureFile: opt(AzureFileVolumeSourceSchema, 'An Azure File share (deprecated).'),
  configMap: opt(ConfigMapVolumeSourceSchema, 'The keys of a ConfigMap.'),
  vsphereVolume: opt(VsphereVirtualDiskVolumeSourceSchema, 'A vSphere disk (deprecated).'),
  quobyte: opt(QuobyteVolumeSourceSchema, 'A Quobyte volume (removed).'),
  azureDisk: opt(AzureDiskVolumeSourceSchema, 'An Azure data disk (deprecated).'),
  photonPersistentDisk: opt(PhotonPersistentDiskVolumeSourceSchema, 'A Photon Controller disk (removed).'),
  projected: opt(ProjectedVolumeSourceSchema, 'Several sources in one directory.'),
  portworxVolume: opt(PortworxVolumeSourceSchema, 'A Portworx volume (deprecated).'),
  scaleIO: opt(ScaleIOVolumeSourceSchema, 'A ScaleIO volume (removed).'),
  storageos: opt(StorageOSVolumeSourceSchema, 'A StorageOS volume (removed).'),
  csi: opt(CSIVolumeSourceSchema, 'An inline volume from a CSI driver.'),
  ephemeral: opt(EphemeralVolumeSourceSchema, 'A volume from a storage driver through a claim made for the pod.'),
  image: opt(ImageVolumeSourceSchema, 'The contents of an OCI image, read-only.'),
};

/** The names of the pod volume sources. */
export const volumeSourceNames = Object.keys(VolumeSourceShape) as (keyof typeof VolumeSourceShape)[];

// ---- PersistentVolume sources -------------------------------------------------------------
export const GlusterfsPersistentVolumeSourceSchema = named(
  z.object({
    endpoints: req(z.string(), 'Name of the Endpoints object listing the Glusterfs servers.'),
    path: req(z.string(), 'Name of the Glusterfs volume.'),
    readOnly: readOnly(),
    endpointsNamespace: str('Namespace of the Endpoints object; defaults to the namespace of the claim.'),
  }),
  `${P}.GlusterfsPersistentVolumeSource`,
  'A Glusterfs volume backing a PersistentVolume (removed driver).',
);

export const RBDPersistentVolumeSourceSchema = named(
  z.object({ ...rbdShape, secretRef: opt(SecretReferenceSchema, 'Secret with the user key; overrides keyring.') }),
  `${P}.RBDPersistentVolumeSource`,
  'A Ceph RADOS block device backing a PersistentVolume (deprecated driver).',
);

export const ISCSIPersistentVolumeSourceSchema = named(
  z.object({ ...iscsiShape, secretRef: opt(SecretReferenceSchema, 'Secret with the CHAP credentials.') }),
  `${P}.ISCSIPersistentVolumeSource`,
  'An iSCSI disk backing a PersistentVolume.',
);

export const CinderPersistentVolumeSourceSchema = named(
  z.object({ ...cinderShape, secretRef: opt(SecretReferenceSchema, 'Secret with the parameters for connecting to OpenStack.') }),
  `${P}.CinderPersistentVolumeSource`,
  'An OpenStack Cinder volume backing a PersistentVolume (deprecated driver).',
);

export const CephFSPersistentVolumeSourceSchema = named(
  z.object({ ...cephfsShape, secretRef: opt(SecretReferenceSchema, 'Secret with the user key; overrides secretFile.') }),
  `${P}.CephFSPersistentVolumeSource`,
  'A CephFS filesystem backing a PersistentVolume (deprecated driver).',
);

export const FlexPersistentVolumeSourceSchema = named(
  z.object({ ...flexShape, secretRef: opt(SecretReferenceSchema, 'Secret passed to the driver scripts.') }),
  `${P}.FlexPersistentVolumeSource`,
  'A FlexVolume driver volume backing a PersistentVolume (deprecated).',
);

export const AzureFilePersistentVolumeSourceSchema = named(
  z.object({ ...azureFileShape, secretNamespace: str('Namespace of the Secret; defaults to the namespace of the pod.') }),
  `${P}.AzureFilePersistentVolumeSource`,
  'An Azure File share backing a PersistentVolume (deprecated driver).',
);

export const ScaleIOPersistentVolumeSourceSchema = named(
  z.object({ ...scaleIOShape, secretRef: req(SecretReferenceSchema, 'Secret with the ScaleIO user credentials.') }),
  `${P}.ScaleIOPersistentVolumeSource`,
  'A ScaleIO volume backing a PersistentVolume (removed driver).',
);

export const LocalVolumeSourceSchema = named(
  z.object({
    path: req(z.string(), 'Full path of the directory, partition or disk on the node.'),
    fsType: str('Filesystem type, only when path is a block device; picked automatically when unset.'),
  }),
  `${P}.LocalVolumeSource`,
  'Storage attached to one node; the volume needs nodeAffinity naming that node.',
);

export const StorageOSPersistentVolumeSourceSchema = named(
  z.object({ ...storageOSShape, secretRef: opt(ObjectReferenceSchema, 'Secret with the StorageOS API credentials.') }),
  `${P}.StorageOSPersistentVolumeSource`,
  'A StorageOS volume backing a PersistentVolume (removed driver).',
);

export const CSIPersistentVolumeSourceSchema = named(
  z.object({
    driver: req(z.string(), 'Name of the CSI driver.'),
    volumeHandle: req(z.string(), 'ID the driver gave the volume; used in every call about it.'),
    readOnly: bool('Publish the volume read-only. Default false.'),
    fsType: str('Filesystem type to mount, e.g. ext4.'),
    volumeAttributes: opt(StringMap, 'Driver-specific properties of the volume.'),
    controllerPublishSecretRef: opt(SecretReferenceSchema, 'Secret passed to ControllerPublishVolume and ControllerUnpublishVolume.'),
    nodeStageSecretRef: opt(SecretReferenceSchema, 'Secret passed to NodeStageVolume and NodeUnstageVolume.'),
    nodePublishSecretRef: opt(SecretReferenceSchema, 'Secret passed to NodePublishVolume and NodeUnpublishVolume.'),
    controllerExpandSecretRef: opt(SecretReferenceSchema, 'Secret passed to ControllerExpandVolume.'),
    nodeExpandSecretRef: opt(SecretReferenceSchema, 'Secret passed to NodeExpandVolume.'),
  }),
  `${P}.CSIPersistentVolumeSource`,
  'A volume managed by a CSI driver, backing a PersistentVolume.',
);

/** The sources a PersistentVolume can have; exactly one is set. */
export const PersistentVolumeSourceShape = {
  gcePersistentDisk: opt(GCEPersistentDiskVolumeSourceSchema, 'A GCE persistent disk (deprecated).'),
  awsElasticBlockStore: opt(AWSElasticBlockStoreVolumeSourceSchema, 'An AWS EBS volume (deprecated).'),
  hostPath: opt(HostPathVolumeSourceSchema, 'A directory on the host; for single-node development and testing only.'),
  glusterfs: opt(GlusterfsPersistentVolumeSourceSchema, 'A Glusterfs volume (removed).'),
  nfs: opt(NFSVolumeSourceSchema, 'An NFS export.'),
  rbd: opt(RBDPersistentVolumeSourceSchema, 'A Ceph block device (deprecated).'),
  iscsi: opt(ISCSIPersistentVolumeSourceSchema, 'An iSCSI disk.'),
  cinder: opt(CinderPersistentVolumeSourceSchema, 'An OpenStack Cinder volume (deprecated).'),
  cephfs: opt(CephFSPersistentVolumeSourceSchema, 'A CephFS filesystem (deprecated).'),
  fc: opt(FCVolumeSourceSchema, 'A Fibre Channel disk.'),
  flocker: opt(FlockerVolumeSourceSchema, 'A Flocker dataset (deprecated).'),
  flexVolume: opt(FlexPersistentVolumeSourceSchema, 'A FlexVolume driver volume (deprecated).'),
  azureFile: opt(AzureFilePersistentVolumeSourceSchema, 'An Azure File share (deprecated).'),
  vsphereVolume: opt(VsphereVirtualDiskVolumeSourceSchema, 'A vSphere disk (deprecated).'),
  quobyte: opt(QuobyteVolumeSourceSchema, 'A Quobyte volume (removed).'),
  azureDisk: opt(AzureDiskVolumeSourceSchema, 'An Azure data disk (deprecated).'),
  photonPersistentDisk: opt(PhotonPersistentDiskVolumeSourceSchema, 'A Photon Controller disk (removed).'),
  portworxVolume: opt(PortworxVolumeSourceSchema, 'A Portworx volume (deprecated).'),
  scaleIO: opt(ScaleIOPersistentVolumeSourceSchema, 'A ScaleIO volume (removed).'),
  local: opt(LocalVolumeSourceSchema, 'Storage attached to one node.'),
  storageos: opt(StorageOSPersistentVolumeSourceSchema, 'A StorageOS volume (removed).'),
  csi: opt(CSIPersistentVolumeSourceSchema, 'A volume managed by a CSI driver.'),
};

export const persistentVolumeSourceNames = Object.keys(PersistentVolumeSourceShape) as (keyof typeof PersistentVolumeSourceShape)[];
