/**
 * The storage admission plugins, on by default as upstream:
 *
 *   - DefaultStorageClass: a PersistentVolumeClaim created without spec.storageClassName gets
 *     the default StorageClass (annotated storageclass.kubernetes.io/is-default-class: "true";
 *     the newest one when there are several). An explicit "" means "no class" and is kept.
 *   - StorageObjectInUseProtection: PersistentVolumes and PersistentVolumeClaims are created
 *     with the kubernetes.io/pv-protection and kubernetes.io/pvc-protection finalizers, which
 *     the pv-protection and pvc-protection controllers remove once nothing uses them.
 *   - PersistentVolumeClaimResize: a claim grows only if Bound and its class allows expansion.
 *   - DefaultIngressClass: the same for Ingresses and IngressClasses (annotated
 *     ingressclass.kubernetes.io/is-default-class: "true"); an Ingress naming its class with the
 *     old kubernetes.io/ingress.class annotation keeps it.
 */
import { pvProtectionFinalizer, pvcProtectionFinalizer, quantityToNumber, type KubeObject, type PersistentVolumeClaim, type StorageClass } from '../../api/index.js';
import { defaultStorageClassAnnotations, newestDefault } from '../../machinery/index.js';
import type { Registry } from '../../registry/index.js';
import { markMutated, type AdmissionPlugin } from './chain.js';
import { admissionForbidden, listCached, lookup } from './lookup.js';

const defaultIngressClassAnnotation = 'ingressclass.kubernetes.io/is-default-class';
const legacyIngressClassAnnotation = 'kubernetes.io/ingress.class';

function isCreate(a: { operation: string; subresource: string; object?: unknown }): boolean {
  return a.operation === 'CREATE' && a.subresource === '' && !!a.object;
}

export function defaultStorageClass(registry: Registry): AdmissionPlugin {
  return {
    name: 'DefaultStorageClass',
    async mutate(a) {
      if (a.group !== '' || a.resource !== 'persistentvolumeclaims' || !isCreate(a)) return;
      const pvc = a.object as PersistentVolumeClaim;
      const spec = (pvc.spec ??= {});
      if (spec.storageClassName !== undefined && spec.storageClassName !== null) return;
      const def = newestDefault(listCached(registry, 'storage.k8s.io', 'storageclasses'), defaultStorageClassAnnotations);
      if (!def) return;
      spec.storageClassName = def.metadata.name;
      markMutated(a.object, ['spec', 'storageClassName']);
    },
  };
}

export function storageObjectInUseProtection(): AdmissionPlugin {
  return {
    name: 'StorageObjectInUseProtection',
    async mutate(a) {
      if (a.group !== '' || !isCreate(a)) return;
      const finalizer = a.resource === 'persistentvolumes' ? pvProtectionFinalizer : a.resource === 'persistentvolumeclaims' ? pvcProtectionFinalizer : undefined;
      if (!finalizer) return;
      const meta = a.object!.metadata;
      if (meta.finalizers?.includes(finalizer)) return;
      meta.finalizers = [...(meta.finalizers ?? []), finalizer];
      markMutated(a.object, ['metadata', 'finalizers']);
    },
  };
}

export function defaultIngressClass(registry: Registry): AdmissionPlugin {
  return {
    name: 'DefaultIngressClass',
    async mutate(a) {
      if (a.group !== 'networking.k8s.io' || a.resource !== 'ingresses' || !isCreate(a)) return;
      const ing = a.object as KubeObject & { spec?: { ingressClassName?: string } };
      if (ing.spec?.ingressClassName || ing.metadata.annotations?.[legacyIngressClassAnnotation] !== undefined) return;
      const def = newestDefault(listCached(registry, 'networking.k8s.io', 'ingressclasses'), [defaultIngressClassAnnotation]);
      if (!def) return;
      (ing.spec ??= {}).ingressClassName = def.metadata.name;
      markMutated(a.object, ['spec', 'ingressClassName']);
    },
  };
}

/**
 * PersistentVolumeClaimResize: a claim may grow only once Bound, and only if its StorageClass
 * says allowVolumeExpansion: true (upstream's texts).
 */
export function persistentVolumeClaimResize(registry: Registry): AdmissionPlugin {
  return {
    name: 'PersistentVolumeClaimResize',
    async validate(a) {
      if (a.group !== '' || a.resource !== 'persistentvolumeclaims' || a.subresource !== '' || a.operation !== 'UPDATE') return;
      const pvc = a.object as PersistentVolumeClaim | undefined;
      const old = a.oldObject as PersistentVolumeClaim | undefined;
      if (!pvc || !old) return;
      const size = (c: PersistentVolumeClaim) => quantityToNumber(c.spec?.resources?.requests?.['storage'] ?? 0);
      if (size(pvc) <= size(old)) return;
      if (old.status?.phase !== 'Bound') throw admissionForbidden(a, 'Only bound persistent volume claims can be expanded');
      const cls = pvc.spec?.storageClassName ?? '';
      const sc = cls && cls === (old.spec?.storageClassName ?? '') ? await lookup<StorageClass>(registry, 'storage.k8s.io', 'storageclasses', '', cls) : null;
      if (!sc?.allowVolumeExpansion) throw admissionForbidden(a, 'only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize');
    },
  };
}
