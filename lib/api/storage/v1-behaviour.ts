/** Defaulting and validation of StorageClasses. */
import { fieldPath, isQualifiedName, jsonEqual, type FieldError } from '../../machinery/index.js';
import type { StorageClass } from './v1.js';

const maxParameters = 512;
const maxParametersSize = 256 * 1024;

export function defaultStorageClass(sc: StorageClass) {
  sc.reclaimPolicy ??= 'Delete';
  sc.volumeBindingMode ??= 'Immediate';
}

export function validateStorageClass(sc: StorageClass, old?: StorageClass): FieldError[] {
  const errs: FieldError[] = [];
  const prov = sc.provisioner ?? '';
  if (!prov) errs.push(fieldPath('provisioner').required());
  else {
    for (const m of isQualifiedName(prov.toLowerCase())) errs.push(fieldPath('provisioner').invalid(prov, m));
  }
  const params = Object.entries(sc.parameters ?? {});
  if (params.length > maxParameters) errs.push(fieldPath('parameters').tooLong(maxParameters));
  let size = 0;
  for (const [k, v] of params) {
    if (!k) errs.push(fieldPath('parameters').invalid(sc.parameters, 'key name must not be empty'));
    size += k.length + v.length;
  }
  if (size > maxParametersSize) errs.push(fieldPath('parameters').tooLong(maxParametersSize));
  (sc.allowedTopologies ?? []).forEach((term, i) => {
    const tp = fieldPath('allowedTopologies').index(i);
    if (!term.matchLabelExpressions?.length) errs.push(tp.child('matchLabelExpressions').required('must have at least one label expression'));
    (term.matchLabelExpressions ?? []).forEach((e, j) => {
      const ep = tp.child('matchLabelExpressions').index(j);
      for (const m of isQualifiedName(e.key)) errs.push(ep.child('key').invalid(e.key, m));
      if (e.values.length === 0) errs.push(ep.child('values').required('must specify as least one value'));
    });
  });
  if (old) {
    if (!jsonEqual(old.parameters ?? {}, sc.parameters ?? {})) errs.push(fieldPath('parameters').forbidden('updates to parameters are forbidden.'));
    if (old.provisioner !== sc.provisioner) errs.push(fieldPath('provisioner').forbidden('updates to provisioner are forbidden.'));
    if (old.reclaimPolicy !== sc.reclaimPolicy) errs.push(fieldPath('reclaimPolicy').forbidden('updates to reclaimPolicy are forbidden.'));
    if (old.volumeBindingMode !== sc.volumeBindingMode) errs.push(fieldPath('volumeBindingMode').invalid(sc.volumeBindingMode, 'field is immutable'));
  }
  return errs;
}
