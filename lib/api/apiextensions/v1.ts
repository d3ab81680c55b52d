/** apiextensions.k8s.io/v1: CustomResourceDefinitions, which make the API server serve new kinds. */
import { z, doc, named, int32, int64, Time, AnyJSON } from '../schema.js';
import { ObjectMetaSchema } from '../meta/v1.js';

const P = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1';

/** JSONSchemaProps: the structural OpenAPI v3 schema of a custom resource version (recursive). */
export interface JSONSchemaProps {
  id?: string;
  $schema?: string;
  $ref?: string;
  description?: string;
  type?: string;
  format?: string;
  title?: string;
  default?: unknown;
  maximum?: number;
  exclusiveMaximum?: boolean;
  minimum?: number;
  exclusiveMinimum?: boolean;
  maxLength?: number;
  minLength?: number;
  pattern?: string;
  maxItems?: number;
  minItems?: number;
  uniqueItems?: boolean;
  multipleOf?: number;
  enum?: unknown[];
  maxProperties?: number;
  minProperties?: number;
  required?: string[];
  items?: JSONSchemaProps | JSONSchemaProps[];
  allOf?: JSONSchemaProps[];
  oneOf?: JSONSchemaProps[];
  anyOf?: JSONSchemaProps[];
  not?: JSONSchemaProps;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps | boolean;
  patternProperties?: Record<string, JSONSchemaProps>;
  dependencies?: Record<string, unknown>;
  additionalItems?: JSONSchemaProps | boolean;
  definitions?: Record<string, JSONSchemaProps>;
  externalDocs?: { description?: string; url?: string };
  example?: unknown;
  nullable?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-map-type'?: string;
  'x-kubernetes-validations'?: { rule: string; message?: string; messageExpression?: string; reason?: string; fieldPath?: string; optionalOldSelf?: boolean }[];
}

export const JSONSchemaPropsSchema: z.ZodType<JSONSchemaProps> = z.lazy(() =>
  z
    .object({
      id: z.string().optional(),
      $schema: z.string().optional(),
      $ref: z.string().optional(),
      description: z.string().optional(),
      type: z.string().optional(),
      format: z.string().optional(),
      title: z.string().optional(),
      default: AnyJSON.optional(),
      maximum: z.number().optional(),
      exclusiveMaximum: z.boolean().optional(),
      minimum: z.number().optional(),
      exclusiveMinimum: z.boolean().optional(),
      maxLength: int64().optional(),
      minLength: int64().optional(),
      pattern: z.string().optional(),
      maxItems: int64().optional(),
      minItems: int64().optional(),
      uniqueItems: z.boolean().optional(),
      multipleOf: z.number().optional(),
      enum: z.array(AnyJSON).optional(),
      maxProperties: int64().optional(),
      minProperties: int64().optional(),
      required: z.array(z.string()).optional(),
      items: z.union([JSONSchemaPropsSchema, z.array(JSONSchemaPropsSchema)]).optional(),
      allOf: z.array(JSONSchemaPropsSchema).optional(),
      oneOf: z.array(JSONSchemaPropsSchema).optional(),
      anyOf: z.array(JSONSchemaPropsSchema).optional(),
      not: JSONSchemaPropsSchema.optional(),
      properties: z.record(z.string(), JSONSchemaPropsSchema).optional(),
      additionalProperties: z.union([JSONSchemaPropsSchema, z.boolean()]).optional(),
      patternProperties: z.record(z.string(), JSONSchemaPropsSchema).optional(),
      dependencies: z.record(z.string(), AnyJSON).optional(),
      additionalItems: z.union([JSONSchemaPropsSchema, z.boolean()]).optional(),
      definitions: z.record(z.string(), JSONSchemaPropsSchema).optional(),
      externalDocs: z.object({ description: z.string().optional(), url: z.string().optional() }).optional(),
      example: AnyJSON.optional(),
      nullable: z.boolean().optional(),
      'x-kubernetes-preserve-unknown-fields': z.boolean().optional(),
      'x-kubernetes-embedded-resource': z.boolean().optional(),
      'x-kubernetes-int-or-string': z.boolean().optional(),
      'x-kubernetes-list-map-keys': z.array(z.string()).optional(),
      'x-kubernetes-list-type': z.string().optional(),
      'x-kubernetes-map-type': z.string().optional(),
      'x-kubernetes-validations': z
        .array(z.object({ rule: z.string(), message: z.string().optional(), messageExpression: z.string().optional(), reason: z.string().optional(), fieldPath: z.string().optional(), optionalOldSelf: z.boolean().optional() }))
        .optional(),
    })
    .meta({ id: `${P}.JSONSchemaProps`, description: 'A JSON-Schema following the OpenAPI v3 spec, restricted to structural schemas.' }),
);

export const CustomResourceColumnDefinitionSchema = named(
  z.object({
    name: doc(z.string(), 'Column header.'),
    type: doc(z.string(), 'OpenAPI type of the cells: integer, number, string, boolean or date.'),
    format: z.string().optional(),
    description: z.string().optional(),
    priority: doc(int32().optional(), '0 shows the column by default; higher numbers only with -o wide.'),
    jsonPath: doc(z.string(), 'Simple JSONPath evaluated against each object to fill the column, e.g. .spec.replicas.'),
  }),
  `${P}.CustomResourceColumnDefinition`,
  'A column `kubectl get` prints for the custom resource.',
);

export const CustomResourceDefinitionVersionSchema = named(
  z.object({
    name: doc(z.string(), 'Version name, e.g. v1 or v1beta1, served at /apis/<group>/<version>.'),
    served: doc(z.boolean(), 'Whether this version is served by REST APIs.'),
    storage: doc(z.boolean(), 'Whether objects are persisted in this version. Exactly one version is the storage version.'),
    deprecated: z.boolean().optional(),
    deprecationWarning: z.string().optional(),
    schema: z.object({ openAPIV3Schema: JSONSchemaPropsSchema.optional() }).optional(),
    subresources: z
      .object({
        status: doc(z.object({}).optional(), 'Enables /status; the main resource then ignores status changes.'),
        scale: doc(
          z.object({ specReplicasPath: z.string(), statusReplicasPath: z.string(), labelSelectorPath: z.string().optional() }).optional(),
          'Enables /scale with replicas read from and written to these JSON paths.',
        ),
      })
      .optional(),
    additionalPrinterColumns: z.array(CustomResourceColumnDefinitionSchema).optional(),
    selectableFields: z.array(z.object({ jsonPath: z.string() })).optional(),
  }),
  `${P}.CustomResourceDefinitionVersion`,
  'One version of a custom resource.',
);

export const CustomResourceDefinitionNamesSchema = named(
  z.object({
    plural: doc(z.string(), 'Plural lowercase name used in URLs, e.g. crontabs.'),
    singular: z.string().optional(),
    shortNames: z.array(z.string()).optional(),
    kind: doc(z.string(), 'The kind of the objects, e.g. CronTab.'),
    listKind: z.string().optional(),
    categories: z.array(z.string()).optional(),
  }),
  `${P}.CustomResourceDefinitionNames`,
  'The names a custom resource is served under.',
);

export const CustomResourceDefinitionSchema = named(
  z.object({
    apiVersion: z.string().optional(),
    kind: z.string().optional(),
    metadata: ObjectMetaSchema,
    spec: z
      .object({
        group: doc(z.string(), 'API group of the custom resource, e.g. stable.example.com.'),
        names: CustomResourceDefinitionNamesSchema,
        scope: doc(z.enum(['Namespaced', 'Cluster']), 'Namespaced or Cluster.'),
        versions: z.array(CustomResourceDefinitionVersionSchema),
        conversion: z.object({ strategy: z.enum(['None', 'Webhook']).optional(), webhook: z.object({}).loose().optional() }).optional(),
        preserveUnknownFields: z.boolean().optional(),
      })
      .meta({ id: `${P}.CustomResourceDefinitionSpec`, description: 'The group, names, scope and versions of the custom resource.' }),
    status: z
      .object({
        conditions: z
          .array(z.object({ type: z.string(), status: z.enum(['True', 'False', 'Unknown']), lastTransitionTime: Time.optional(), reason: z.string().optional(), message: z.string().optional() }))
          .optional(),
        acceptedNames: CustomResourceDefinitionNamesSchema.partial().optional(),
        storedVersions: z.array(z.string()).optional(),
      })
      .optional(),
  }),
  `${P}.CustomResourceDefinition`,
  'Makes the API server serve a new kind: /apis/<group>/<version>/[namespaces/<ns>/]<plural>.',
);
export type CustomResourceDefinition = z.infer<typeof CustomResourceDefinitionSchema>;
export type CustomResourceDefinitionVersion = z.infer<typeof CustomResourceDefinitionVersionSchema>;
