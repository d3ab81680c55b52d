/** Defaulting and validation of RBAC objects, with upstream's rules and messages. */
import { fieldPath, isDNS1123Subdomain, type FieldError, type FieldPath } from '../../machinery/index.js';
import { rbacGroup, type ClusterRole, type ClusterRoleBinding, type PolicyRule, type Role, type RoleBinding, type Subject } from './v1.js';

/** Users and groups belong to the RBAC group; service accounts to the core group. */
export function defaultSubjects(subjects: Subject[] | undefined): void {
  for (const s of subjects ?? []) {
    if (s.apiGroup === undefined) s.apiGroup = s.kind === 'ServiceAccount' ? '' : rbacGroup;
  }
}

export function defaultRoleBinding(b: RoleBinding | ClusterRoleBinding): void {
  defaultSubjects(b.subjects);
}

function validateRule(rule: PolicyRule, namespaced: boolean, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!rule.verbs || rule.verbs.length === 0) errs.push(p.child('verbs').required('verbs must contain at least one value'));
  if ((rule.nonResourceURLs ?? []).length > 0) {
    if (namespaced) errs.push(p.child('nonResourceURLs').invalid(rule.nonResourceURLs, 'namespaced rules cannot apply to non-resource URLs'));
    if ((rule.apiGroups ?? []).length > 0 || (rule.resources ?? []).length > 0 || (rule.resourceNames ?? []).length > 0) {
      errs.push(p.child('nonResourceURLs').invalid(rule.nonResourceURLs, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return errs;
  }
  if ((rule.apiGroups ?? []).length === 0) errs.push(p.child('apiGroups').required('resource rules must supply at least one api group'));
  if ((rule.resources ?? []).length === 0) errs.push(p.child('resources').required('resource rules must supply at least one resource'));
  return errs;
}

function validateRules(rules: PolicyRule[] | undefined, namespaced: boolean): FieldError[] {
  return (rules ?? []).flatMap((r, i) => validateRule(r, namespaced, fieldPath('rules').index(i)));
}

export function validateRole(r: Role): FieldError[] {
  return validateRules(r.rules, true);
}

export function validateClusterRole(r: ClusterRole): FieldError[] {
  const errs = validateRules(r.rules, false);
  const sel = r.aggregationRule?.clusterRoleSelectors;
  if (r.aggregationRule && (!sel || sel.length === 0)) errs.push(fieldPath('aggregationRule.clusterRoleSelectors').required('at least one clusterRoleSelector required if aggregationRule is non-nil'));
  return errs;
}

function validateSubject(s: Subject, namespaced: boolean, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!s.name) errs.push(p.child('name').required());
  switch (s.kind) {
    case 'ServiceAccount':
      if (s.name && isDNS1123Subdomain(s.name).length > 0) errs.push(p.child('name').invalid(s.name, isDNS1123Subdomain(s.name).join(', ')));
      if (s.apiGroup) errs.push(p.child('apiGroup').notSupported(s.apiGroup, ['']));
      if (!namespaced && !s.namespace) errs.push(p.child('namespace').required());
      break;
    case 'User':
    case 'Group':
      if (s.apiGroup !== rbacGroup) errs.push(p.child('apiGroup').notSupported(s.apiGroup, [rbacGroup]));
      break;
    default:
      errs.push(p.child('kind').notSupported(s.kind, ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

function validateBinding(b: RoleBinding | ClusterRoleBinding, namespaced: boolean, old?: RoleBinding | ClusterRoleBinding): FieldError[] {
  const errs: FieldError[] = [];
  const ref = b.roleRef;
  if (ref.apiGroup !== rbacGroup) errs.push(fieldPath('roleRef.apiGroup').notSupported(ref.apiGroup, [rbacGroup]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(ref.kind)) errs.push(fieldPath('roleRef.kind').notSupported(ref.kind, kinds));
  if (!ref.name) errs.push(fieldPath('roleRef.name').required());
  (b.subjects ?? []).forEach((s, i) => errs.push(...validateSubject(s, namespaced, fieldPath('subjects').index(i))));
  if (old && JSON.stringify(old.roleRef) !== JSON.stringify(b.roleRef)) errs.push(fieldPath('roleRef').invalid(b.roleRef, 'cannot change roleRef'));
  return errs;
}

export function validateRoleBinding(b: RoleBinding, old?: RoleBinding): FieldError[] {
  return validateBinding(b, true, old);
}

export function validateClusterRoleBinding(b: ClusterRoleBinding, old?: ClusterRoleBinding): FieldError[] {
  return validateBinding(b, false, old);
}
