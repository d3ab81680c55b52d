/** Defaulting and validation of PriorityClasses. */
import { fieldPath, type FieldError } from '../../machinery/index.js';
import { highestUserDefinablePriority, systemPriorityClasses, type PriorityClass } from './v1.js';

export function defaultPriorityClass(pc: PriorityClass) {
  pc.preemptionPolicy ??= 'PreemptLowerPriority';
}

/** Whether name and value are those of a built-in class; an error message otherwise. */
function checkSystemPriorityClass(pc: PriorityClass): string | undefined {
  const known = systemPriorityClasses.find((s) => s.name === pc.metadata.name);
  if (!known) return `${pc.metadata.name} is not a known system priority class`;
  if (known.value !== pc.value) return `value of ${known.name} PriorityClass must be ${known.value}`;
  return undefined;
}

export function validatePriorityClass(pc: PriorityClass, old?: PriorityClass): FieldError[] {
  const errs: FieldError[] = [];
  const name = pc.metadata.name ?? '';
  if (name.startsWith('system-')) {
    const why = checkSystemPriorityClass(pc);
    if (why) errs.push(fieldPath('metadata.name').forbidden(`priority class names with 'system-' prefix are reserved for system use only. error: ${why}`));
  } else if (pc.value > highestUserDefinablePriority) {
    errs.push(fieldPath('value').forbidden(`maximum allowed value of a user defined priority is ${highestUserDefinablePriority}`));
  }
  if (old) {
    if (old.value !== pc.value) errs.push(fieldPath('value').forbidden('may not be changed in an update.'));
    if (old.preemptionPolicy !== pc.preemptionPolicy) errs.push(fieldPath('preemptionPolicy').invalid(pc.preemptionPolicy, 'field is immutable'));
  }
  return errs;
}
