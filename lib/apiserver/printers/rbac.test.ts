import { describe, expect, test } from 'vitest';
import { cells, columnsOf } from './test-helpers.js';

const g = 'rbac.authorization.k8s.io';

describe('rbac printers', () => {
  test('roles and cluster roles: name and creation time', () => {
    expect(columnsOf(g, 'clusterroles').map((c) => c.name)).toEqual(['Name', 'Created At']);
    expect(cells(g, 'roles', { metadata: { name: 'r', creationTimestamp: '2024-05-06T07:08:09Z' } })).toEqual({ Name: 'r', 'Created At': '2024-05-06T07:08:09Z' });
  });

  test('bindings: the role, and users, groups and service accounts with -o wide', () => {
    expect(columnsOf(g, 'rolebindings')).toEqual([
      { name: 'Name', priority: 0 },
      { name: 'Role', priority: 0 },
      { name: 'Age', priority: 0 },
      { name: 'Users', priority: 1 },
      { name: 'Groups', priority: 1 },
      { name: 'ServiceAccounts', priority: 1 },
    ]);
    const row = cells(g, 'rolebindings', {
      metadata: { name: 'b', namespace: 'team' },
      roleRef: { apiGroup: g, kind: 'ClusterRole', name: 'view' },
      subjects: [
        { kind: 'User', name: 'alice' },
        { kind: 'User', name: 'bob' },
        { kind: 'Group', name: 'devs' },
        { kind: 'ServiceAccount', name: 'robot' },
        { kind: 'ServiceAccount', name: 'ci', namespace: 'build' },
      ],
    });
    expect(row).toEqual({ Name: 'b', Role: 'ClusterRole/view', Age: '90s', Users: 'alice, bob', Groups: 'devs', ServiceAccounts: 'team/robot, build/ci' });
  });
});
