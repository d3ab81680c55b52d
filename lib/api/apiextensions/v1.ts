/** apiextensions.k8s.io/v1: CustomResourceDefinitions, which make the API server serve new kinds. */
import { z, doc, named, Time, AnyJSON, str, bool, i32, i64, opt, req, optEnum, typeMeta } from '../schema.js';
import { ObjectMetaSchema } from '../meta/v1.js';
import { keepsEmpty } from '../schema-walk.js';

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

const lazyProps = (): z.ZodType<JSONSchemaProps> => z.lazy(() => JSONSchemaPropsSchema);

const ValidationRuleSchema = named(
  z.object({
    rule: req(z.string(), 'A CEL expression that must evaluate to true, e.g. self.minReplicas <= self.maxReplicas.'),
    message: str('Message shown when the rule fails.'),
    messageExpression: str('CEL expression producing the failure message.'),
    reason: str('Machine-readable reason returned with a failure (FieldValueInvalid by default).'),
    fieldPath: str('Path of the field the failure is reported on, relative to this schema.'),
    optionalOldSelf: bool('Evaluate the rule on create too, with oldSelf unset.'),
  }),
  `${P}.ValidationRule`,
  'A CEL validation rule (x-kubernetes-validations).',
);

/** Recursive: nested properties refer back to this one schema lazily, so walking it terminates. */
export const JSONSchemaPropsSchema: z.ZodType<JSONSchemaProps> = named(
  z.object({
    id: str('Identifier of the schema.'),
    $schema: str('JSON Schema dialect URI.'),
    $ref: str('Reference to another schema; not allowed in structural schemas.'),
    description: str('What the field is for; shown by kubectl explain.'),
    type: str('object, array, string, integer, number or boolean.'),
    format: str('Format of the value, e.g. int32, date-time, byte.'),
    title: str('Short title of the schema.'),
    default: opt(AnyJSON, 'Value filled in when the field is missing.'),
    maximum: doc(z.number().optional(), 'Largest allowed number.'),
    exclusiveMaximum: bool('The maximum itself is not allowed.'),
    minimum: doc(z.number().optional(), 'Smallest allowed number.'),
    exclusiveMinimum: bool('The minimum itself is not allowed.'),
    maxLength: i64('Longest allowed string, in characters.'),
    minLength: i64('Shortest allowed string, in characters.'),
    pattern: str('Regular expression strings must match.'),
    maxItems: i64('Most items a list may have.'),
    minItems: i64('Fewest items a list may have.'),
    uniqueItems: bool('Items of the list must differ from each other.'),
    multipleOf: doc(z.number().optional(), 'Numbers must be a multiple of this.'),
    enum: opt(z.array(AnyJSON), 'The allowed values.'),
    maxProperties: i64('Most keys an object may have.'),
    minProperties: i64('Fewest keys an object may have.'),
    required: opt(z.array(z.string()), 'Properties that must be present.'),
    items: opt(z.union([lazyProps(), z.array(lazyProps())]), 'Schema of the items of a list.'),
    allOf: opt(z.array(lazyProps()), 'Schemas the value must all match.'),
    oneOf: opt(z.array(lazyProps()), 'Schemas of which the value must match exactly one.'),
    anyOf: opt(z.array(lazyProps()), 'Schemas of which the value must match at least one.'),
    not: opt(lazyProps(), 'A schema the value must not match.'),
    properties: opt(z.record(z.string(), lazyProps()), 'Schemas of the fields of an object.'),
    additionalProperties: opt(z.union([lazyProps(), z.boolean()]), 'Schema of the values of a map, or whether extra fields are allowed.'),
    patternProperties: opt(z.record(z.string(), lazyProps()), 'Schemas of fields whose names match a pattern.'),
    dependencies: opt(z.record(z.string(), AnyJSON), 'Fields that require other fields.'),
    additionalItems: opt(z.union([lazyProps(), z.boolean()]), 'Schema of list items past the ones items describes.'),
    definitions: opt(z.record(z.string(), lazyProps()), 'Named schemas; not allowed in structural schemas.'),
    externalDocs: opt(
      named(z.object({ description: str('What the documentation covers.'), url: str('Where it is.') }), `${P}.ExternalDocumentation`, 'A link to more documentation.'),
      'More documentation of the schema.',
    ),
    example: opt(AnyJSON, 'An example value.'),
    nullable: bool('null is a valid value.'),
    'x-kubernetes-preserve-unknown-fields': bool('Keep fields the schema does not specify instead of pruning them.'),
    'x-kubernetes-embedded-resource': bool('The value is a whole Kubernetes object (apiVersion, kind, metadata).'),
    'x-kubernetes-int-or-string': bool('The value may be an integer or a string.'),
    'x-kubernetes-list-map-keys': opt(z.array(z.string()), 'Keys that identify the items of a list of type map.'),
    'x-kubernetes-list-type': str('atomic, set or map: how server-side apply merges the list.'),
    'x-kubernetes-map-type': str('granular or atomic: how server-side apply merges the map.'),
    'x-kubernetes-validations': opt(z.array(ValidationRuleSchema), 'CEL rules the value must satisfy.'),
  }),
  `${P}.JSONSchemaProps`,
  'A JSON-Schema following the OpenAPI v3 spec, restricted to structural schemas.',
) as unknown as z.ZodType<JSONSchemaProps>;

export const CustomResourceColumnDefinitionSchema = named(
  z.object({
    name: req(z.string(), 'Column header.'),
    type: req(z.string(), 'OpenAPI type of the cells: integer, number, string, boolean or date.'),
    format: str('OpenAPI format of the cells.'),
    description: str('What the column shows.'),
    priority: i32('0 shows the column by default; higher numbers only with -o wide.'),
    jsonPath: req(z.string(), 'Simple JSONPath evaluated against each object to fill the column, e.g. .spec.replicas.'),
  }),
  `${P}.CustomResourceColumnDefinition`,
  'A column `kubectl get` prints for the custom resource.',
);

const ScaleSubresourceSchema = named(
  z.object({
    specReplicasPath: req(z.string(), 'JSON path of the desired replicas, under .spec.'),
    statusReplicasPath: req(z.string(), 'JSON path of the observed replicas, under .status.'),
    labelSelectorPath: str('JSON path of the label selector (string form), under .status.'),
  }),
  `${P}.CustomResourceSubresourceScale`,
  'Where the scale subresource reads and writes replicas.',
);

const SubresourcesSchema = named(
  z.object({
    status: opt(named(z.object({}), `${P}.CustomResourceSubresourceStatus`, 'Enables /status.'), 'Enables /status; the main resource then ignores status changes.'),
    scale: opt(ScaleSubresourceSchema, 'Enables /scale.'),
  }),
  `${P}.CustomResourceSubresources`,
  'Subresources served for the custom resource.',
);

export const CustomResourceDefinitionVersionSchema = named(
  z.object({
    name: req(z.string(), 'Version name, e.g. v1 or v1beta1, served at /apis/<group>/<version>.'),
    served: req(z.boolean(), 'Whether this version is served by REST APIs.'),
    storage: req(z.boolean(), 'Whether objects are persisted in this version. Exactly one version is the storage version.'),
    deprecated: bool('Responses in this version carry a deprecation warning.'),
    deprecationWarning: str('The warning returned instead of the default one.'),
    schema: opt(
      named(z.object({ openAPIV3Schema: opt(JSONSchemaPropsSchema, 'The structural schema of objects of this version.') }), `${P}.CustomResourceValidation`, 'The schema used to validate objects.'),
      'Validation schema of this version.',
    ),
    subresources: opt(SubresourcesSchema, 'Subresources served for this version.'),
    additionalPrinterColumns: opt(z.array(CustomResourceColumnDefinitionSchema), 'Columns kubectl get prints; NAME is always first, AGE is shown when none are given.'),
    selectableFields: opt(
      z.array(named(z.object({ jsonPath: req(z.string(), 'JSON path of a string, integer or boolean field.') }), `${P}.SelectableField`, 'A field that field selectors may name.')),
      'Fields usable in field selectors.',
    ),
  }),
  `${P}.CustomResourceDefinitionVersion`,
  'One version of a custom resource.',
);

export const CustomResourceDefinitionNamesSchema = named(
  z.object({
    plural: req(z.string(), 'Plural lowercase name used in URLs, e.g. crontabs.'),
    singular: str('Singular lowercase name, e.g. crontab. Defaults to the kind in lower case.'),
    shortNames: opt(z.array(z.string()), 'Short names kubectl accepts, e.g. ct.'),
    kind: req(z.string(), 'The kind of the objects, e.g. CronTab.'),
    listKind: str('The kind of lists. Defaults to <kind>List.'),
    categories: opt(z.array(z.string()), 'Groups of resources this one belongs to, e.g. all.'),
  }),
  `${P}.CustomResourceDefinitionNames`,
  'The names a custom resource is served under.',
);

const WebhookConversionSchema = named(
  z.object({
    clientConfig: opt(
      named(
        z.object({
          url: str('URL of the webhook.'),
          service: opt(
            named(
              z.object({ namespace: req(z.string(), 'Namespace of the service.'), name: req(z.string(), 'Name of the service.'), path: str('URL path.'), port: i32('Port. Default 443.') }),
              `${P}.ServiceReference`,
              'A service running the webhook.',
            ),
            'Service running the webhook.',
          ),
          caBundle: str('PEM CA bundle to verify the webhook, base64.'),
        }),
        `${P}.WebhookClientConfig`,
        'How to reach a webhook.',
      ),
      'How to reach the conversion webhook.',
    ),
    conversionReviewVersions: req(z.array(z.string()), 'ConversionReview versions the webhook understands.'),
  }),
  `${P}.WebhookConversion`,
  'A conversion webhook.',
);

const ConditionSchema = named(
  z.object({
    type: req(z.string(), 'Established, NamesAccepted, NonStructuralSchema, Terminating or KubernetesAPIApprovalPolicyConformant.'),
    status: req(z.enum(['True', 'False', 'Unknown']), 'True, False or Unknown.'),
    lastTransitionTime: opt(Time, 'When the status last changed.'),
    reason: str('Machine-readable reason of the last change.'),
    message: str('Human-readable details.'),
  }),
  `${P}.CustomResourceDefinitionCondition`,
  'One condition of a definition.',
);

export const CustomResourceDefinitionSchema = named(
  z.object({
    ...typeMeta,
    metadata: req(ObjectMetaSchema, 'Standard object metadata; the name must be <plural>.<group>.'),
    spec: req(
      named(
        z.object({
          group: req(z.string(), 'API group of the custom resource, e.g. stable.example.com.'),
          names: req(CustomResourceDefinitionNamesSchema, 'The names the resource is served under.'),
          scope: req(z.enum(['Namespaced', 'Cluster']), 'Namespaced or Cluster.'),
          versions: req(z.array(CustomResourceDefinitionVersionSchema), 'The versions served; exactly one is the storage version.'),
          conversion: opt(
            named(
              z.object({ strategy: optEnum(['None', 'Webhook'], 'None: versions differ only in apiVersion; Webhook: a webhook converts.'), webhook: opt(WebhookConversionSchema, 'The conversion webhook.') }),
              `${P}.CustomResourceConversion`,
              'A conversion strategy, None or Webhook, with the webhook when there is one.',
            ),
            'How objects are converted between versions.',
          ),
          preserveUnknownFields: bool('Deprecated: keep unknown fields everywhere; use x-kubernetes-preserve-unknown-fields instead.'),
        }),
        `${P}.CustomResourceDefinitionSpec`,
        'What a custom resource definition declares: group, names, scope, versions, conversion.',
      ),
      'The group, names, scope and versions of the custom resource.',
    ),
    status: opt(
      named(
        z.object({
          conditions: opt(z.array(ConditionSchema), 'The state of the definition.'),
          acceptedNames: opt(CustomResourceDefinitionNamesSchema, 'The names actually served (they may differ while a change is pending).'),
          // Not omitempty upstream: an empty list stays.
          storedVersions: keepsEmpty(opt(z.array(z.string()), 'Every version objects have been stored in.')),
        }),
        `${P}.CustomResourceDefinitionStatus`,
        'Conditions, accepted names and stored versions of a custom resource definition.',
      ),
      'The observed state of the definition.',
    ),
  }),
  `${P}.CustomResourceDefinition`,
  'Makes the API server serve a new kind: /apis/<group>/<version>/[namespaces/<ns>/]<plural>.',
);
export type CustomResourceDefinition = z.infer<typeof CustomResourceDefinitionSchema>;
export type CustomResourceDefinitionVersion = z.infer<typeof CustomResourceDefinitionVersionSchema>;
