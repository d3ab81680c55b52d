/**
 * ResourceQuota: a namespace's quotas cap the total of what its objects use (pods, cpu and
 * memory requests and limits, storage, object counts...). A create (or a service or claim
 * update) that would take usage past a quota's hard limit is refused; otherwise the quota's
 * status.used is raised in the same compare-and-swap, so concurrent creates cannot both slip
 * under a limit.
 *
 * Upstream's quota controller recomputes usage when objects go away; here the API server does
 * that itself (QuotaUsageReconciler): it sets status.hard and recounts status.used from its
 * watch caches shortly after any change and every few seconds.
 */
import type { Logger } from 'pino';
import type { KubeObject, PersistentVolumeClaim, Pod, ResourceQuota, Service } from '../../api/index.js';
import { sleep } from '../../base/index.js';
import { isConflict, isNotFound } from '../../machinery/index.js';
import { newContext, type AdmissionAttributes, type Registry } from '../../registry/index.js';
import type { AdmissionPlugin } from './chain.js';
import { admissionForbidden, listCached } from './lookup.js';
import { addQuantities, formatQuantity, quantityToNumber } from './quantity.js';

type Usage = Record<string, number>;

const system = { username: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] };

/** Objects of these kinds are counted by name (`pods`) as well as by `count/<resource>`. */
const namedCounts: Record<string, string> = {
  '/pods': 'pods',
  '/services': 'services',
  '/configmaps': 'configmaps',
  '/secrets': 'secrets',
  '/persistentvolumeclaims': 'persistentvolumeclaims',
  '/replicationcontrollers': 'replicationcontrollers',
  '/resourcequotas': 'resourcequotas',
};

function countKey(group: string, resource: string): string {
  return group ? `count/${resource}.${group}` : `count/${resource}`;
}

function add(u: Usage, k: string, n: number) {
  u[k] = addQuantities(u[k] ?? 0, n);
}

function isTerminal(p: Pod): boolean {
  return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
}

/** A pod's requests or limits: its containers' sum, or its largest init container if more. */
function podResources(p: Pod, key: 'requests' | 'limits'): Usage {
  const sum: Usage = {};
  for (const c of p.spec?.containers ?? []) for (const [r, q] of Object.entries(c.resources?.[key] ?? {})) add(sum, r, quantityToNumber(q));
  for (const c of p.spec?.initContainers ?? []) for (const [r, q] of Object.entries(c.resources?.[key] ?? {})) sum[r] = Math.max(sum[r] ?? 0, quantityToNumber(q));
  return sum;
}

function isBestEffort(p: Pod): boolean {
  return [...(p.spec?.containers ?? []), ...(p.spec?.initContainers ?? [])].every((c) => Object.keys(c.resources?.requests ?? {}).length === 0 && Object.keys(c.resources?.limits ?? {}).length === 0);
}

/** What one object uses of every quota-tracked resource. */
export function usageOf(group: string, resource: string, obj: KubeObject): Usage {
  const u: Usage = {};
  if (group === '' && resource === 'pods' && isTerminal(obj as Pod)) return u;
  add(u, countKey(group, resource), 1);
  const named = namedCounts[`${group}/${resource}`];
  if (named) add(u, named, 1);
  if (group === '' && resource === 'pods') {
    const p = obj as Pod;
    for (const [r, n] of Object.entries(podResources(p, 'requests'))) {
      add(u, `requests.${r}`, n);
      if (r === 'cpu' || r === 'memory' || r === 'ephemeral-storage') add(u, r, n);
    }
    for (const [r, n] of Object.entries(podResources(p, 'limits'))) add(u, `limits.${r}`, n);
  } else if (group === '' && resource === 'services') {
    const s = obj as Service;
    const type = s.spec?.type ?? 'ClusterIP';
    if (type === 'LoadBalancer') add(u, 'services.loadbalancers', 1);
    if (type === 'NodePort' || type === 'LoadBalancer') add(u, 'services.nodeports', (s.spec?.ports ?? []).length);
  } else if (group === '' && resource === 'persistentvolumeclaims') {
    const pvc = obj as PersistentVolumeClaim;
    const storage = (pvc.spec?.resources?.requests as Record<string, string> | undefined)?.storage;
    const n = storage ? quantityToNumber(storage) : 0;
    add(u, 'requests.storage', n);
    const sc = pvc.spec?.storageClassName;
    if (sc) {
      add(u, `${sc}.storageclass.storage.k8s.io/requests.storage`, n);
      add(u, `${sc}.storageclass.storage.k8s.io/persistentvolumeclaims`, 1);
    }
  }
  return u;
}

/** Whether a quota counts this object (scoped quotas count only the pods in their scopes). */
export function quotaMatches(q: ResourceQuota, group: string, resource: string, obj: KubeObject): boolean {
  const scopes = [...(q.spec?.scopes ?? [])];
  const selector = q.spec?.scopeSelector?.matchExpressions ?? [];
  if (scopes.length === 0 && selector.length === 0) return true;
  if (group !== '' || resource !== 'pods') return false;
  const p = obj as Pod;
  const inScope = (scope: string, op: string = 'Exists', values: string[] = []): boolean => {
    let v: boolean;
    switch (scope) {
      case 'Terminating':
        v = p.spec?.activeDeadlineSeconds !== undefined;
        break;
      case 'NotTerminating':
        v = p.spec?.activeDeadlineSeconds === undefined;
        break;
      case 'BestEffort':
        v = isBestEffort(p);
        break;
      case 'NotBestEffort':
        v = !isBestEffort(p);
        break;
      case 'PriorityClass': {
        const name = p.spec?.priorityClassName ?? '';
        if (op === 'In') return values.includes(name);
        if (op === 'NotIn') return !values.includes(name);
        if (op === 'Exists') return name !== '';
        return name === '';
      }
      default:
        v = false;
    }
    return op === 'DoesNotExist' ? !v : v;
  };
  return scopes.every((s) => inScope(s)) && selector.every((r) => inScope(r.scopeName, r.operator, r.values));
}

/** Usage that quotas constrain but a pod leaves unspecified: each must be given. */
const mustSpecify = ['requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory', 'cpu', 'memory'];

function missingSpecs(q: ResourceQuota, p: Pod): string[] {
  const out: string[] = [];
  for (const k of mustSpecify) {
    if (q.spec?.hard?.[k] === undefined) continue;
    const [kind, r] = k.includes('.') ? (k.split('.') as ['requests' | 'limits', string]) : (['requests', k] as const);
    const lacking = (p.spec?.containers ?? []).filter((c) => c.resources?.[kind]?.[r] === undefined).map((c) => c.name);
    if (lacking.length) out.push(`${k} for: ${lacking.join(',')}`);
  }
  return out;
}

function pretty(u: Usage, keys: string[]): string {
  return [...keys].sort().map((k) => `${k}=${formatQuantity(u[k] ?? 0)}`).join(',');
}

function parseList(l: Record<string, string> | undefined): Usage {
  return Object.fromEntries(Object.entries(l ?? {}).map(([k, v]) => [k, quantityToNumber(v)]));
}

function formatList(u: Usage): Record<string, string> {
  return Object.fromEntries(Object.entries(u).map(([k, v]) => [k, formatQuantity(v)]));
}

/** Which resources the quota system tracks objects of (everything else is counted only by count/...). */
function trackedResources(registry: Registry): { group: string; resource: string }[] {
  return registry
    .all()
    .filter((s) => s.rt.namespaced && s.rt.verbs.includes('create') && !s.rt.custom)
    .map((s) => ({ group: s.rt.group, resource: s.rt.resource }));
}

/** Live usage of a namespace, from the watch caches, of the resources a quota names. */
export function computeUsage(registry: Registry, q: ResourceQuota): Usage {
  const hard = Object.keys(q.spec?.hard ?? {});
  const used: Usage = Object.fromEntries(hard.map((k) => [k, 0]));
  const ns = q.metadata.namespace!;
  for (const { group, resource } of trackedResources(registry)) {
    const wanted = hard.some((k) => k === countKey(group, resource) || k === namedCounts[`${group}/${resource}`] || (resource === 'pods' && group === '') || (resource === 'services' && group === '') || (resource === 'persistentvolumeclaims' && group === ''));
    if (!wanted) continue;
    for (const o of listCached(registry, group, resource, ns)) {
      if (!quotaMatches(q, group, resource, o)) continue;
      for (const [k, n] of Object.entries(usageOf(group, resource, o))) if (k in used) add(used, k, n);
    }
  }
  return used;
}

export class QuotaTracker {
  /** When this process last raised a quota's usage: the reconciler does not lower it for a while. */
  readonly recentlyCharged = new Map<string, number>();
}

export function resourceQuota(registry: Registry, tracker: QuotaTracker): AdmissionPlugin {
  const check = async (a: AdmissionAttributes) => {
    const obj = a.object!;
    let delta = usageOf(a.group, a.resource, obj);
    if (a.operation === 'UPDATE' && a.oldObject) {
      const before = usageOf(a.group, a.resource, a.oldObject);
      delta = Object.fromEntries(Object.entries(delta).map(([k, n]) => [k, n - (before[k] ?? 0)]).filter(([, n]) => (n as number) > 0));
    }
    const quotas = listCached<ResourceQuota>(registry, '', 'resourcequotas', a.namespace);
    const store = registry.mustGet('', 'resourcequotas');
    for (const listed of quotas) {
      const hardKeys = Object.keys(listed.spec?.hard ?? {});
      if (!quotaMatches(listed, a.group, a.resource, obj)) continue;
      const relevant = hardKeys.filter((k) => (delta[k] ?? 0) > 0);
      if (a.group === '' && a.resource === 'pods' && a.operation === 'CREATE') {
        const missing = missingSpecs(listed, obj as Pod);
        if (missing.length) throw admissionForbidden(a, `failed quota: ${listed.metadata.name}: must specify ${missing.join('; ')}`);
      }
      if (relevant.length === 0) continue;
      const name = listed.metadata.name!;
      const ctx = newContext({ namespace: a.namespace, subresource: 'status', user: system, dryRun: a.dryRun });
      await store.update(ctx, name, (cur) => {
        if (!cur) throw admissionForbidden(a, `quota ${name} was removed while it was being checked`);
        const q = cur as ResourceQuota;
        const hard = parseList(q.spec?.hard);
        const stored = parseList(q.status?.used);
        const used = relevant.every((k) => k in stored) ? stored : { ...computeUsage(registry, q), ...stored };
        const failed = relevant.filter((k) => addQuantities(used[k] ?? 0, delta[k]!) > (hard[k] ?? Infinity));
        if (failed.length) {
          throw admissionForbidden(a, `exceeded quota: ${name}, requested: ${pretty(delta, failed)}, used: ${pretty(used, failed)}, limited: ${pretty(hard, failed)}`);
        }
        const next: Usage = { ...parseList(q.status?.used) };
        for (const k of hardKeys) next[k] = addQuantities(used[k] ?? 0, delta[k] ?? 0);
        return { ...q, status: { hard: q.spec?.hard ?? {}, used: formatList(next) } } as KubeObject;
      });
      if (!a.dryRun) tracker.recentlyCharged.set(`${a.namespace}/${name}`, Date.now());
    }
  };
  return {
    name: 'ResourceQuota',
    async validate(a) {
      if (!a.namespace || !a.object || a.subresource) return;
      if (a.operation === 'CREATE') return check(a);
      if (a.operation === 'UPDATE' && a.group === '' && (a.resource === 'services' || a.resource === 'persistentvolumeclaims')) return check(a);
    },
  };
}

/** Keeps every quota's status (hard and used) in line with the objects in its namespace. */
export class QuotaUsageReconciler {
  private dirty = true;
  private wake?: () => void;

  constructor(
    private readonly registry: Registry,
    private readonly tracker: QuotaTracker,
    private readonly log: Logger,
    private readonly intervalMs = 3000,
    /** How long after an admission charge a quota's usage is not lowered (the new object may not be cached yet). */
    private readonly graceMs = 2000,
  ) {}

  async syncOnce(): Promise<void> {
    const store = this.registry.mustGet('', 'resourcequotas');
    for (const q of listCached<ResourceQuota>(this.registry, '', 'resourcequotas')) {
      const key = `${q.metadata.namespace}/${q.metadata.name}`;
      const live = computeUsage(this.registry, q);
      const stored = parseList(q.status?.used);
      const charged = this.tracker.recentlyCharged.get(key);
      const fresh = charged !== undefined && Date.now() - charged < this.graceMs;
      if (!fresh && charged !== undefined) this.tracker.recentlyCharged.delete(key);
      const used: Usage = { ...live };
      // Shortly after a charge, only raise: the charged object may not be in the cache yet.
      if (fresh) for (const k of Object.keys(used)) used[k] = Math.max(used[k]!, stored[k] ?? 0);
      const want = { hard: q.spec?.hard ?? {}, used: formatList(used) };
      if (JSON.stringify(want) === JSON.stringify({ hard: q.status?.hard ?? {}, used: q.status?.used ?? {} })) continue;
      try {
        await store.update(newContext({ namespace: q.metadata.namespace!, subresource: 'status', user: system }), q.metadata.name!, (cur) => {
          if (!cur) throw new Error('gone');
          if (cur.metadata.resourceVersion !== q.metadata.resourceVersion) throw Object.assign(new Error('moved'), { moved: true });
          return { ...cur, status: want };
        });
      } catch (err) {
        if ((err as { moved?: boolean }).moved || isConflict(err) || isNotFound(err) || (err as Error).message === 'gone') {
          this.dirty = true;
          continue;
        }
        throw err;
      }
    }
  }

  /** Waits for a poke or the end; leaves no listener behind on the (long-lived) signal. */
  private idle(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  async start(signal: AbortSignal): Promise<void> {
    const poke = () => {
      this.dirty = true;
      this.wake?.();
    };
    const watched = ['resourcequotas', 'pods', 'services', 'persistentvolumeclaims'];
    const handles = watched.map((r) => {
      const cache = this.registry.mustGet('', r).cache!;
      return cache.watch(cache.rv, { send: (evs) => (evs.some((e) => r === 'resourcequotas' || e.type !== 'ADDED') && poke(), true), close: () => poke(), eventTypesOnly: true });
    });
    const tick = setInterval(poke, this.intervalMs);
    try {
      while (!signal.aborted) {
        if (!this.dirty) {
          await this.idle(signal);
          continue;
        }
        this.dirty = false;
        try {
          await this.syncOnce();
        } catch (err) {
          this.log.warn({ err }, 'quota usage reconcile failed; retrying');
        }
        // Batch bursts of changes.
        await sleep(200, signal);
      }
    } finally {
      clearInterval(tick);
      for (const h of handles) h.stop();
    }
  }
}
