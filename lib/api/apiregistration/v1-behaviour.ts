/**
 * Validation of APIServices, as upstream's: the name is `<version>.<group>`, the priorities are
 * in range, a Local APIService (no service) carries no TLS settings. tkube serves every group
 * itself and proxies to no other API server, so an APIService naming a service is refused.
 */
import { fieldPath, isDNS1035Label, isDNS1123Subdomain, isValidPortNum, type FieldError } from '../../machinery/index.js';
import type { APIService } from './v1.js';

export function validateAPIService(a: APIService): FieldError[] {
  const errs: FieldError[] = [];
  const spec = a.spec ?? ({} as APIService['spec']);
  const group = spec.group ?? '';
  const version = spec.version ?? '';
  const name = a.metadata.name ?? '';
  const wanted = `${version}.${group}`;
  if (name !== wanted) errs.push(fieldPath('metadata.name').invalid(name, `must be \`spec.version+"."+spec.group\`: "${wanted}"`));
  if (!group && version !== 'v1') errs.push(fieldPath('spec.group').required('only v1 may have an empty group and it better be legacy kube'));
  if (group) for (const m of isDNS1123Subdomain(group)) errs.push(fieldPath('spec.group').invalid(group, m));
  if (!version) errs.push(fieldPath('spec.version').required());
  else for (const m of isDNS1035Label(version)) errs.push(fieldPath('spec.version').invalid(version, m));
  if (!(spec.groupPriorityMinimum > 0 && spec.groupPriorityMinimum <= 20000)) errs.push(fieldPath('spec.groupPriorityMinimum').invalid(spec.groupPriorityMinimum, 'must be positive and less than 20000'));
  if (!(spec.versionPriority > 0 && spec.versionPriority <= 1000)) errs.push(fieldPath('spec.versionPriority').invalid(spec.versionPriority, 'must be positive and less than 1000'));
  const svc = spec.service;
  if (!svc) {
    if (spec.caBundle) errs.push(fieldPath('spec.caBundle').invalid(`${spec.caBundle.length} bytes`, 'local APIServices may not have a caBundle'));
    if (spec.insecureSkipTLSVerify) errs.push(fieldPath('spec.insecureSkipTLSVerify').invalid(true, 'local APIServices may not have insecureSkipTLSVerify'));
    return errs;
  }
  if (!svc.namespace) errs.push(fieldPath('spec.service.namespace').required());
  if (!svc.name) errs.push(fieldPath('spec.service.name').required());
  if (svc.port !== undefined && !isValidPortNum(svc.port)) errs.push(fieldPath('spec.service.port').invalid(svc.port, 'port is not valid: must be between 1 and 65535, inclusive'));
  if (spec.insecureSkipTLSVerify && spec.caBundle) errs.push(fieldPath('spec.insecureSkipTLSVerify').invalid(true, 'may not be true if caBundle is present'));
  errs.push(fieldPath('spec.service').forbidden('tkube serves every API group itself and does not proxy to other API servers; only Local APIServices (without a service) are supported'));
  return errs;
}

/** The condition every Local APIService has: this API server serves it, so it is always available. */
export function localAvailable(now: string) {
  return { type: 'Available', status: 'True', lastTransitionTime: now, reason: 'Local', message: 'Local APIServices are always available' };
}
