/** meta/v1: the metadata every object carries, lists, selectors, conditions, Status, Table. */
import { z, doc, named, atomicStruct, mergeList, setList, atomicList, StringMap, Time, AnyJSON, int64, int32, str, opt, req } from '../schema.js';

const P = 'io.k8s.apimachinery.pkg.apis.meta.v1';

export const OwnerReferenceSchema = named(
  z.object({
    apiVersion: doc(z.string(), 'API version of the referent.'),
    kind: doc(z.string(), 'Kind of the referent.'),
    name: doc(z.string(), 'Name of the referent.'),
    uid: doc(z.string(), 'UID of the referent.'),
    controller: doc(z.boolean().optional(), 'If true, this reference points to the managing controller.'),
    blockOwnerDeletion: doc(
      z.boolean().optional(),
      'If true, and the owner has the foregroundDeletion finalizer, the owner cannot be removed from storage until this object is removed.',
    ),
  }),
  `${P}.OwnerReference`,
  'Identifies an owning object. The garbage collector deletes an object once all its owners are gone.',
);

export const ManagedFieldsEntrySchema = named(
  z.object({
    manager: str('Name of the field manager (the client or controller).'),
    operation: z.enum(['Apply', 'Update']).optional().meta({ description: 'Apply (server-side apply) or Update (any other write).' }),
    apiVersion: str('API version the fields are written against.'),
    time: opt(Time, 'When the manager last changed one of its fields.'),
    fieldsType: str('Format of fieldsV1; always FieldsV1.'),
    fieldsV1: opt(z.record(z.string(), AnyJSON), 'The set of fields the manager owns, as a trie of field names.'),
    subresource: str('Subresource the fields were written through, e.g. status; empty for the main resource.'),
  }),
  `${P}.ManagedFieldsEntry`,
  'Records which manager owns which fields of the object (server-side apply).',
);

export const ObjectMetaSchema = named(
  z.object({
    name: doc(z.string().optional(), 'Unique name of the object within its namespace (or the cluster, for cluster-scoped kinds).'),
    generateName: doc(z.string().optional(), 'A prefix from which the server generates a unique name when name is not given.'),
    namespace: doc(z.string().optional(), 'The namespace the object lives in. Empty for cluster-scoped objects.'),
    selfLink: str('Deprecated and never set.'),
    uid: doc(z.string().optional(), 'Unique identifier set by the server on creation, never reused.'),
    resourceVersion: doc(
      z.string().optional(),
      'Opaque version of the object (the etcd revision of its last write). Sent back on update for optimistic concurrency.',
    ),
    generation: doc(int64().optional(), 'Sequence number of the desired state; incremented by the server when the spec changes.'),
    creationTimestamp: doc(Time.optional().nullable(), 'When the server created the object.'),
    deletionTimestamp: doc(Time.optional(), 'When the object will be (or was asked to be) deleted; set by the server on a graceful delete.'),
    deletionGracePeriodSeconds: doc(int64().optional(), 'Seconds allowed for a graceful termination before the object is removed.'),
    labels: doc(StringMap.optional(), 'Key/value pairs used to organise and select objects.'),
    annotations: doc(StringMap.optional(), 'Arbitrary non-identifying key/value metadata.'),
    ownerReferences: mergeList(OwnerReferenceSchema, 'uid', 'Objects this object depends on; used by the garbage collector.').optional(),
    finalizers: setList(z.string(), 'Names of pending tasks that must finish before the object is removed from storage.').optional(),
    managedFields: atomicList(ManagedFieldsEntrySchema, 'Which field manager owns which fields (server-side apply).').optional(),
  }),
  `${P}.ObjectMeta`,
  'Metadata that every persisted object has: name, namespace, labels, annotations, version and ownership.',
);
export type ObjectMeta = z.infer<typeof ObjectMetaSchema>;
export type OwnerReference = z.infer<typeof OwnerReferenceSchema>;

export const ListMetaSchema = named(
  z.object({
    selfLink: str('Deprecated and never set.'),
    resourceVersion: str('The version of the storage the list was read at; watch from it to see later changes.'),
    continue: str('Token to get the next page of a paged list; empty on the last page.'),
    remainingItemCount: opt(int64(), 'Items not yet returned, when the server can tell (estimates with label or field selectors are not given).'),
  }),
  `${P}.ListMeta`,
  'Metadata of a list: the resourceVersion it was read at and the token for the next page.',
);
export type ListMeta = z.infer<typeof ListMetaSchema>;

export const LabelSelectorRequirementSchema = named(
  z.object({
    key: req(z.string(), 'Label key the requirement applies to.'),
    operator: req(z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']), 'In, NotIn, Exists or DoesNotExist.'),
    values: atomicList(z.string(), 'Values for In and NotIn (not empty); empty for Exists and DoesNotExist.').optional(),
  }),
  `${P}.LabelSelectorRequirement`,
  'A key, an operator and values.',
);

export const LabelSelectorSchema = named(
  z.object({
    matchLabels: doc(StringMap.optional(), 'Labels that must all be present with these values.'),
    matchExpressions: atomicList(LabelSelectorRequirementSchema, 'Requirements that must all hold.').optional(),
  }),
  `${P}.LabelSelector`,
  'Selects objects by their labels; all requirements are ANDed. An empty selector matches everything.',
  atomicStruct,
);
export type LabelSelector = z.infer<typeof LabelSelectorSchema>;

export const ConditionSchema = named(
  z.object({
    type: req(z.string(), 'Type of the condition, in CamelCase or as a domain-prefixed name.'),
    status: req(z.enum(['True', 'False', 'Unknown']), 'True, False or Unknown.'),
    observedGeneration: opt(int64(), 'Generation of the object the condition was set for.'),
    lastTransitionTime: req(Time, 'When the status last changed.'),
    reason: req(z.string(), 'Machine-readable reason of the last transition, in CamelCase.'),
    message: req(z.string(), 'Human-readable details of the last transition; may be empty.'),
  }),
  `${P}.Condition`,
  'One aspect of the current state of an object.',
);
export type Condition = z.infer<typeof ConditionSchema>;

export const StatusCauseSchema = z.object({ reason: z.string().optional(), message: z.string().optional(), field: z.string().optional() });
export const StatusSchema = named(
  z.object({
    kind: z.literal('Status').optional(),
    apiVersion: z.string().optional(),
    metadata: ListMetaSchema.optional(),
    status: z.string().optional(),
    message: z.string().optional(),
    reason: z.string().optional(),
    details: z
      .object({
        name: z.string().optional(),
        group: z.string().optional(),
        kind: z.string().optional(),
        uid: z.string().optional(),
        causes: z.array(StatusCauseSchema).optional(),
        retryAfterSeconds: int32().optional(),
      })
      .optional(),
    code: int32().optional(),
  }),
  `${P}.Status`,
  'The result of an operation that did not return an object.',
);

export const PreconditionsSchema = z.object({ uid: z.string().optional(), resourceVersion: z.string().optional() });

export const DeleteOptionsSchema = named(
  z.object({
    kind: z.string().optional(),
    apiVersion: z.string().optional(),
    gracePeriodSeconds: doc(int64().optional(), 'Seconds to wait before deleting; 0 deletes at once.'),
    preconditions: PreconditionsSchema.optional(),
    orphanDependents: z.boolean().optional(),
    propagationPolicy: doc(z.enum(['Orphan', 'Background', 'Foreground']).optional(), 'How dependents are handled by the garbage collector.'),
    dryRun: z.array(z.string()).optional(),
  }),
  `${P}.DeleteOptions`,
  'Options of a delete request.',
);
export type DeleteOptions = z.infer<typeof DeleteOptionsSchema>;

/** What every object has: the part of a kind the generic machinery relies on. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface KubeList<T = KubeObject> {
  apiVersion: string;
  kind: string;
  metadata: ListMeta;
  items: T[];
}

export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface TableRow {
  cells: unknown[];
  object?: unknown;
  conditions?: unknown[];
}

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: ListMeta;
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

export interface WatchEvent<T = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** Any object embedded whole (the object of a watch event); its kind says what it is. */
export const RawExtensionSchema = AnyJSON.meta({
  id: 'io.k8s.apimachinery.pkg.runtime.RawExtension',
  'x-kubernetes-preserve-unknown-fields': true,
  description: 'An embedded object of any kind; its apiVersion and kind fields say what it is.',
});

/** One line of a watch stream, as a schema (the WatchEvent interface above is its type). */
export const WatchEventSchema = named(
  z.object({
    type: doc(z.enum(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']), 'What happened: ADDED, MODIFIED, DELETED, BOOKMARK (a progress mark) or ERROR (the object is a Status).'),
    object: doc(RawExtensionSchema, 'The object after the change; for DELETED its last state; for ERROR a Status.'),
  }),
  `${P}.WatchEvent`,
  'One change in a watch stream, sent as one JSON object per line.',
);

/** The body of a PATCH request; its form is set by the Content-Type header. */
export const PatchSchema = z.object({}).loose().meta({
  id: `${P}.Patch`,
  description:
    'A patch document: a JSON patch (application/json-patch+json), a JSON merge patch (application/merge-patch+json), a strategic merge patch (application/strategic-merge-patch+json) or a server-side apply configuration (application/apply-patch+yaml).',
});
