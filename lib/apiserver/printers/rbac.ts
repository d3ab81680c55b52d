/** Printers for rbac.authorization.k8s.io/v1, with upstream's columns. */
import type { ClusterRoleBinding, RoleBinding } from '../../api/index.js';
import { age, ageColumn, nameColumn, registerPrinter, type Column } from './table.js';

const group = 'rbac.authorization.k8s.io';
const createdAt: Column = { name: 'Created At', type: 'date', description: 'When the object was created.' };

for (const resource of ['roles', 'clusterroles']) {
  registerPrinter(group, resource, {
    columns: [nameColumn, createdAt],
    row: (o) => [o.metadata.name, o.metadata.creationTimestamp ?? ''],
  });
}

const bindingColumns: Column[] = [
  nameColumn,
  { name: 'Role', type: 'string', description: 'The role granted: Role/<name> or ClusterRole/<name>.' },
  ageColumn,
  { name: 'Users', type: 'string', priority: 1, description: 'Users granted the role.' },
  { name: 'Groups', type: 'string', priority: 1, description: 'Groups granted the role.' },
  { name: 'ServiceAccounts', type: 'string', priority: 1, description: 'Service accounts granted the role, as namespace/name.' },
];

function bindingRow(b: RoleBinding | ClusterRoleBinding, now: number): unknown[] {
  const of = (kind: string) => (b.subjects ?? []).filter((s) => s.kind === kind);
  return [
    b.metadata.name,
    `${b.roleRef.kind}/${b.roleRef.name}`,
    age(b.metadata.creationTimestamp, now),
    of('User').map((s) => s.name).join(', '),
    of('Group').map((s) => s.name).join(', '),
    of('ServiceAccount').map((s) => `${s.namespace ?? b.metadata.namespace ?? ''}/${s.name}`).join(', '),
  ];
}

for (const resource of ['rolebindings', 'clusterrolebindings']) {
  registerPrinter(group, resource, { columns: bindingColumns, row: (o, now) => bindingRow(o as RoleBinding, now) });
}
