/** Checks and bookkeeping for metadata, common to every kind (upstream's ValidateObjectMeta). */
import { randomUUID, randomInt } from 'node:crypto';
import type { AnyResourceType, KubeObject } from '../api/index.js';
import {
  fieldPath,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  validateAnnotations,
  validateLabels,
  type FieldError,
} from '../machinery/index.js';

/** The name checks of a kind, as messages. */
export function validateName(rt: AnyResourceType, name: string): string[] {
  switch (rt.nameFormat) {
    case 'label':
      return isDNS1123Label(name);
    case 'dns1035':
      return isDNS1035Label(name);
    case 'path-segment':
      if (name === '.' || name === '..') return [`may not be '${name}'`];
      return /[/%]/.test(name) ? [`may not contain '/' or '%'`] : [];
    default:
      return isDNS1123Subdomain(name);
  }
}

export function validateObjectMeta(rt: AnyResourceType, obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const m = obj.metadata;
  const p = fieldPath('metadata');
  if (!m.name) errs.push(p.child('name').required('name or generateName is required'));
  else for (const msg of validateName(rt, m.name)) errs.push(p.child('name').invalid(m.name, msg));
  if (m.generateName && !m.name) {
    // checked through the generated name
  }
  errs.push(...validateLabels(m.labels, p.child('labels')));
  errs.push(...validateAnnotations(m.annotations, p.child('annotations')));
  (m.finalizers ?? []).forEach((f, i) => {
    for (const msg of isQualifiedName(f)) errs.push(p.child('finalizers').index(i).invalid(f, msg));
  });
  let controllers = 0;
  (m.ownerReferences ?? []).forEach((r, i) => {
    const rp = p.child('ownerReferences').index(i);
    if (!r.apiVersion) errs.push(rp.child('apiVersion').invalid(r.apiVersion ?? '', 'version must not be empty'));
    if (!r.kind) errs.push(rp.child('kind').invalid(r.kind ?? '', 'kind must not be empty'));
    if (!r.name) errs.push(rp.child('name').invalid(r.name ?? '', 'name must not be empty'));
    if (!r.uid) errs.push(rp.child('uid').invalid(r.uid ?? '', 'uid must not be empty'));
    if (r.controller) controllers++;
  });
  if (controllers > 1) errs.push(p.child('ownerReferences').invalid(m.ownerReferences, 'Only one reference can have Controller set to true'));
  if (m.generation !== undefined && m.generation < 0) errs.push(p.child('generation').invalid(m.generation, 'must be greater than or equal to 0'));
  return errs;
}

export function validateObjectMetaUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const p = fieldPath('metadata');
  if (obj.metadata.name !== old.metadata.name) errs.push(p.child('name').invalid(obj.metadata.name, 'field is immutable'));
  if ((obj.metadata.namespace ?? '') !== (old.metadata.namespace ?? '')) errs.push(p.child('namespace').invalid(obj.metadata.namespace, 'field is immutable'));
  if (obj.metadata.uid !== old.metadata.uid) errs.push(p.child('uid').invalid(obj.metadata.uid, 'field is immutable'));
  if (old.metadata.deletionTimestamp) {
    const added = (obj.metadata.finalizers ?? []).filter((f) => !(old.metadata.finalizers ?? []).includes(f));
    if (added.length) errs.push(p.child('finalizers').forbidden(`no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`));
  }
  return errs;
}

const nameAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** n random characters of upstream's name alphabet (no vowels, no look-alikes). */
export function randomNameSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += nameAlphabet[randomInt(nameAlphabet.length)];
  return s;
}

/** generateName + five random characters, as upstream's SimpleNameGenerator. */
export function generateName(base: string): string {
  return (base.length > 58 ? base.slice(0, 58) : base) + randomNameSuffix();
}

export function newUID(): string {
  return randomUUID();
}
