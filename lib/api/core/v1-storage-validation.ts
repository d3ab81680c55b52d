/** Validation of PersistentVolumes and PersistentVolumeClaims, as upstream's core validation checks them. */
import { fieldPath, jsonEqual, labelSelectorFromObject, type FieldError, type FieldPath } from '../../machinery/index.js';
import { quantityToNumber } from './v1-validation.js';
import { persistentVolumeSourceNames, accessModes, type PersistentVolumeClaimSpec } from './v1-volume.js';
import type { PersistentVolume, PersistentVolumeClaim } from './v1.js';

function validateAccessModes(modes: string[] | undefined, p: FieldPath, errs: FieldError[], requiredDetail = '') {
  if (!modes || modes.length === 0) {
    errs.push(p.required(requiredDetail || undefined));
    return;
  }
  if (modes.includes('ReadWriteOncePod') && modes.length > 1) errs.push(p.forbidden('may not use ReadWriteOncePod with other access modes'));
  modes.forEach((m, i) => {
    if (!(accessModes as readonly string[]).includes(m)) errs.push(p.index(i).notSupported(m, accessModes));
  });
}

function validateSelector(sel: PersistentVolumeClaimSpec['selector'], p: FieldPath, errs: FieldError[]) {
  if (!sel) return;
  try {
    labelSelectorFromObject(sel);
  } catch (err) {
    errs.push(p.invalid(sel, (err as Error).message));
  }
}

export function validatePersistentVolume(pv: PersistentVolume, old?: PersistentVolume): FieldError[] {
  const errs: FieldError[] = [];
  const p = fieldPath('spec');
  const spec = pv.spec;
  if (!spec) return [p.required()];
  validateAccessModes(spec.accessModes, p.child('accessModes'), errs);
  const capacity = spec.capacity ?? {};
  if (Object.keys(capacity).length === 0) errs.push(p.child('capacity').required());
  else if (!('storage' in capacity) || Object.keys(capacity).length > 1) errs.push(p.child('capacity').notSupported(capacity, ['storage']));
  for (const [k, q] of Object.entries(capacity)) {
    const n = quantityToNumber(q);
    if (n < 0) errs.push(p.child('capacity').key(k).invalid(q, 'must be greater than or equal to 0'));
    else if (n === 0) errs.push(p.child('capacity').key(k).invalid(q, 'must be greater than zero'));
  }
  const sources = persistentVolumeSourceNames.filter((s) => spec[s] !== undefined);
  if (sources.length === 0) errs.push(p.required('must specify a volume type'));
  else if (sources.length > 1) errs.push(p.child(sources[1]!).forbidden('may not specify more than 1 volume type'));
  if (spec.hostPath && !spec.hostPath.path) errs.push(p.child('hostPath.path').required());
  if (spec.nfs) {
    if (!spec.nfs.server) errs.push(p.child('nfs.server').required());
    if (!spec.nfs.path) errs.push(p.child('nfs.path').required());
    else if (!spec.nfs.path.startsWith('/')) errs.push(p.child('nfs.path').invalid(spec.nfs.path, 'must be an absolute path'));
  }
  if (spec.local) {
    if (!spec.local.path) errs.push(p.child('local.path').required());
    if (!spec.nodeAffinity?.required) errs.push(p.child('nodeAffinity').required('Local volume requires node affinity'));
  }
  if (spec.csi) {
    if (!spec.csi.driver) errs.push(p.child('csi.driver').required());
    if (!spec.csi.volumeHandle) errs.push(p.child('csi.volumeHandle').required());
  }
  if (spec.persistentVolumeReclaimPolicy === 'Recycle' && !spec.hostPath && !spec.nfs)
    errs.push(p.child('persistentVolumeReclaimPolicy').notSupported('Recycle', ['Delete', 'Retain']));
  if (spec.persistentVolumeReclaimPolicy === 'Recycle' && spec.hostPath?.path === '/')
    errs.push(p.child('persistentVolumeReclaimPolicy').forbidden("may not be 'recycle' for a hostPath mount of '/'"));
  if (spec.nodeAffinity && spec.nodeAffinity.required && spec.nodeAffinity.required.nodeSelectorTerms.length === 0)
    errs.push(p.child('nodeAffinity.required.nodeSelectorTerms').required('must have at least one node selector term'));
  if (old?.spec) {
    // Only a few fields may change once the volume exists: capacity and reclaim policy, mount
    // options, the claim it is bound to, node affinity (when unset before) and its attributes class.
    const strip = (s: NonNullable<PersistentVolume['spec']>) => {
      const c = structuredClone(s) as Record<string, unknown>;
      for (const k of ['capacity', 'persistentVolumeReclaimPolicy', 'mountOptions', 'claimRef', 'storageClassName', 'volumeAttributesClassName', 'nodeAffinity']) delete c[k];
      return c;
    };
    if (!jsonEqual(strip(spec), strip(old.spec)))
      errs.push(p.child('persistentvolumesource').forbidden('spec.persistentvolumesource is immutable after creation'));
    if (old.spec.volumeMode !== spec.volumeMode) errs.push(p.child('volumeMode').invalid(spec.volumeMode, 'field is immutable'));
    if (old.spec.nodeAffinity && !jsonEqual(old.spec.nodeAffinity, spec.nodeAffinity)) errs.push(p.child('nodeAffinity').invalid(spec.nodeAffinity, 'field is immutable'));
  }
  return errs;
}

export function validatePersistentVolumeClaimSpec(spec: PersistentVolumeClaimSpec | undefined, p: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!spec) return [p.required()];
  validateAccessModes(spec.accessModes, p.child('accessModes'), errs, 'at least 1 access mode is required');
  validateSelector(spec.selector, p.child('selector'), errs);
  const storage = spec.resources?.requests?.storage;
  const sp = p.child('resources').key('storage');
  if (storage === undefined) errs.push(sp.required());
  else if (quantityToNumber(storage) <= 0) errs.push(sp.invalid(storage, 'must be greater than zero'));
  if (spec.dataSource) {
    if (!spec.dataSource.name) errs.push(p.child('dataSource.name').required());
    if (!spec.dataSource.kind) errs.push(p.child('dataSource.kind').required());
    if (!spec.dataSource.apiGroup && spec.dataSource.kind !== 'PersistentVolumeClaim')
      errs.push(p.child('dataSource').invalid(spec.dataSource, 'must be \'PersistentVolumeClaim\' when referencing the default apiGroup'));
  }
  if (spec.dataSource && spec.dataSourceRef && !spec.dataSourceRef.namespace) {
    const a = { apiGroup: spec.dataSource.apiGroup ?? '', kind: spec.dataSource.kind, name: spec.dataSource.name };
    const b = { apiGroup: spec.dataSourceRef.apiGroup ?? '', kind: spec.dataSourceRef.kind, name: spec.dataSourceRef.name };
    if (!jsonEqual(a, b)) errs.push(p.child('dataSource').invalid(spec.dataSource, 'must match dataSourceRef'));
  }
  return errs;
}

export function validatePersistentVolumeClaim(pvc: PersistentVolumeClaim, old?: PersistentVolumeClaim): FieldError[] {
  const errs = validatePersistentVolumeClaimSpec(pvc.spec, fieldPath('spec'));
  if (old?.spec && pvc.spec) {
    // Bound claims may grow (resources.requests); binding fills in volumeName once.
    const bound = old.status?.phase === 'Bound';
    const strip = (s: PersistentVolumeClaimSpec) => {
      const c = structuredClone(s) as Record<string, unknown> & PersistentVolumeClaimSpec;
      if (bound && c.resources) delete c.resources.requests;
      delete c.volumeAttributesClassName;
      if (!old.spec!.volumeName) delete c.volumeName;
      return c;
    };
    if (!jsonEqual(strip(pvc.spec), strip(old.spec)))
      errs.push(fieldPath('spec').forbidden('spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
    // A request may shrink (to recover from a failed expansion), but not to the volume's size or
    // below; a claim bound to a volume bigger than its request is not affected otherwise.
    const before = old.spec.resources?.requests?.storage;
    const after = pvc.spec.resources?.requests?.storage;
    const capacity = old.status?.capacity?.storage ?? 0;
    if (bound && before !== undefined && after !== undefined && quantityToNumber(after) < quantityToNumber(before) && quantityToNumber(after) <= quantityToNumber(capacity))
      errs.push(fieldPath('spec.resources.requests.storage').forbidden('field can not be less than status.capacity'));
  }
  return errs;
}
