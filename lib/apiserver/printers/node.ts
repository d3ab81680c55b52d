/** Printers for node.k8s.io/v1 RuntimeClasses and apiregistration.k8s.io/v1 APIServices. */
import type { APIService, RuntimeClass } from '../../api/index.js';
import { age, ageColumn, nameColumn, registerPrinter } from './table.js';

registerPrinter('node.k8s.io', 'runtimeclasses', {
  columns: [nameColumn, { name: 'Handler', type: 'string', description: 'Container runtime handler of the class.' }, ageColumn],
  row(o, now) {
    const rc = o as RuntimeClass;
    return [rc.metadata.name, rc.handler, age(rc.metadata.creationTimestamp, now)];
  },
});

registerPrinter('apiregistration.k8s.io', 'apiservices', {
  columns: [
    nameColumn,
    { name: 'Service', type: 'string', description: 'The Service that serves the group version, or Local for this API server.' },
    { name: 'Available', type: 'string', description: 'Whether the group version is available, with the reason when it is not.' },
    ageColumn,
  ],
  row(o, now) {
    const a = o as APIService;
    const svc = a.spec?.service;
    const cond = a.status?.conditions?.find((c) => c.type === 'Available');
    const available = !cond ? 'Unknown' : cond.status === 'True' ? 'True' : `${cond.status} (${cond.reason ?? ''})`;
    return [a.metadata.name, svc ? `${svc.namespace}/${svc.name}` : 'Local', available, age(a.metadata.creationTimestamp, now)];
  },
});
