/**
 * Puts the bootstrap policy in place: missing roles and bindings are created; existing ones
 * marked `rbac.authorization.kubernetes.io/autoupdate: "true"` get back permissions and
 * subjects they lost (nothing is taken away, as upstream's reconciliation).
 */
import type { Logger } from 'pino';
import type { ClusterRole, ClusterRoleBinding, KubeObject, PolicyRule, Role, RoleBinding, Subject } from '../../api/index.js';
import { rbacGroup } from '../../api/index.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../machinery/index.js';
import { newContext, type Registry } from '../../registry/index.js';
import { autoupdateAnnotation, bootstrapClusterRoleBindings, bootstrapClusterRoles, bootstrapRoleBindings, bootstrapRoles } from './bootstrap-policy.js';
import { uncoveredRules } from './rules.js';
import { ensureObject } from '../bootstrap.js';

const system = { username: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] };

async function ensure<T extends KubeObject>(registry: Registry, resource: string, want: T, fix: (cur: T) => T | undefined, log: Logger): Promise<void> {
  const store = registry.mustGet(rbacGroup, resource);
  const ctx = newContext({ user: system, namespace: want.metadata.namespace ?? '' });
  const name = want.metadata.name!;
  try {
    const cur = (await store.get(ctx, name)) as T;
    if (cur.metadata.annotations?.[autoupdateAnnotation] === 'false') return;
    const next = fix(cur);
    if (!next) return;
    await store.update(ctx, name, () => next);
    log.info({ resource, name }, 'reconciled bootstrap policy object');
  } catch (err) {
    if (isConflict(err)) return; // someone else wrote it; the next pass looks again
    if (!isNotFound(err)) throw err;
    try {
      await store.create(ctx, store.decode(structuredClone(want)));
      log.debug({ resource, name }, 'created bootstrap policy object');
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
  }
}

function missingRules(have: PolicyRule[] | undefined, want: PolicyRule[] | undefined): PolicyRule[] {
  return (want ?? []).filter((w) => uncoveredRules(have ?? [], [w]).length > 0);
}

/** A role's missing permissions added back (undefined: nothing missing). */
function withRules<T extends ClusterRole | Role>(want: T): (cur: T) => T | undefined {
  return (cur) => {
    const missing = missingRules(cur.rules, want.rules);
    return missing.length === 0 ? undefined : { ...cur, rules: [...(cur.rules ?? []), ...missing] };
  };
}

/** A binding's missing subjects added back (undefined: nothing missing). */
function withSubjects<T extends ClusterRoleBinding | RoleBinding>(want: T): (cur: T) => T | undefined {
  const key = (s: Subject) => `${s.kind}/${s.namespace ?? ''}/${s.name}`;
  return (cur) => {
    const have = new Set((cur.subjects ?? []).map(key));
    const missing = (want.subjects ?? []).filter((s) => !have.has(key(s)));
    return missing.length === 0 ? undefined : { ...cur, subjects: [...(cur.subjects ?? []), ...missing] };
  };
}

export async function reconcileBootstrapPolicy(registry: Registry, log: Logger): Promise<void> {
  for (const role of bootstrapClusterRoles()) {
    if (!role.aggregationRule) {
      await ensure(registry, 'clusterroles', role, withRules(role), log);
      continue;
    }
    // Aggregated roles: only the selectors are ours; the rules belong to the aggregation.
    await ensure<ClusterRole>(
      registry,
      'clusterroles',
      role,
      (cur) => (JSON.stringify(cur.aggregationRule) === JSON.stringify(role.aggregationRule) ? undefined : { ...cur, aggregationRule: role.aggregationRule }),
      log,
    );
  }
  for (const b of bootstrapClusterRoleBindings()) await ensure(registry, 'clusterrolebindings', b, withSubjects(b), log);
  const roles = bootstrapRoles();
  const bindings = bootstrapRoleBindings();
  // Their namespaces first, made if missing, as upstream's RBAC start-up hook does.
  for (const ns of new Set([...roles, ...bindings].map((o) => o.metadata.namespace!))) await ensureObject(registry, '', 'namespaces', '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, log);
  for (const r of roles) await ensure(registry, 'roles', r, withRules(r), log);
  for (const b of bindings) await ensure(registry, 'rolebindings', b, withSubjects(b), log);
}

