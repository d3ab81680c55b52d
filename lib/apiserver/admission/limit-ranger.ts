/**
 * LimitRanger: the LimitRanges of a namespace give containers default requests and limits,
 * and refuse pods, containers and claims outside their min, max and maxLimitRequestRatio.
 */
import type { LimitRange, PersistentVolumeClaim, Pod } from '../../api/index.js';
import { qosClass, type Registry } from '../../registry/index.js';
import { markMutated, type AdmissionPlugin } from './chain.js';
import { admissionForbidden, aggregate, isPodCreate, listCached } from './lookup.js';
import { addQuantities, quantityToNumber } from './quantity.js';

type Item = NonNullable<NonNullable<LimitRange['spec']>['limits']>[number];
type ResourceList = Record<string, string>;
type Container = NonNullable<Pod['spec']>['containers'][number];

export const limitRangerAnnotation = 'kubernetes.io/limit-ranger';

function itemsOf(registry: Registry, namespace: string, type: string): Item[] {
  return listCached<LimitRange>(registry, '', 'limitranges', namespace).flatMap((lr) => (lr.spec?.limits ?? []).filter((i) => i.type === type));
}

/** Upstream's checks: one message per constraint and resource, the first that fails. */
function minCheck(errs: string[], what: string, min: ResourceList | undefined, req: ResourceList, lim: ResourceList) {
  for (const [r, m] of Object.entries(min ?? {})) {
    const q = req[r];
    if (q === undefined) errs.push(`minimum ${r} usage per ${what} is ${m}.  No request is specified`);
    else if (quantityToNumber(q) < quantityToNumber(m)) errs.push(`minimum ${r} usage per ${what} is ${m}, but request is ${q}`);
    else if (lim[r] !== undefined && quantityToNumber(lim[r]!) < quantityToNumber(m)) errs.push(`minimum ${r} usage per ${what} is ${m}, but limit is ${lim[r]}`);
  }
}

function maxCheck(errs: string[], what: string, max: ResourceList | undefined, req: ResourceList, lim: ResourceList) {
  for (const [r, m] of Object.entries(max ?? {})) {
    const l = lim[r];
    if (l === undefined) errs.push(`maximum ${r} usage per ${what} is ${m}.  No limit is specified`);
    else if (quantityToNumber(l) > quantityToNumber(m)) errs.push(`maximum ${r} usage per ${what} is ${m}, but limit is ${l}`);
    else if (req[r] !== undefined && quantityToNumber(req[r]!) > quantityToNumber(m)) errs.push(`maximum ${r} usage per ${what} is ${m}, but request is ${req[r]}`);
  }
}

function ratioCheck(errs: string[], what: string, ratio: ResourceList | undefined, req: ResourceList, lim: ResourceList) {
  for (const [r, m] of Object.entries(ratio ?? {})) {
    const l = lim[r];
    const q = req[r];
    if (l === undefined) errs.push(`${r} max limit to request ratio per ${what} is ${m}, but no limit is specified`);
    else if (q === undefined || quantityToNumber(q) === 0) errs.push(`${r} max limit to request ratio per ${what} is ${m}, but no request is specified or request is 0`);
    else {
      const actual = quantityToNumber(l) / quantityToNumber(q);
      if (actual > quantityToNumber(m)) errs.push(`${r} max limit to request ratio per ${what} is ${m}, but provided ratio is ${actual.toFixed(6)}`);
    }
  }
}

/** The requests and limits of a pod: the sum over its containers, or the largest init container's if more. */
function podTotals(spec: NonNullable<Pod['spec']>, key: 'requests' | 'limits'): ResourceList {
  const sum: Record<string, number> = {};
  for (const c of spec.containers ?? []) for (const [r, q] of Object.entries(c.resources?.[key] ?? {})) sum[r] = addQuantities(sum[r] ?? 0, quantityToNumber(q));
  for (const c of spec.initContainers ?? []) for (const [r, q] of Object.entries(c.resources?.[key] ?? {})) sum[r] = Math.max(sum[r] ?? 0, quantityToNumber(q));
  return Object.fromEntries(Object.entries(sum).map(([r, n]) => [r, String(n)]));
}

export function limitRanger(registry: Registry): AdmissionPlugin {
  return {
    name: 'LimitRanger',
    async mutate(a) {
      if (!isPodCreate(a)) return;
      const pod = a.object as Pod;
      const items = itemsOf(registry, a.namespace, 'Container');
      if (items.length === 0) return;
      const notes: string[] = [];
      const apply = (c: Container) => {
        const setReq: string[] = [];
        const setLim: string[] = [];
        for (const item of items) {
          for (const [r, q] of Object.entries(item.default ?? {})) {
            const res = (c.resources ??= {});
            const lim = (res.limits ??= {});
            if (lim[r] === undefined) {
              lim[r] = q;
              setLim.push(r);
            }
          }
          for (const [r, q] of Object.entries(item.defaultRequest ?? {})) {
            const res = (c.resources ??= {});
            const req = (res.requests ??= {});
            if (req[r] === undefined) {
              req[r] = q;
              setReq.push(r);
            }
          }
        }
        if (setReq.length) notes.push(`${setReq.join(', ')} request for container ${c.name}`);
        if (setLim.length) notes.push(`${setLim.join(', ')} limit for container ${c.name}`);
      };
      for (const c of pod.spec?.initContainers ?? []) apply(c);
      for (const c of pod.spec?.containers ?? []) apply(c);
      if (notes.length === 0) return;
      markMutated(a.object);
      pod.metadata.annotations = { ...pod.metadata.annotations, [limitRangerAnnotation]: `LimitRanger plugin set: ${notes.join('; ')}` };
      // The QoS class was computed before admission; defaults may have changed it (upstream
      // computes it after mutating admission).
      if (pod.status?.qosClass) pod.status.qosClass = qosClass(pod.spec);
    },
    async validate(a) {
      if (a.group !== '' || a.subresource !== '' || a.operation !== 'CREATE' || !a.object) return;
      const errs: string[] = [];
      if (a.resource === 'pods') {
        const spec = (a.object as Pod).spec;
        if (!spec) return;
        for (const item of itemsOf(registry, a.namespace, 'Container')) {
          for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
            const req = c.resources?.requests ?? {};
            const lim = c.resources?.limits ?? {};
            minCheck(errs, 'Container', item.min, req, lim);
            maxCheck(errs, 'Container', item.max, req, lim);
            ratioCheck(errs, 'Container', item.maxLimitRequestRatio, req, lim);
          }
        }
        for (const item of itemsOf(registry, a.namespace, 'Pod')) {
          const req = podTotals(spec, 'requests');
          const lim = podTotals(spec, 'limits');
          minCheck(errs, 'Pod', item.min, req, lim);
          maxCheck(errs, 'Pod', item.max, req, lim);
          ratioCheck(errs, 'Pod', item.maxLimitRequestRatio, req, lim);
        }
      } else if (a.resource === 'persistentvolumeclaims') {
        const pvc = a.object as PersistentVolumeClaim;
        const req = (pvc.spec?.resources?.requests ?? {}) as ResourceList;
        for (const item of itemsOf(registry, a.namespace, 'PersistentVolumeClaim')) {
          for (const [r, m] of Object.entries(item.min ?? {})) {
            const q = req[r];
            if (q === undefined) errs.push(`minimum ${r} usage per PersistentVolumeClaim is ${m}.  No request is specified`);
            else if (quantityToNumber(q) < quantityToNumber(m)) errs.push(`minimum ${r} usage per PersistentVolumeClaim is ${m}, but request is ${q}`);
          }
          for (const [r, m] of Object.entries(item.max ?? {})) {
            const q = req[r];
            if (q === undefined) errs.push(`maximum ${r} usage per PersistentVolumeClaim is ${m}.  No request is specified`);
            else if (quantityToNumber(q) > quantityToNumber(m)) errs.push(`maximum ${r} usage per PersistentVolumeClaim is ${m}, but request is ${q}`);
          }
        }
      } else return;
      if (errs.length) throw admissionForbidden(a, aggregate(errs));
    },
  };
}
