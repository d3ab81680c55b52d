/**
 * Puts the bootstrap policy in place: missing roles and bindings are created; existing ones
 * marked `rbac.authorization.kubernetes.io/autoupdate: "true"` get back permissions and
 * subjects they lost (nothing is taken away, as upstream's reconciliation).
 */
import type { Logger } from 'pino';
import type { ClusterRole, ClusterRoleBinding, KubeObject, PolicyRule } from '../../api/index.js';
import { rbacGroup } from '../../api/index.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../machinery/index.js';
import { newContext, type Registry } from '../../registry/index.js';
import { autoupdateAnnotation, bootstrapClusterRoleBindings, bootstrapClusterRoles } from './bootstrap-policy.js';
import { uncoveredRules } from './rules.js';

const system = { username: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] };

async function ensure<T extends KubeObject>(registry: Registry, resource: string, want: T, fix: (cur: T) => T | undefined, log: Logger): Promise<void> {
  const store = registry.mustGet(rbacGroup, resource);
  const ctx = newContext({ user: system });
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

export async function reconcileBootstrapPolicy(registry: Registry, log: Logger): Promise<void> {
  for (const role of bootstrapClusterRoles()) {
    await ensure<ClusterRole>(
      registry,
      'clusterroles',
      role,
      (cur) => {
        if (role.aggregationRule) {
          // Aggregated roles: only the selectors are ours; the rules belong to the aggregation.
          if (JSON.stringify(cur.aggregationRule) === JSON.stringify(role.aggregationRule)) return undefined;
          return { ...cur, aggregationRule: role.aggregationRule };
        }
        const missing = missingRules(cur.rules, role.rules);
        if (missing.length === 0) return undefined;
        return { ...cur, rules: [...(cur.rules ?? []), ...missing] };
      },
      log,
    );
  }
  for (const b of bootstrapClusterRoleBindings()) {
    await ensure<ClusterRoleBinding>(
      registry,
      'clusterrolebindings',
      b,
      (cur) => {
        const key = (s: { kind: string; name: string; namespace?: string }) => `${s.kind}/${s.namespace ?? ''}/${s.name}`;
        const have = new Set((cur.subjects ?? []).map(key));
        const missing = (b.subjects ?? []).filter((s) => !have.has(key(s)));
        if (missing.length === 0) return undefined;
        return { ...cur, subjects: [...(cur.subjects ?? []), ...missing] };
      },
      log,
    );
  }
}
