/**
 * The storage admission plugins, on by default as upstream:
 *
 *   - DefaultStorageClass: a PersistentVolumeClaim created without spec.storageClassName gets
 *     the default StorageClass (annotated storageclass.kubernetes.io/is-default-class: "true";
 *     the newest one when there are several). An explicit "" means "no class" and is kept.
 *   - StorageObjectInUseProtection: PersistentVolumes and PersistentVolumeClaims are created
 *     with the kubernetes.io/pv-protection and kubernetes.io/pvc-protection finalizers, which
 *     the pv-protection and pvc-protection controllers remove once nothing uses them.
 *   - DefaultIngressClass: the same for Ingresses and IngressClasses (annotated
 *     ingressclass.kubernetes.io/is-default-class: "true"); an Ingress naming its class with the
 *     old kubernetes.io/ingress.class annotation keeps it.
 */
import { pvProtectionFinalizer, pvcProtectionFinalizer, type KubeObject, type PersistentVolumeClaim } from '../../api/index.js';
import { defaultStorageClassAnnotations, newestDefault } from '../../machinery/index.js';
import type { Registry } from '../../registry/index.js';
import { markMutated, type AdmissionPlugin } from './chain.js';
import { listCached } from './lookup.js';

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
