/** The served RBAC kinds (upstream gives them no short names). */
import { defineResource, type AnyResourceType } from '../resource-type.js';
import { ClusterRoleBindingSchema, ClusterRoleSchema, RoleBindingSchema, RoleSchema, rbacGroup } from './v1.js';
import { defaultRoleBinding, validateClusterRole, validateClusterRoleBinding, validateRole, validateRoleBinding } from './v1-behaviour.js';

export const rbacResources: AnyResourceType[] = [
  defineResource({ group: rbacGroup, version: 'v1', kind: 'Role', resource: 'roles', namespaced: true, nameFormat: 'path-segment', schema: RoleSchema, validate: validateRole }),
  defineResource({ group: rbacGroup, version: 'v1', kind: 'ClusterRole', resource: 'clusterroles', namespaced: false, nameFormat: 'path-segment', schema: ClusterRoleSchema, validate: validateClusterRole }),
  defineResource({
    group: rbacGroup, version: 'v1', kind: 'RoleBinding', resource: 'rolebindings', namespaced: true, nameFormat: 'path-segment',
    schema: RoleBindingSchema, defaults: defaultRoleBinding, validate: validateRoleBinding,
  }),
  defineResource({
    group: rbacGroup, version: 'v1', kind: 'ClusterRoleBinding', resource: 'clusterrolebindings', namespaced: false, nameFormat: 'path-segment',
    schema: ClusterRoleBindingSchema, defaults: defaultRoleBinding, validate: validateClusterRoleBinding,
  }),
];
