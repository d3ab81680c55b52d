/** Validation for apps/v1 workloads: selectors that match their templates, counts, strategies. */
import { fieldPath, jsonEqual, stableStringify, labelSelectorFromObject, type FieldError, type FieldPath, validateLabels } from '../../machinery/index.js';
import { validatePodSpec } from '../core/v1-validation.js';
import { validatePersistentVolumeClaimSpec } from '../core/v1-storage-validation.js';
import type { LabelSelector } from '../meta/v1.js';
import type { PodTemplateSpec } from '../core/v1.js';
import type { DaemonSet, Deployment, ReplicaSet, StatefulSet } from './v1.js';

function fmtMap(m: Record<string, string> | undefined): string {
  return `map[string]string{${Object.entries(m ?? {})
    .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
    .join(', ')}}`;
}

/** A selector (required, non-empty) and a template whose labels it matches. */
export function validateSelectorAndTemplate(
  selector: LabelSelector | undefined,
  template: PodTemplateSpec | undefined,
  p: FieldPath,
  opts: { allowedRestartPolicies?: string[] } = {},
): FieldError[] {
  const errs: FieldError[] = [];
  if (!selector) errs.push(p.child('selector').required());
  else if (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0)
    errs.push(p.child('selector').invalid(selector, 'empty selector is invalid for deployment'));
  if (!template) {
    errs.push(p.child('template').required());
    return errs;
  }
  const labels = template.metadata?.labels;
  errs.push(...validateLabels(labels, p.child('template.metadata.labels')));
  if (selector && !labelSelectorFromObject(selector).matches(labels ?? {}))
    errs.push(p.child('template.metadata.labels').invalid(fmtMap(labels), '`selector` does not match template `labels`'));
  errs.push(...validatePodSpec(template.spec, p.child('template.spec')));
  const rp = template.spec?.restartPolicy;
  const allowed = opts.allowedRestartPolicies ?? ['Always'];
  if (rp && !allowed.includes(rp)) errs.push(p.child('template.spec.restartPolicy').notSupported(rp, allowed));
  return errs;
}

function nonNegative(v: number | undefined, p: FieldPath, errs: FieldError[]) {
  if (v !== undefined && v < 0) errs.push(p.invalid(v, 'must be greater than or equal to 0'));
}

function selectorImmutable(a: LabelSelector | undefined, b: LabelSelector | undefined, errs: FieldError[]) {
  if (!jsonEqual(a ?? null, b ?? null)) errs.push(fieldPath('spec.selector').invalid(a, 'field is immutable'));
}

/** An int or a percentage string such as "25%". */
function validateIntOrPercent(v: number | string | undefined, p: FieldPath, errs: FieldError[]) {
  if (v === undefined) return;
  if (typeof v === 'number') return nonNegative(v, p, errs);
  if (!/^\d+%$/.test(v)) errs.push(p.invalid(v, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"));
  else if (Number(v.slice(0, -1)) > 100) errs.push(p.invalid(v, 'must not be greater than 100%'));
}

export function validateDeployment(d: Deployment, old?: Deployment): FieldError[] {
  const p = fieldPath('spec');
  if (!d.spec) return [p.required()];
  const errs = validateSelectorAndTemplate(d.spec.selector, d.spec.template, p);
  nonNegative(d.spec.replicas, p.child('replicas'), errs);
  nonNegative(d.spec.minReadySeconds, p.child('minReadySeconds'), errs);
  nonNegative(d.spec.revisionHistoryLimit, p.child('revisionHistoryLimit'), errs);
  const ru = d.spec.strategy?.rollingUpdate;
  if (d.spec.strategy?.type === 'Recreate' && ru) errs.push(p.child('strategy.rollingUpdate').forbidden('may not be specified when strategy `type` is \'Recreate\''));
  if (ru) {
    validateIntOrPercent(ru.maxSurge, p.child('strategy.rollingUpdate.maxSurge'), errs);
    validateIntOrPercent(ru.maxUnavailable, p.child('strategy.rollingUpdate.maxUnavailable'), errs);
    const zero = (v: number | string | undefined) => v === 0 || v === '0%';
    if (zero(ru.maxSurge) && zero(ru.maxUnavailable)) errs.push(p.child('strategy.rollingUpdate.maxUnavailable').invalid(ru.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
  }
  if (d.spec.progressDeadlineSeconds !== undefined && d.spec.minReadySeconds !== undefined && d.spec.progressDeadlineSeconds <= d.spec.minReadySeconds)
    errs.push(p.child('progressDeadlineSeconds').invalid(d.spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
  if (old) selectorImmutable(d.spec.selector, old.spec?.selector, errs);
  return errs;
}

export function validateReplicaSet(rs: ReplicaSet, old?: ReplicaSet): FieldError[] {
  const p = fieldPath('spec');
  if (!rs.spec) return [p.required()];
  const errs = validateSelectorAndTemplate(rs.spec.selector, rs.spec.template, p);
  nonNegative(rs.spec.replicas, p.child('replicas'), errs);
  if (old) selectorImmutable(rs.spec.selector, old.spec?.selector, errs);
  return errs;
}

export function validateDaemonSet(ds: DaemonSet, old?: DaemonSet): FieldError[] {
  const p = fieldPath('spec');
  if (!ds.spec) return [p.required()];
  const errs = validateSelectorAndTemplate(ds.spec.selector, ds.spec.template, p);
  if (old) selectorImmutable(ds.spec.selector, old.spec?.selector, errs);
  return errs;
}

export function validateStatefulSet(ss: StatefulSet, old?: StatefulSet): FieldError[] {
  const p = fieldPath('spec');
  if (!ss.spec) return [p.required()];
  // Containers mount the claim templates by name: each pod gets a persistentVolumeClaim volume
  // of that name, so the pod spec is checked as the pods will have it.
  const claimVolumes = (ss.spec.volumeClaimTemplates ?? []).filter((t) => t.metadata?.name).map((t) => ({ name: t.metadata!.name!, persistentVolumeClaim: { claimName: t.metadata!.name! } }));
  const template = ss.spec.template && claimVolumes.length ? { ...ss.spec.template, spec: { ...ss.spec.template.spec!, volumes: [...(ss.spec.template.spec?.volumes ?? []).filter((v) => !claimVolumes.some((c) => c.name === v.name)), ...claimVolumes] } } : ss.spec.template;
  const errs = validateSelectorAndTemplate(ss.spec.selector, template, p);
  if (ss.spec.template?.spec?.activeDeadlineSeconds !== undefined) errs.push(p.child('template.spec.activeDeadlineSeconds').forbidden('activeDeadlineSeconds in StatefulSet is not Supported'));
  nonNegative(ss.spec.replicas, p.child('replicas'), errs);
  (ss.spec.volumeClaimTemplates ?? []).forEach((t, i) => {
    const tp = p.child('volumeClaimTemplates').index(i);
    if (!t.metadata?.name) errs.push(tp.child('metadata.name').required());
    errs.push(...validatePersistentVolumeClaimSpec(t.spec, tp.child('spec')));
  });
  if (old) {
    selectorImmutable(ss.spec.selector, old.spec?.selector, errs);
    const strip = (s: StatefulSet['spec']) => stableStringify({ ...s, replicas: 0, template: null, updateStrategy: null, minReadySeconds: 0, persistentVolumeClaimRetentionPolicy: null, ordinals: null, revisionHistoryLimit: null });
    if (strip(ss.spec) !== strip(old.spec))
      errs.push(p.forbidden("updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
  }
  return errs;
}
