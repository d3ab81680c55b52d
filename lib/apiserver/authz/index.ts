/**
 * Authorization modes (--authorization-mode), tried in the order given; the first to allow or
 * deny decides, and a request nobody allows is refused with 403:
 *
 *   AlwaysAllow  allows everything (development only)
 *   AlwaysDeny   denies everything
 *   Node         kubelets, limited to their own node's objects (node.ts)
 *   RBAC         Roles, ClusterRoles and bindings (rbac.ts); with RBAC, members of
 *                system:masters are allowed everything first, as upstream
 */
import type { PolicyRule } from '../../api/index.js';
import type { Registry, UserInfo } from '../../registry/index.js';
import { alwaysAllow, alwaysDeny, unionAuthorizer, type Authorizer } from '../auth.js';
import { privilegedGroup } from './escalation.js';
import { NodeAuthorizer } from './node.js';
import { RBACAuthorizer, RBACRules, type RuleResolver } from './rbac.js';

export const authorizationModes = ['AlwaysAllow', 'AlwaysDeny', 'Node', 'RBAC'] as const;

const everything: PolicyRule[] = [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }];
const everyURL: PolicyRule[] = [{ verbs: ['*'], nonResourceURLs: ['*'] }];

const allowAllRules: RuleResolver = { rulesFor: async () => ({ resourceRules: everything, nonResourceRules: everyURL, incomplete: false, errors: [] }) };

/** Members of system:masters may do anything. */
export const privilegedGroupAuthorizer: Authorizer & RuleResolver = {
  authorize: async (a) => (a.user.groups.includes(privilegedGroup) ? { decision: 'allow' } : { decision: 'noOpinion' }),
  rulesFor: async (u: UserInfo) => (u.groups.includes(privilegedGroup) ? allowAllRules.rulesFor(u, '') : { resourceRules: [], nonResourceRules: [], incomplete: false, errors: [] }),
};

export interface Authorization {
  authorizer: Authorizer;
  /** Those that can list a user's rules (SelfSubjectRulesReview), in order. */
  resolvers: RuleResolver[];
  /** RBAC's view of roles and bindings (read by escalation checks whatever the modes). */
  rbac: RBACRules;
}

export function buildAuthorization(modes: string[], registry: Registry): Authorization {
  if (modes.length === 0) throw new Error('--authorization-mode must name at least one mode');
  const rbac = new RBACRules(registry);
  const list: Authorizer[] = [];
  const resolvers: RuleResolver[] = [];
  const seen = new Set<string>();
  for (const m of modes) {
    if (seen.has(m)) throw new Error(`--authorization-mode: "${m}" is given twice`);
    seen.add(m);
    switch (m) {
      case 'AlwaysAllow':
        list.push(alwaysAllow);
        resolvers.push(allowAllRules);
        break;
      case 'AlwaysDeny':
        list.push(alwaysDeny);
        break;
      case 'Node': {
        const n = new NodeAuthorizer(registry);
        list.push(n);
        resolvers.push(n);
        break;
      }
      case 'RBAC': {
        const r = new RBACAuthorizer(rbac);
        list.unshift(privilegedGroupAuthorizer);
        resolvers.unshift(privilegedGroupAuthorizer);
        list.push(r);
        resolvers.push(r);
        break;
      }
      default:
        throw new Error(`unknown authorization mode "${m}"; known modes: ${authorizationModes.join(', ')}`);
    }
  }
  return { authorizer: list.length === 1 ? list[0]! : unionAuthorizer(list), resolvers, rbac };
}

export { RBACAuthorizer, RBACRules, subjectMatches, serviceAccountUsername, type RuleResolver } from './rbac.js';
export { NodeAuthorizer, nodeIdentity, nodesGroup } from './node.js';
export { escalationGuard, privilegedGroup } from './escalation.js';
export { ClusterRoleAggregator, aggregatedRules } from './aggregation.js';
export { reconcileBootstrapPolicy } from './policy-reconcile.js';
export * from './bootstrap-policy.js';
export * from './rules.js';
export { podReferences } from './pod-references.js';
