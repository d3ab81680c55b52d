/** Validation of RuntimeClasses. */
import { fieldPath, isDNS1123Label, isQualifiedName, isValidLabelValue, type FieldError } from '../../machinery/index.js';
import { validateResourceQuantity } from '../core/v1-quota-validation.js';
import type { RuntimeClass } from './v1.js';

export function validateRuntimeClass(rc: RuntimeClass, old?: RuntimeClass): FieldError[] {
  const errs: FieldError[] = [];
  const handler = rc.handler ?? '';
  if (!handler) errs.push(fieldPath('handler').required());
  else for (const m of isDNS1123Label(handler)) errs.push(fieldPath('handler').invalid(handler, m));
  for (const [k, q] of Object.entries(rc.overhead?.podFixed ?? {})) validateResourceQuantity(k, q, fieldPath('overhead.podFixed').key(k), errs);
  for (const [k, v] of Object.entries(rc.scheduling?.nodeSelector ?? {})) {
    for (const m of isQualifiedName(k)) errs.push(fieldPath('scheduling.nodeSelector').invalid(k, m));
    for (const m of isValidLabelValue(v)) errs.push(fieldPath('scheduling.nodeSelector').invalid(v, m));
  }
  (rc.scheduling?.tolerations ?? []).forEach((t, i) => {
    const tp = fieldPath('scheduling.tolerations').index(i);
    if (t.operator === 'Exists' && t.value) errs.push(tp.child('operator').invalid(t.value, "value must be empty when `operator` is 'Exists'"));
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') errs.push(tp.child('effect').invalid(t.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
  });
  if (old && old.handler !== rc.handler) errs.push(fieldPath('handler').invalid(rc.handler, 'field is immutable'));
  return errs;
}
