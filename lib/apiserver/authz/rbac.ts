/**
 * The RBAC authorizer and its rule resolver, reading Roles, ClusterRoles and their bindings
 * from the registry's watch caches (as upstream reads them from informers: a binding takes
 * effect once the cache has seen it, a moment after it was written).
 *
 * Evaluation: the ClusterRoleBindings, then (for a namespaced request) the RoleBindings of the
 * request's namespace, are searched for a subject that is the user; the rules of the role each
 * such binding refers to are checked in turn; the first rule that allows the request allows it.
 * RBAC never denies: without an allowing rule it has no opinion.
 */
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject } from '../../api/index.js';
import { rbacGroup } from '../../api/index.js';
import type { Registry, UserInfo } from '../../registry/index.js';
import type { AuthorizationAttributes, Authorizer, Decision } from '../auth.js';
import { ruleAllows } from './rules.js';

/** What a rule resolver found for a user: the rules, and errors met on the way (missing roles). */
export interface ResolvedRules {
  rules: PolicyRule[];
  errors: string[];
}

/** Lists the rules a user holds; authorizers that can answer SelfSubjectRulesReview implement it. */
export interface RuleResolver {
  rulesFor(user: UserInfo, namespace: string): Promise<{ resourceRules: PolicyRule[]; nonResourceRules: PolicyRule[]; incomplete: boolean; errors: string[] }>;
}

export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/** Whether a binding's subject is this user. `namespace` is the binding's (for service accounts without one). */
export function subjectMatches(s: Subject, user: UserInfo, namespace: string): boolean {
  switch (s.kind) {
    case 'User':
      return s.name === user.username;
    case 'Group':
      return user.groups.includes(s.name);
    case 'ServiceAccount':
      return user.username === serviceAccountUsername(s.namespace || namespace, s.name);
    default:
      return false;
  }
}

interface Snapshot {
  revision: string;
  clusterRoleBindings: ClusterRoleBinding[];
  roleBindings: Map<string, RoleBinding[]>;
  roles: Map<string, Role>;
  clusterRoles: Map<string, ClusterRole>;
}

function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `ServiceAccount "${s.namespace || bindingNamespace}/${s.name}"`;
  return `${s.kind} "${s.name}"`;
}

export class RBACRules {
  private snapshot?: Snapshot;

  constructor(private readonly registry: Registry) {}

  private cacheOf(resource: string) {
    const store = this.registry.mustGet(rbacGroup, resource);
    if (!store.cache) throw new Error('RBAC needs the watch cache');
    return store.cache;
  }

  private objects<T>(resource: string): T[] {
    return this.cacheOf(resource).list().items.map((c) => c.object as unknown as T);
  }

  /** The RBAC objects as of the caches, rebuilt when any of them moved. */
  private current(): Snapshot {
    const resources = ['clusterrolebindings', 'rolebindings', 'roles', 'clusterroles'];
    const revision = resources.map((r) => {
      const c = this.cacheOf(r);
      return `${c.rv}:${c.size}`;
    }).join('/');
    if (this.snapshot?.revision === revision) return this.snapshot;
    const crb = this.objects<ClusterRoleBinding>('clusterrolebindings');
    const rb = this.objects<RoleBinding>('rolebindings');
    const r = this.objects<Role>('roles');
    const cr = this.objects<ClusterRole>('clusterroles');
    const roleBindings = new Map<string, RoleBinding[]>();
    for (const b of rb) {
      const ns = b.metadata.namespace ?? '';
      roleBindings.set(ns, [...(roleBindings.get(ns) ?? []), b]);
    }
    this.snapshot = {
      revision,
      clusterRoleBindings: crb,
      roleBindings,
      roles: new Map(r.map((x) => [`${x.metadata.namespace}/${x.metadata.name}`, x])),
      clusterRoles: new Map(cr.map((x) => [x.metadata.name!, x])),
    };
    return this.snapshot;
  }

  /** Rules of a role reference; `namespace` is the binding's ('' for ClusterRoleBindings). */
  roleRefRules(ref: { kind: string; name: string }, namespace: string): PolicyRule[] | string {
    const snap = this.current();
    if (ref.kind === 'ClusterRole') {
      const cr = snap.clusterRoles.get(ref.name);
      return cr ? (cr.rules ?? []) : `clusterrole.rbac.authorization.k8s.io "${ref.name}" not found`;
    }
    if (ref.kind === 'Role') {
      const r = snap.roles.get(`${namespace}/${ref.name}`);
      return r ? (r.rules ?? []) : `role.rbac.authorization.k8s.io "${ref.name}" not found`;
    }
    return `unsupported role reference kind: "${ref.kind}"`;
  }

  /** As roleRefRules, but a role the cache has not seen yet (written a moment ago) is read from storage. */
  async roleRefRulesLive(ref: { kind: string; name: string }, namespace: string): Promise<PolicyRule[] | string> {
    const cached = this.roleRefRules(ref, namespace);
    if (typeof cached !== 'string' || (ref.kind !== 'Role' && ref.kind !== 'ClusterRole')) return cached;
    const store = this.registry.mustGet(rbacGroup, ref.kind === 'Role' ? 'roles' : 'clusterroles');
    const obj = (await this.registry.storage.get(ref.kind === 'Role' ? `${store.prefix}${namespace}/${ref.name}` : `${store.prefix}${ref.name}`)) as Role | null;
    return obj ? (obj.rules ?? []) : cached;
  }

  /**
   * Visits every rule the user holds in `namespace` (cluster-wide ones first); stops when the
   * visitor returns false. `namespace` '' visits only cluster-wide rules.
   */
  visit(user: UserInfo, namespace: string, visitor: (source: string, rule: PolicyRule | undefined, err: string | undefined) => boolean): void {
    const snap = this.current();
    for (const b of snap.clusterRoleBindings) {
      const s = (b.subjects ?? []).find((x) => subjectMatches(x, user, ''));
      if (!s) continue;
      const rules = this.roleRefRules(b.roleRef, '');
      const source = `ClusterRoleBinding "${b.metadata.name}" of ${b.roleRef.kind} "${b.roleRef.name}" to ${describeSubject(s, '')}`;
      if (typeof rules === 'string') {
        if (!visitor(source, undefined, rules)) return;
        continue;
      }
      for (const r of rules) if (!visitor(source, r, undefined)) return;
    }
    if (!namespace) return;
    for (const b of snap.roleBindings.get(namespace) ?? []) {
      const s = (b.subjects ?? []).find((x) => subjectMatches(x, user, namespace));
      if (!s) continue;
      const rules = this.roleRefRules(b.roleRef, namespace);
      const source = `RoleBinding "${b.metadata.name}/${namespace}" of ${b.roleRef.kind} "${b.roleRef.name}" to ${describeSubject(s, namespace)}`;
      if (typeof rules === 'string') {
        if (!visitor(source, undefined, rules)) return;
        continue;
      }
      for (const r of rules) if (!visitor(source, r, undefined)) return;
    }
  }

  /** Every rule the user holds in a namespace (with cluster-wide ones). */
  rulesFor(user: UserInfo, namespace: string): ResolvedRules {
    const rules: PolicyRule[] = [];
    const errors: string[] = [];
    this.visit(user, namespace, (_s, r, e) => {
      if (r) rules.push(r);
      if (e) errors.push(e);
      return true;
    });
    return { rules, errors };
  }

  /** ClusterRoles (for aggregation). */
  clusterRoles(): ClusterRole[] {
    return [...this.current().clusterRoles.values()];
  }
}

export class RBACAuthorizer implements Authorizer, RuleResolver {
  constructor(readonly rules: RBACRules) {}

  async authorize(a: AuthorizationAttributes): Promise<{ decision: Decision; reason?: string }> {
    let allowedBy: string | undefined;
    const errors: string[] = [];
    this.rules.visit(a.user, a.isResourceRequest ? a.namespace : '', (source, rule, err) => {
      if (err) errors.push(err);
      if (rule && ruleAllows(a, rule)) {
        allowedBy = source;
        return false;
      }
      return true;
    });
    if (allowedBy) return { decision: 'allow', reason: `RBAC: allowed by ${allowedBy}` };
    return { decision: 'noOpinion', reason: errors.length ? `RBAC: [${[...new Set(errors)].join(', ')}]` : undefined };
  }

  async rulesFor(user: UserInfo, namespace: string) {
    const { rules, errors } = this.rules.rulesFor(user, namespace);
    return {
      resourceRules: rules.filter((r) => (r.nonResourceURLs ?? []).length === 0),
      nonResourceRules: rules.filter((r) => (r.nonResourceURLs ?? []).length > 0),
      incomplete: errors.length > 0,
      errors,
    };
  }
}
