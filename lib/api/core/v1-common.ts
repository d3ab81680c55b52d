/**
 * core/v1 building blocks shared by pods, volumes, nodes and the storage kinds: object
 * references, key and field selectors, resource lists, node selectors and tolerations.
 */
import { z, named, atomicStruct, atomicList, Quantity, str, bool, i32, i64, opt, req, optEnum } from '../schema.js';

const P = 'io.k8s.api.core.v1';

/** Amounts of named resources: `{cpu: "500m", memory: "256Mi"}`. */
export const ResourceListSchema = z.record(z.string(), Quantity).meta({
  description: 'Amounts of named resources, e.g. cpu: 500m, memory: 256Mi, pods: 10.',
});
export type ResourceList = z.infer<typeof ResourceListSchema>;

export const ObjectReferenceSchema = named(
  z.object({
    kind: str('Kind of the referent, e.g. Pod.'),
    namespace: str('Namespace of the referent.'),
    name: str('Name of the referent.'),
    uid: str('UID of the referent.'),
    apiVersion: str('API version of the referent.'),
    resourceVersion: str('Version of the referent this reference was made from.'),
    fieldPath: str('A part of the referent rather than the whole, e.g. spec.containers{web} for one container of a pod.'),
  }),
  `${P}.ObjectReference`,
  'A reference to an object, with enough to find it.',
);
export type ObjectReference = z.infer<typeof ObjectReferenceSchema>;

export const LocalObjectReferenceSchema = named(
  z.object({ name: str('Name of the referent, in the same namespace.') }),
  `${P}.LocalObjectReference`,
  'A reference by name to an object in the same namespace.',
  atomicStruct,
);
export type LocalObjectReference = z.infer<typeof LocalObjectReferenceSchema>;

export const SecretReferenceSchema = named(
  z.object({
    name: str('Name of the Secret.'),
    namespace: str('Namespace of the Secret.'),
  }),
  `${P}.SecretReference`,
  'A reference to a Secret in any namespace.',
);

export const TypedLocalObjectReferenceSchema = named(
  z.object({
    apiGroup: str('API group of the referent; empty for the core group.'),
    kind: req(z.string(), 'Kind of the referent.'),
    name: req(z.string(), 'Name of the referent.'),
  }),
  `${P}.TypedLocalObjectReference`,
  'A reference to an object of a given kind in the same namespace.',
);

export const TypedObjectReferenceSchema = named(
  z.object({
    apiGroup: str('API group of the referent; empty for the core group.'),
    kind: req(z.string(), 'Kind of the referent.'),
    name: req(z.string(), 'Name of the referent.'),
    namespace: str('Namespace of the referent, when it differs from the referring object (needs the CrossNamespaceVolumeDataSource feature).'),
  }),
  `${P}.TypedObjectReference`,
  'A reference to an object of a given kind, possibly in another namespace.',
);

export const ObjectFieldSelectorSchema = named(
  z.object({
    apiVersion: str('API version the field path is written against. Default v1.'),
    fieldPath: req(z.string(), 'Path of the field to select, e.g. metadata.name, metadata.labels[\'app\'] or status.podIP.'),
  }),
  `${P}.ObjectFieldSelector`,
  'Selects a field of the pod.',
);

export const ResourceFieldSelectorSchema = named(
  z.object({
    containerName: str('Container whose resources are read; required for volumes, optional for env vars.'),
    resource: req(z.string(), 'Resource to select: limits.cpu, limits.memory, limits.ephemeral-storage, requests.cpu, requests.memory or requests.ephemeral-storage.'),
    divisor: opt(Quantity, 'Unit the value is divided by, e.g. 1m for millicores or 1Mi for mebibytes. Default 1.'),
  }),
  `${P}.ResourceFieldSelector`,
  'Selects a resource request or limit of a container.',
);

export const ConfigMapKeySelectorSchema = named(
  z.object({
    name: str('Name of the ConfigMap.'),
    key: req(z.string(), 'Key to read.'),
    optional: bool('When true, a missing ConfigMap or key is not an error.'),
  }),
  `${P}.ConfigMapKeySelector`,
  'Selects a key of a ConfigMap.',
);

export const SecretKeySelectorSchema = named(
  z.object({
    name: str('Name of the Secret.'),
    key: req(z.string(), 'Key to read.'),
    optional: bool('When true, a missing Secret or key is not an error.'),
  }),
  `${P}.SecretKeySelector`,
  'Selects a key of a Secret.',
);

export const KeyToPathSchema = named(
  z.object({
    key: req(z.string(), 'Key to project.'),
    path: req(z.string(), "Relative path of the file the key is written to; may not contain '..' or start with '/'."),
    mode: i32('Permission bits of this file (0 to 0777); defaults to the volume defaultMode.'),
  }),
  `${P}.KeyToPath`,
  'Writes one key of a ConfigMap or Secret to a file path in a volume.',
);

// ---- Node selectors -----------------------------------------------------------------
export const NodeSelectorRequirementSchema = named(
  z.object({
    key: req(z.string(), 'Label key (or field name, for matchFields) the requirement applies to.'),
    operator: req(z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']), 'How the key relates to the values: In, NotIn, Exists, DoesNotExist, Gt or Lt.'),
    values: atomicList(z.string(), 'Values for In and NotIn; empty for Exists and DoesNotExist; one integer for Gt and Lt.').optional(),
  }),
  `${P}.NodeSelectorRequirement`,
  'A key, an operator and values, matched against node labels or fields.',
);

export const NodeSelectorTermSchema = named(
  z.object({
    matchExpressions: atomicList(NodeSelectorRequirementSchema, 'Requirements on node labels.').optional(),
    matchFields: atomicList(NodeSelectorRequirementSchema, 'Requirements on node fields (only metadata.name is supported).').optional(),
  }),
  `${P}.NodeSelectorTerm`,
  'Requirements that must all hold. An empty term matches no node.',
);

export const NodeSelectorSchema = named(
  z.object({ nodeSelectorTerms: atomicList(NodeSelectorTermSchema, 'Terms ORed together: a node matches if it matches any term.') }),
  `${P}.NodeSelector`,
  'Selects nodes: a node matches if any of the terms matches it.',
);

export const TopologySelectorLabelRequirementSchema = named(
  z.object({
    key: req(z.string(), 'Label key.'),
    values: atomicList(z.string(), 'Values the label may have; the requirement holds if the label has one of them.'),
  }),
  `${P}.TopologySelectorLabelRequirement`,
  'A topology label and the values it may have.',
);

export const TopologySelectorTermSchema = named(
  z.object({
    matchLabelExpressions: atomicList(TopologySelectorLabelRequirementSchema, 'Label requirements that must all hold.').optional(),
  }),
  `${P}.TopologySelectorTerm`,
  'A topology domain given by label requirements (a subset of a node selector term).',
);

// ---- Taints and tolerations -------------------------------------------------------------
export const TolerationSchema = named(
  z.object({
    key: str('Taint key the toleration matches; empty with operator Exists matches every taint.'),
    operator: optEnum(['Exists', 'Equal'], 'Exists (any value) or Equal (the value must match). Default Equal.'),
    value: str('Taint value to match; empty when the operator is Exists.'),
    effect: optEnum(['', 'NoSchedule', 'PreferNoSchedule', 'NoExecute'], 'Taint effect to match: NoSchedule, PreferNoSchedule or NoExecute; empty matches all effects.'),
    tolerationSeconds: i64('For NoExecute: how long the pod stays bound after the taint appears. Unset means forever; zero or less means evict at once.'),
  }),
  `${P}.Toleration`,
  'Lets a pod be scheduled (or stay) on nodes with a matching taint.',
);
export type Toleration = z.infer<typeof TolerationSchema>;
