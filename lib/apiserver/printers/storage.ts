/** Printer for storage.k8s.io/v1 StorageClasses. */
import type { StorageClass } from '../../api/index.js';
import { defaultStorageClassAnnotations } from '../../machinery/index.js';
import { age, ageColumn, nameColumn, registerPrinter } from './table.js';

/** Whether a class is the default, by its annotation (or the older beta one). */
export function isDefaultStorageClass(sc: StorageClass): boolean {
  return defaultStorageClassAnnotations.some((k) => sc.metadata.annotations?.[k] === 'true');
}

registerPrinter('storage.k8s.io', 'storageclasses', {
  columns: [
    nameColumn,
    { name: 'Provisioner', type: 'string', description: 'Driver that provisions the volumes.' },
    { name: 'ReclaimPolicy', type: 'string', description: 'Reclaim policy of the volumes provisioned.' },
    { name: 'VolumeBindingMode', type: 'string', description: 'When volumes are bound and provisioned.' },
    { name: 'AllowVolumeExpansion', type: 'string', description: 'Whether claims may be resized.' },
    ageColumn,
  ],
  row(o, now) {
    const sc = o as StorageClass;
    const name = isDefaultStorageClass(sc) ? `${sc.metadata.name} (default)` : sc.metadata.name;
    return [name, sc.provisioner, sc.reclaimPolicy ?? 'Delete', sc.volumeBindingMode ?? 'Immediate', sc.allowVolumeExpansion ?? false, age(sc.metadata.creationTimestamp, now)];
  },
});
