/** rbac.authorization.k8s.io/v1: Roles, ClusterRoles and their bindings. */
import { z, typeMeta, named, str, opt, req, atomicList } from '../schema.js';
import { LabelSelectorSchema, ObjectMetaSchema } from '../meta/v1.js';
import { keepsEmpty } from '../schema-walk.js';

export const rbacGroup = 'rbac.authorization.k8s.io';

export const PolicyRuleSchema = named(
  z.object({
    verbs: req(atomicList(z.string(), 'Verbs the rule allows (get, list, create, ...); "*" is every verb.'), 'Verbs the rule allows (get, list, create, ...); "*" is every verb.'),
    apiGroups: atomicList(z.string(), 'API groups of the resources; "" is the core group and "*" every group.').optional(),
    resources: atomicList(z.string(), 'Resources the rule applies to, e.g. pods or pods/log; "*" is every resource and "*/scale" every scale subresource.').optional(),
    resourceNames: atomicList(z.string(), 'Names of the objects the rule is limited to; empty means every object.').optional(),
    nonResourceURLs: atomicList(
      z.string(),
      'URL paths outside the resource space (e.g. /healthz) the rule applies to; a trailing "*" matches a prefix. Only in ClusterRoles.',
    ).optional(),
  }),
  'io.k8s.api.rbac.v1.PolicyRule',
  'One permission: verbs on resources (or on non-resource URLs).',
);
export type PolicyRule = z.infer<typeof PolicyRuleSchema>;

export const AggregationRuleSchema = named(
  z.object({
    clusterRoleSelectors: atomicList(LabelSelectorSchema, 'ClusterRoles whose labels match any of these selectors contribute their rules.').optional(),
  }),
  'io.k8s.api.rbac.v1.AggregationRule',
  'How a ClusterRole is assembled from the rules of other ClusterRoles.',
);
export type AggregationRule = z.infer<typeof AggregationRuleSchema>;

export const RoleSchema = named(
  z.object({
    ...typeMeta,
    metadata: ObjectMetaSchema,
    // Not omitempty upstream: an empty list stays.
    rules: keepsEmpty(atomicList(PolicyRuleSchema, 'The permissions of the role.').optional()),
  }),
  'io.k8s.api.rbac.v1.Role',
  'A set of permissions within one namespace, granted by a RoleBinding.',
);
export type Role = z.infer<typeof RoleSchema>;

export const ClusterRoleSchema = named(
  z.object({
    ...typeMeta,
    metadata: ObjectMetaSchema,
    rules: keepsEmpty(atomicList(PolicyRuleSchema, 'The permissions of the role; maintained by the API server when aggregationRule is set.').optional()),
    aggregationRule: opt(AggregationRuleSchema, 'When set, rules is the union of the rules of the ClusterRoles it selects, kept up to date by the API server.'),
  }),
  'io.k8s.api.rbac.v1.ClusterRole',
  'A set of permissions, cluster-wide (ClusterRoleBinding) or within a namespace (RoleBinding).',
);
export type ClusterRole = z.infer<typeof ClusterRoleSchema>;

export const SubjectSchema = named(
  z.object({
    kind: req(z.string(), 'User, Group or ServiceAccount.'),
    apiGroup: str('rbac.authorization.k8s.io for users and groups, "" for service accounts.'),
    name: req(z.string(), 'Name of the user, group or service account.'),
    namespace: str('Namespace of a service account.'),
  }),
  'io.k8s.api.rbac.v1.Subject',
  'Who a binding grants a role to.',
);
export type Subject = z.infer<typeof SubjectSchema>;

export const RoleRefSchema = named(
  z.object({
    apiGroup: req(z.string(), 'Always rbac.authorization.k8s.io.'),
    kind: req(z.string(), 'Role or ClusterRole.'),
    name: req(z.string(), 'Name of the role.'),
  }),
  'io.k8s.api.rbac.v1.RoleRef',
  'The role a binding grants; it cannot change once the binding exists.',
);
export type RoleRef = z.infer<typeof RoleRefSchema>;

export const RoleBindingSchema = named(
  z.object({
    ...typeMeta,
    metadata: ObjectMetaSchema,
    subjects: atomicList(SubjectSchema, 'Who is granted the role.').optional(),
    roleRef: req(RoleRefSchema, 'The Role (in the same namespace) or ClusterRole granted; immutable.'),
  }),
  'io.k8s.api.rbac.v1.RoleBinding',
  'Grants a Role or ClusterRole to subjects within one namespace.',
);
export type RoleBinding = z.infer<typeof RoleBindingSchema>;

export const ClusterRoleBindingSchema = named(
  z.object({
    ...typeMeta,
    metadata: ObjectMetaSchema,
    subjects: atomicList(SubjectSchema, 'Who is granted the role.').optional(),
    roleRef: req(RoleRefSchema, 'The ClusterRole granted; immutable.'),
  }),
  'io.k8s.api.rbac.v1.ClusterRoleBinding',
  'Grants a ClusterRole to subjects in every namespace and at the cluster scope.',
);
export type ClusterRoleBinding = z.infer<typeof ClusterRoleBindingSchema>;
