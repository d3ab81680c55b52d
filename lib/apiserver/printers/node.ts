/** Printer for node.k8s.io/v1 RuntimeClasses. */
import type { RuntimeClass } from '../../api/index.js';
import { age, ageColumn, nameColumn, registerPrinter } from './table.js';

registerPrinter('node.k8s.io', 'runtimeclasses', {
  columns: [nameColumn, { name: 'Handler', type: 'string', description: 'Container runtime handler of the class.' }, ageColumn],
  row(o, now) {
    const rc = o as RuntimeClass;
    return [rc.metadata.name, rc.handler, age(rc.metadata.creationTimestamp, now)];
  },
});
