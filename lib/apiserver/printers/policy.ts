/** Printer for policy/v1 PodDisruptionBudgets. */
import type { PodDisruptionBudget } from '../../api/index.js';
import { age, ageColumn, nameColumn, registerPrinter } from './table.js';

registerPrinter('policy', 'poddisruptionbudgets', {
  columns: [
    nameColumn,
    { name: 'Min Available', type: 'string', description: 'Pods that must stay available, or N/A.' },
    { name: 'Max Unavailable', type: 'string', description: 'Pods that may be unavailable, or N/A.' },
    { name: 'Allowed Disruptions', type: 'integer', description: 'Evictions allowed right now.' },
    ageColumn,
  ],
  row(o, now) {
    const pdb = o as PodDisruptionBudget;
    const show = (v: number | string | undefined) => (v === undefined ? 'N/A' : String(v));
    return [pdb.metadata.name, show(pdb.spec?.minAvailable), show(pdb.spec?.maxUnavailable), pdb.status?.disruptionsAllowed ?? 0, age(pdb.metadata.creationTimestamp, now)];
  },
});
