/** Validation of ResourceQuotas and LimitRanges, as upstream's core validation checks them. */
import { fieldPath, isQualifiedName, type FieldError, type FieldPath } from '../../machinery/index.js';
import { quantityToNumber } from './v1-validation.js';
import type { LimitRange, ResourceQuota, ResourceList } from './v1.js';

/** Resources that are counted in whole objects (or whole units) and so must be integers. */
const integerResources = new Set([
  'pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets', 'configmaps', 'persistentvolumeclaims',
  'services.nodeports', 'services.loadbalancers',
]);

function isIntegerResource(name: string): boolean {
  if (integerResources.has(name) || name.startsWith('count/')) return true;
  // Extended resources (example.com/gpu, requests.example.com/gpu) come in whole units too.
  const bare = name.startsWith('requests.') ? name.slice('requests.'.length) : name;
  return bare.includes('/') && !bare.includes('kubernetes.io/');
}

/** A quantity for a named resource: non-negative, and whole for countable resources. */
export function validateResourceQuantity(name: string, q: string, p: FieldPath, errs: FieldError[]) {
  const n = quantityToNumber(q);
  if (n < 0) errs.push(p.invalid(q, 'must be greater than or equal to 0'));
  else if (isIntegerResource(name) && !Number.isInteger(n)) errs.push(p.invalid(q, 'must be an integer'));
}

function validateResourceList(list: ResourceList | undefined, p: FieldPath, errs: FieldError[]) {
  for (const [name, q] of Object.entries(list ?? {})) {
    for (const m of isQualifiedName(name)) errs.push(p.key(name).invalid(name, m));
    validateResourceQuantity(name, q, p.key(name), errs);
  }
}

const podScopes = new Set(['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity']);

export function validateResourceQuota(q: ResourceQuota): FieldError[] {
  const errs: FieldError[] = [];
  const spec = q.spec ?? {};
  const p = fieldPath('spec');
  validateResourceList(spec.hard, p.child('hard'), errs);
  validateResourceList(q.status?.hard, fieldPath('status.hard'), errs);
  validateResourceList(q.status?.used, fieldPath('status.used'), errs);
  const scopes = new Set(spec.scopes ?? []);
  if (scopes.has('BestEffort') && scopes.has('NotBestEffort')) errs.push(p.child('scopes').invalid(spec.scopes, 'conflicting scopes'));
  if (scopes.has('Terminating') && scopes.has('NotTerminating')) errs.push(p.child('scopes').invalid(spec.scopes, 'conflicting scopes'));
  (spec.scopeSelector?.matchExpressions ?? []).forEach((req, i) => {
    const rp = p.child('scopeSelector.matchExpressions').index(i);
    const values = req.values ?? [];
    if ((req.operator === 'In' || req.operator === 'NotIn') && values.length === 0)
      errs.push(rp.child('values').required('must be at least one value when `operator` is \'In\' or \'NotIn\' for scope selector'));
    if ((req.operator === 'Exists' || req.operator === 'DoesNotExist') && values.length > 0)
      errs.push(rp.child('values').invalid(values, 'must be no value when `operator` is \'Exist\' or \'DoesNotExist\' for scope selector'));
    if (req.scopeName !== 'PriorityClass' && (req.operator === 'In' || req.operator === 'NotIn') && podScopes.has(req.scopeName))
      errs.push(rp.child('operator').invalid(req.operator, 'must be \'Exist\' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity'));
  });
  return errs;
}

export function validateLimitRange(lr: LimitRange): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  (lr.spec?.limits ?? []).forEach((item, i) => {
    const p = fieldPath('spec.limits').index(i);
    if (seen.has(item.type)) errs.push(p.child('type').duplicate(item.type));
    seen.add(item.type);
    for (const field of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'] as const) validateResourceList(item[field], p.child(field), errs);
    if (item.type === 'Pod') {
      if (item.default && Object.keys(item.default).length) errs.push(p.child('default').forbidden("may not be specified when `type` is 'Pod'"));
      if (item.defaultRequest && Object.keys(item.defaultRequest).length) errs.push(p.child('defaultRequest').forbidden("may not be specified when `type` is 'Pod'"));
    }
    if (item.type === 'PersistentVolumeClaim') {
      for (const field of ['min', 'max'] as const)
        for (const k of Object.keys(item[field] ?? {}))
          if (k !== 'storage') errs.push(p.child(field).key(k).notSupported(k, ['storage']));
    }
    const keys = new Set([...Object.keys(item.min ?? {}), ...Object.keys(item.max ?? {}), ...Object.keys(item.default ?? {}), ...Object.keys(item.defaultRequest ?? {})]);
    for (const k of keys) {
      const min = item.min?.[k];
      const max = item.max?.[k];
      const def = item.default?.[k];
      const defReq = item.defaultRequest?.[k];
      const n = quantityToNumber;
      if (min !== undefined && max !== undefined && n(min) > n(max)) errs.push(p.child('min').key(k).invalid(min, `min value ${min} is greater than max value ${max}`));
      if (defReq !== undefined && min !== undefined && n(min) > n(defReq)) errs.push(p.child('defaultRequest').key(k).invalid(defReq, `min value ${min} is greater than default request value ${defReq}`));
      if (defReq !== undefined && max !== undefined && n(defReq) > n(max)) errs.push(p.child('defaultRequest').key(k).invalid(defReq, `default request value ${defReq} is greater than max value ${max}`));
      if (defReq !== undefined && def !== undefined && n(defReq) > n(def)) errs.push(p.child('defaultRequest').key(k).invalid(defReq, `default request value ${defReq} is greater than default limit value ${def}`));
      if (def !== undefined && min !== undefined && n(min) > n(def)) errs.push(p.child('default').key(k).invalid(min, `min value ${min} is greater than default value ${def}`));
      if (def !== undefined && max !== undefined && n(def) > n(max)) errs.push(p.child('default').key(k).invalid(max, `default value ${def} is greater than max value ${max}`));
    }
    for (const [k, ratio] of Object.entries(item.maxLimitRequestRatio ?? {})) {
      if (quantityToNumber(ratio) < 1) errs.push(p.child('maxLimitRequestRatio').key(k).invalid(ratio, `ratio ${ratio} is less than 1`));
      const min = item.min?.[k];
      const max = item.max?.[k];
      if (min !== undefined && max !== undefined && quantityToNumber(min) > 0 && quantityToNumber(max) / quantityToNumber(min) < quantityToNumber(ratio)) {
        errs.push(p.child('maxLimitRequestRatio').key(k).invalid(ratio, `ratio ${ratio} is greater than max/min = ${(quantityToNumber(max) / quantityToNumber(min)).toFixed(6).replace(/\.?0+$/, '')}`));
      }
    }
  });
  return errs;
}
