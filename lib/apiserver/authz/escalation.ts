/**
 * RBAC escalation prevention, as upstream's policy-based RBAC storage: nobody grants more than
 * they hold.
 *
 *   Role, ClusterRole        creating or changing one is allowed when the writer holds every
 *                            rule in it (in its namespace, or cluster-wide), or may `escalate`
 *                            roles/clusterroles; an aggregationRule needs `escalate`
 *   RoleBinding, ClusterRoleBinding
 *                            allowed when the writer may `bind` the role referred to, or holds
 *                            every rule of that role where the binding applies
 *
 * Members of system:masters may do either. Runs as an always-on validating admission step.
 */
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding } from '../../api/index.js';
import { rbacGroup } from '../../api/index.js';
import { newForbidden, newNotFound } from '../../machinery/index.js';
import type { AdmissionAttributes, UserInfo } from '../../registry/index.js';
import type { AdmissionPlugin } from '../admission/chain.js';
import type { Authorizer } from '../auth.js';
import type { RBACRules } from './rbac.js';
import { formatRule, uncoveredRules } from './rules.js';

export const privilegedGroup = 'system:masters';

/** Merges missing atoms that differ only by verb (upstream's compaction for messages). */
function compactMissing(rules: PolicyRule[]): PolicyRule[] {
  const byKey = new Map<string, PolicyRule>();
  for (const r of rules) {
    const key = JSON.stringify([r.apiGroups ?? [], r.resources ?? [], r.resourceNames ?? [], r.nonResourceURLs ?? []]);
    const cur = byKey.get(key);
    if (cur) cur.verbs = [...new Set([...cur.verbs, ...r.verbs])];
    else byKey.set(key, { ...r, verbs: [...r.verbs] });
  }
  return [...byKey.values()];
}

function goList(xs: string[]): string {
  return `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;
}

export function escalationGuard(rbac: RBACRules, authorizer: Authorizer): AdmissionPlugin {
  const allowedTo = async (user: UserInfo, verb: string, resource: string, namespace: string, name: string) => {
    const d = await authorizer.authorize({ user, verb, isResourceRequest: true, path: '', namespace, apiGroup: rbacGroup, apiVersion: 'v1', resource, subresource: '', name });
    return d.decision === 'allow';
  };

  /** Throws 403 unless the user holds every rule of `rules` in `namespace` ('' = cluster-wide). */
  const confirmNoEscalation = (a: AdmissionAttributes, rules: PolicyRule[], namespace: string) => {
    const own = rbac.rulesFor(a.user, namespace);
    const missing = uncoveredRules(own.rules, rules);
    if (missing.length === 0) return;
    let msg = `user ${JSON.stringify(a.user.username)} (groups=${goList(a.user.groups)}) is attempting to grant RBAC permissions not currently held:\n${compactMissing(missing).map(formatRule).join('\n')}`;
    if (own.errors.length) msg += `; resolution errors: [${own.errors.join(' ')}]`;
    throw newForbidden({ group: rbacGroup, resource: a.resource }, a.name, msg);
  };

  return {
    name: 'RBACEscalationPrevention',
    async validate(a) {
      if (a.group !== rbacGroup || (a.operation !== 'CREATE' && a.operation !== 'UPDATE') || a.subresource) return;
      if (a.user.groups.includes(privilegedGroup)) return;
      const obj = a.object;
      if (!obj) return;
      switch (a.resource) {
        case 'roles':
        case 'clusterroles': {
          const role = obj as Role | ClusterRole;
          const old = a.oldObject as Role | ClusterRole | undefined;
          const aggregated = a.resource === 'clusterroles' && !!(role as ClusterRole).aggregationRule;
          if (old && JSON.stringify(old.rules ?? []) === JSON.stringify(role.rules ?? []) && JSON.stringify((old as ClusterRole).aggregationRule) === JSON.stringify((role as ClusterRole).aggregationRule)) return;
          if (await allowedTo(a.user, 'escalate', a.resource, a.namespace, a.name)) return;
          if (aggregated) throw newForbidden({ group: rbacGroup, resource: a.resource }, a.name, 'must have cluster-admin privileges to use the aggregationRule');
          confirmNoEscalation(a, role.rules ?? [], a.namespace);
          return;
        }
        case 'rolebindings':
        case 'clusterrolebindings': {
          const b = obj as RoleBinding | ClusterRoleBinding;
          const old = a.oldObject as RoleBinding | ClusterRoleBinding | undefined;
          if (old && JSON.stringify(old.roleRef) === JSON.stringify(b.roleRef) && JSON.stringify(old.subjects ?? []) === JSON.stringify(b.subjects ?? [])) return;
          const ns = a.resource === 'rolebindings' ? a.namespace : '';
          const refResource = b.roleRef.kind === 'Role' ? 'roles' : 'clusterroles';
          if (await allowedTo(a.user, 'bind', refResource, ns, b.roleRef.name)) return;
          const rules = await rbac.roleRefRulesLive(b.roleRef, ns);
          if (typeof rules === 'string') throw newNotFound({ group: rbacGroup, resource: refResource }, b.roleRef.name);
          confirmNoEscalation(a, rules, ns);
          return;
        }
      }
    },
  };
}
