/** Defaulting and validation of autoscaling/v2 HorizontalPodAutoscalers. */
import { fieldPath, type FieldError, type FieldPath } from '../../machinery/index.js';
import { quantityToNumber } from '../core/v1-validation.js';
import type { HorizontalPodAutoscaler } from './v2.js';

type Spec = NonNullable<HorizontalPodAutoscaler['spec']>;
type Rules = NonNullable<NonNullable<Spec['behavior']>['scaleUp']>;
type MetricSpec = NonNullable<Spec['metrics']>[number];
type MetricTarget = NonNullable<MetricSpec['resource']>['target'];

/** Average CPU utilization targeted when an autoscaler names no metric. */
export const defaultCPUUtilization = 80;

function fillRules(rules: Rules | undefined, defaults: Pick<Rules, 'stabilizationWindowSeconds'> & Required<Pick<Rules, 'selectPolicy' | 'policies'>>): Rules {
  const r = rules ?? {};
  if (defaults.stabilizationWindowSeconds !== undefined) r.stabilizationWindowSeconds ??= defaults.stabilizationWindowSeconds;
  r.selectPolicy ??= defaults.selectPolicy;
  if (!r.policies || r.policies.length === 0) r.policies = defaults.policies.map((p) => ({ ...p }));
  return r;
}

export function defaultHorizontalPodAutoscaler(hpa: HorizontalPodAutoscaler) {
  const spec = hpa.spec;
  if (!spec) return;
  spec.minReplicas ??= 1;
  if (!spec.metrics || spec.metrics.length === 0)
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: defaultCPUUtilization } } }];
  // Behaviour is filled in only when the user gave some; otherwise the controller's defaults apply.
  if (spec.behavior) {
    spec.behavior.scaleUp = fillRules(spec.behavior.scaleUp, {
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [
        { type: 'Pods', value: 4, periodSeconds: 15 },
        { type: 'Percent', value: 100, periodSeconds: 15 },
      ],
    });
    // As upstream, the scale-down window stays unset: the controller's
    // --horizontal-pod-autoscaler-downscale-stabilization (5 minutes by default) applies.
    spec.behavior.scaleDown = fillRules(spec.behavior.scaleDown, {
      selectPolicy: 'Max',
      policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
    });
  }
}

function validateTarget(t: MetricTarget, p: FieldPath, errs: FieldError[]) {
  if (t.value !== undefined && quantityToNumber(t.value) <= 0) errs.push(p.child('value').invalid(t.value, 'must be positive'));
  if (t.averageValue !== undefined && quantityToNumber(t.averageValue) <= 0) errs.push(p.child('averageValue').invalid(t.averageValue, 'must be positive'));
  if (t.averageUtilization !== undefined && t.averageUtilization < 1) errs.push(p.child('averageUtilization').invalid(t.averageUtilization, 'must be greater than 0'));
}

const sourceField = { Object: 'object', Pods: 'pods', Resource: 'resource', ContainerResource: 'containerResource', External: 'external' } as const;

function validateMetric(m: MetricSpec, p: FieldPath, errs: FieldError[]) {
  const expected = sourceField[m.type];
  const present = (Object.values(sourceField) as string[]).filter((f) => (m as Record<string, unknown>)[f] !== undefined);
  if ((m as Record<string, unknown>)[expected] === undefined) errs.push(p.child(expected).required('must populate information for the given metric source'));
  if (present.length > 1 || (present.length === 1 && present[0] !== expected))
    for (const f of present) if (f !== expected) errs.push(p.child(f).forbidden('must populate the given metric source only'));
  const resource = m.type === 'Resource' ? m.resource : m.type === 'ContainerResource' ? m.containerResource : undefined;
  if (resource) {
    const sp = p.child(expected);
    if (!resource.name) errs.push(sp.child('name').required('must specify a resource name'));
    validateTarget(resource.target, sp.child('target'), errs);
    if (resource.target.averageUtilization === undefined && resource.target.averageValue === undefined)
      errs.push(sp.child('target.averageUtilization').required('must set either a target raw value or a target utilization'));
    if (resource.target.averageUtilization !== undefined && resource.target.averageValue !== undefined)
      errs.push(sp.child('target.averageValue').forbidden('may not set both a target raw value and a target utilization'));
    if (m.type === 'ContainerResource' && m.containerResource && !m.containerResource.container) errs.push(sp.child('container').required('must specify a container'));
  }
  const other = m.type === 'Object' ? m.object : m.type === 'Pods' ? m.pods : m.type === 'External' ? m.external : undefined;
  if (other) {
    const sp = p.child(expected);
    if (!other.metric.name) errs.push(sp.child('metric.name').required('must specify a metric name'));
    validateTarget(other.target, sp.child('target'), errs);
    if (m.type === 'Pods' && other.target.averageValue === undefined) errs.push(sp.child('target.averageValue').required('must specify a positive target averageValue'));
    if (m.type !== 'Pods' && other.target.value === undefined && other.target.averageValue === undefined)
      errs.push(sp.child('target').required('must set either a target value or averageValue'));
  }
}

function validateRules(r: Rules | undefined, p: FieldPath, errs: FieldError[]) {
  if (!r) return;
  const w = r.stabilizationWindowSeconds;
  if (w !== undefined && w < 0) errs.push(p.child('stabilizationWindowSeconds').invalid(w, 'must be greater than or equal to zero'));
  if (w !== undefined && w > 3600) errs.push(p.child('stabilizationWindowSeconds').invalid(w, 'must be less than or equal to 3600'));
  if ((r.policies ?? []).length === 0 && r.selectPolicy !== 'Disabled') errs.push(p.child('policies').required('must specify at least one Policy'));
  (r.policies ?? []).forEach((policy, i) => {
    const pp = p.child('policies').index(i);
    if (policy.periodSeconds <= 0) errs.push(pp.child('periodSeconds').invalid(policy.periodSeconds, 'must be greater than zero'));
    if (policy.periodSeconds > 1800) errs.push(pp.child('periodSeconds').invalid(policy.periodSeconds, 'must be less than or equal to 1800'));
    if (policy.value <= 0) errs.push(pp.child('value').invalid(policy.value, 'must be greater than zero'));
  });
}

export function validateHorizontalPodAutoscaler(hpa: HorizontalPodAutoscaler): FieldError[] {
  const errs: FieldError[] = [];
  const p = fieldPath('spec');
  const spec = hpa.spec;
  if (!spec) return [p.required()];
  if (spec.minReplicas !== undefined && spec.minReplicas < 1) errs.push(p.child('minReplicas').invalid(spec.minReplicas, 'must be greater than or equal to 1'));
  if (spec.maxReplicas < 1) errs.push(p.child('maxReplicas').invalid(spec.maxReplicas, 'must be greater than 0'));
  if (spec.minReplicas !== undefined && spec.maxReplicas < spec.minReplicas) errs.push(p.child('maxReplicas').invalid(spec.maxReplicas, 'must be greater than or equal to `minReplicas`'));
  const ref = spec.scaleTargetRef;
  for (const f of ['kind', 'name'] as const) {
    const v = ref[f];
    if (!v) errs.push(p.child('scaleTargetRef').child(f).required());
    else if (v === '.' || v === '..') errs.push(p.child('scaleTargetRef').child(f).invalid(v, `may not be '${v}'`));
    else if (v.includes('/') || v.includes('%')) errs.push(p.child('scaleTargetRef').child(f).invalid(v, `may not contain '${v.includes('/') ? '/' : '%'}'`));
  }
  (spec.metrics ?? []).forEach((m, i) => validateMetric(m, p.child('metrics').index(i), errs));
  validateRules(spec.behavior?.scaleUp, p.child('behavior.scaleUp'), errs);
  validateRules(spec.behavior?.scaleDown, p.child('behavior.scaleDown'), errs);
  return errs;
}
