/** Printer for scheduling.k8s.io/v1 PriorityClasses. */
import type { PriorityClass } from '../../api/index.js';
import { age, ageColumn, nameColumn, registerPrinter } from './table.js';

registerPrinter('scheduling.k8s.io', 'priorityclasses', {
  columns: [
    nameColumn,
    { name: 'Value', type: 'integer', description: 'Priority of the pods of the class.' },
    { name: 'Global-Default', type: 'boolean', description: 'Whether pods without a class get this one.' },
    ageColumn,
    { name: 'PreemptionPolicy', type: 'string', description: 'Whether pods of the class may preempt others.' },
  ],
  row(o, now) {
    const pc = o as PriorityClass;
    return [pc.metadata.name, pc.value, pc.globalDefault ?? false, age(pc.metadata.creationTimestamp, now), pc.preemptionPolicy ?? ''];
  },
});
