/**
 * authorization.k8s.io/v1: access reviews (may this user do this?) and rules reviews (what may
 * I do here?). Not stored: each is answered in the request that creates it.
 */
import { z, typeMeta, named, str, bool, opt, atomicList } from '../schema.js';
import { ObjectMetaSchema } from '../meta/v1.js';

export const authorizationGroup = 'authorization.k8s.io';

export const ResourceAttributesSchema = named(
  z.object({
    namespace: str('Namespace of the action; "" for cluster-scoped resources or all namespaces.'),
    verb: str('get, list, watch, create, update, patch, delete, deletecollection, or a custom verb; "*" is every verb.'),
    group: str('API group of the resource; "*" is every group.'),
    version: str('API version of the resource.'),
    resource: str('The resource, e.g. pods; "*" is every resource.'),
    subresource: str('The subresource, e.g. log; "" for the resource itself.'),
    name: str('Name of the object; "" for every object.'),
    fieldSelector: opt(z.object({ rawSelector: str('The selector as written.') }).loose(), 'A field selector the request is limited to.'),
    labelSelector: opt(z.object({ rawSelector: str('The selector as written.') }).loose(), 'A label selector the request is limited to.'),
  }),
  'io.k8s.api.authorization.v1.ResourceAttributes',
  'An action on a resource.',
);
export type ResourceAttributes = z.infer<typeof ResourceAttributesSchema>;

export const NonResourceAttributesSchema = named(
  z.object({ path: str('The URL path.'), verb: str('The HTTP verb in lower case (get, post...).') }),
  'io.k8s.api.authorization.v1.NonResourceAttributes',
  'An action on a URL outside the resource space.',
);
export type NonResourceAttributes = z.infer<typeof NonResourceAttributesSchema>;

export const SubjectAccessReviewStatusSchema = named(
  z.object({
    allowed: z.boolean().meta({ description: 'Whether the action is allowed.' }),
    denied: bool('Whether the action is explicitly denied (allowed is then false too).'),
    reason: str('Why, for people.'),
    evaluationError: str('An error met while deciding; the answer may be incomplete.'),
  }),
  'io.k8s.api.authorization.v1.SubjectAccessReviewStatus',
  'An access review\'s answer: allowed or denied, and why.',
);

const accessSpec = {
  resourceAttributes: opt(ResourceAttributesSchema, 'The action on a resource (exclusive with nonResourceAttributes).'),
  nonResourceAttributes: opt(NonResourceAttributesSchema, 'The action on a URL (exclusive with resourceAttributes).'),
};

export const SubjectAccessReviewSpecSchema = named(
  z.object({
    ...accessSpec,
    user: str('The user to check.'),
    groups: atomicList(z.string(), 'Groups of the user.').optional(),
    extra: opt(z.record(z.string(), z.array(z.string())), 'Extra information of the user.'),
    uid: str('UID of the user.'),
  }),
  'io.k8s.api.authorization.v1.SubjectAccessReviewSpec',
  'Who wants to do what.',
);

export const SubjectAccessReviewSchema = named(
  z.object({ ...typeMeta, metadata: ObjectMetaSchema, spec: SubjectAccessReviewSpecSchema, status: opt(SubjectAccessReviewStatusSchema, 'The decision.') }),
  'io.k8s.api.authorization.v1.SubjectAccessReview',
  'Asks whether a user may perform an action.',
);
export type SubjectAccessReview = z.infer<typeof SubjectAccessReviewSchema>;

export const LocalSubjectAccessReviewSchema = named(
  z.object({ ...typeMeta, metadata: ObjectMetaSchema, spec: SubjectAccessReviewSpecSchema, status: opt(SubjectAccessReviewStatusSchema, 'The decision.') }),
  'io.k8s.api.authorization.v1.LocalSubjectAccessReview',
  'Asks whether a user may perform an action in one namespace (the namespace of the request).',
);
export type LocalSubjectAccessReview = z.infer<typeof LocalSubjectAccessReviewSchema>;

export const SelfSubjectAccessReviewSchema = named(
  z.object({
    ...typeMeta,
    metadata: ObjectMetaSchema,
    spec: named(z.object(accessSpec), 'io.k8s.api.authorization.v1.SelfSubjectAccessReviewSpec', 'What the requester wants to do.'),
    status: opt(SubjectAccessReviewStatusSchema, 'The decision.'),
  }),
  'io.k8s.api.authorization.v1.SelfSubjectAccessReview',
  'Asks whether the requester may perform an action (kubectl auth can-i).',
);
export type SelfSubjectAccessReview = z.infer<typeof SelfSubjectAccessReviewSchema>;

export const ResourceRuleSchema = named(
  z.object({
    verbs: atomicList(z.string(), 'Allowed verbs.'),
    apiGroups: atomicList(z.string(), 'API groups.').optional(),
    resources: atomicList(z.string(), 'Resources.').optional(),
    resourceNames: atomicList(z.string(), 'Object names the rule is limited to.').optional(),
  }),
  'io.k8s.api.authorization.v1.ResourceRule',
  'Verbs allowed on resources.',
);

export const NonResourceRuleSchema = named(
  z.object({ verbs: atomicList(z.string(), 'Allowed verbs.'), nonResourceURLs: atomicList(z.string(), 'URL paths; a trailing * matches a prefix.').optional() }),
  'io.k8s.api.authorization.v1.NonResourceRule',
  'Verbs allowed on URLs outside the resource space.',
);

export const SubjectRulesReviewStatusSchema = named(
  z.object({
    resourceRules: atomicList(ResourceRuleSchema, 'What may be done with resources.'),
    nonResourceRules: atomicList(NonResourceRuleSchema, 'What may be done with non-resource URLs.'),
    incomplete: z.boolean().meta({ description: 'True when some authorizer cannot list its rules (the list is then a lower bound).' }),
    evaluationError: str('An error met while listing.'),
  }),
  'io.k8s.api.authorization.v1.SubjectRulesReviewStatus',
  'The rules found.',
);

export const SelfSubjectRulesReviewSchema = named(
  z.object({
    ...typeMeta,
    metadata: ObjectMetaSchema,
    spec: named(z.object({ namespace: str('The namespace to list rules in.') }), 'io.k8s.api.authorization.v1.SelfSubjectRulesReviewSpec', 'Where to look.'),
    status: opt(SubjectRulesReviewStatusSchema, 'The rules.'),
  }),
  'io.k8s.api.authorization.v1.SelfSubjectRulesReview',
  'Lists what the requester may do in a namespace (kubectl auth can-i --list).',
);
export type SelfSubjectRulesReview = z.infer<typeof SelfSubjectRulesReviewSchema>;
