/** Printer for coordination.k8s.io/v1 Leases. */
import type { Lease } from '../../api/index.js';
import { age, ageColumn, nameColumn, registerPrinter } from './table.js';

registerPrinter('coordination.k8s.io', 'leases', {
  columns: [nameColumn, { name: 'Holder', type: 'string', description: 'Who holds the lease.' }, ageColumn],
  row(o, now) {
    const l = o as Lease;
    return [l.metadata.name, l.spec?.holderIdentity ?? '', age(l.metadata.creationTimestamp, now)];
  },
});
