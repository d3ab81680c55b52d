import { describe, expect, test } from 'vitest';
import { cells, columnsOf, ago, seconds, minutes, hours } from './test-helpers.js';

const tpl = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }, { name: 'log', image: 'fluent-bit:3' }] } };
const wide = (c: Record<string, unknown>) => [c.Containers, c.Images, c.Selector];

describe('apps', () => {
  test('deployment', () => {
    expect(columnsOf('apps', 'deployments').map((c) => c.name)).toEqual(['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector']);
    const c = cells('apps', 'deployments', { spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: tpl }, status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } });
    expect([c.Ready, c['Up-to-date'], c.Available]).toEqual(['2/3', 3, 2]);
    expect(wide(c)).toEqual(['web,log', 'nginx:1.27,fluent-bit:3', 'app=web']);
    expect(cells('apps', 'deployments', { spec: { replicas: 1, selector: {}, template: tpl } }).Ready).toBe('0/1');
  });

  test('replica set', () => {
    const c = cells('apps', 'replicasets', { spec: { replicas: 2, selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] }, template: tpl }, status: { replicas: 2, readyReplicas: 1 } });
    expect([c.Desired, c.Current, c.Ready, c.Selector]).toEqual([2, 2, 1, 'app in (web)']);
  });

  test('daemon set', () => {
    expect(columnsOf('apps', 'daemonsets').filter((c) => c.priority === 0).map((c) => c.name)).toEqual(['Name', 'Desired', 'Current', 'Ready', 'Up-to-date', 'Available', 'Node Selector', 'Age']);
    const c = cells('apps', 'daemonsets', {
      spec: { selector: { matchLabels: { app: 'agent' } }, template: { ...tpl, spec: { ...tpl.spec, nodeSelector: { 'kubernetes.io/os': 'linux' } } } },
      status: { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 1, numberAvailable: 2, numberMisscheduled: 0 },
    });
    expect([c.Desired, c.Current, c.Ready, c['Up-to-date'], c.Available, c['Node Selector'], c.Selector]).toEqual([3, 3, 2, 1, 2, 'kubernetes.io/os=linux', 'app=agent']);
    expect(cells('apps', 'daemonsets', { spec: { selector: {}, template: tpl } })['Node Selector']).toBe('<none>');
  });

  test('stateful set', () => {
    expect(columnsOf('apps', 'statefulsets')).toEqual([
      { name: 'Name', priority: 0 }, { name: 'Ready', priority: 0 }, { name: 'Age', priority: 0 }, { name: 'Containers', priority: 1 }, { name: 'Images', priority: 1 },
    ]);
    expect(cells('apps', 'statefulsets', { spec: { replicas: 3, template: tpl }, status: { replicas: 3, readyReplicas: 3 } }).Ready).toBe('3/3');
  });

  test('controller revision names its controller as kind.group/name', () => {
    const owned = cells('apps', 'controllerrevisions', { metadata: { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'u', controller: true }] }, revision: 4 });
    expect([owned.Controller, owned.Revision]).toEqual(['statefulset.apps/db', 4]);
    expect(cells('apps', 'controllerrevisions', { revision: 1 }).Controller).toBe('<none>');
    expect(cells('apps', 'controllerrevisions', { metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u', controller: true }] }, revision: 1 }).Controller).toBe('pod/p');
  });
});

describe('jobs (as 1.32 prints them)', () => {
  test('columns', () => {
    expect(columnsOf('batch', 'jobs').map((c) => `${c.name}:${c.priority}`)).toEqual(['Name:0', 'Status:0', 'Completions:0', 'Duration:0', 'Age:0', 'Containers:1', 'Images:1', 'Selector:1']);
  });

  const cond = (type: string, status = 'True') => ({ type, status });
  test.each<[string, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>, [string, string, string]]>([
    ['not started yet', { completions: 1, parallelism: 1 }, {}, {}, ['Running', '0/1', '']],
    ['running for 4 minutes', { completions: 5, parallelism: 2 }, { startTime: ago(4 * minutes), succeeded: 2, active: 2 }, {}, ['Running', '2/5', '4m']],
    ['complete: duration from start to completion', { completions: 1 }, { startTime: ago(2 * hours), completionTime: ago(2 * hours - 75 * seconds), succeeded: 1, conditions: [cond('SuccessCriteriaMet'), cond('Complete')] }, {}, ['Complete', '1/1', '75s']],
    ['failed', { completions: 1 }, { startTime: ago(hours), failed: 7, conditions: [cond('FailureTarget'), cond('Failed')] }, {}, ['Failed', '0/1', '60m']],
    ['suspended', { completions: 1, suspend: true }, { conditions: [cond('Suspended')] }, {}, ['Suspended', '0/1', '']],
    ['resumed: the Suspended condition is False', { completions: 1 }, { startTime: ago(10 * seconds), conditions: [cond('Suspended', 'False')] }, {}, ['Running', '0/1', '10s']],
    ['failing, pods still terminating', { completions: 1 }, { startTime: ago(30 * seconds), conditions: [cond('FailureTarget')] }, {}, ['FailureTarget', '0/1', '30s']],
    ['success criteria met, pods still terminating', { completions: 3, completionMode: 'Indexed' }, { startTime: ago(30 * seconds), succeeded: 1, conditions: [cond('SuccessCriteriaMet')] }, {}, ['SuccessCriteriaMet', '1/3', '30s']],
    ['being deleted', { completions: 1 }, { startTime: ago(30 * seconds) }, { deletionTimestamp: ago(0) }, ['Terminating', '0/1', '30s']],
    ['a work queue: no completions, parallelism 3', { parallelism: 3 }, { startTime: ago(30 * seconds) }, {}, ['Running', '0/1 of 3', '30s']],
  ])('%s', (_n, spec, status, metadata, [s, comp, dur]) => {
    const c = cells('batch', 'jobs', { metadata, spec: { template: tpl, ...spec }, status });
    expect([c.Status, c.Completions, c.Duration]).toEqual([s, comp, dur]);
  });

  test('cron job', () => {
    expect(columnsOf('batch', 'cronjobs').filter((c) => c.priority === 0).map((c) => c.name)).toEqual(['Name', 'Schedule', 'Timezone', 'Suspend', 'Active', 'Last Schedule', 'Age']);
    const c = cells('batch', 'cronjobs', {
      spec: { schedule: '*/5 * * * *', timeZone: 'Europe/Paris', suspend: false, jobTemplate: { spec: { template: tpl } } },
      status: { active: [{ name: 'a' }, { name: 'b' }], lastScheduleTime: ago(3 * minutes) },
    });
    expect([c.Schedule, c.Timezone, c.Suspend, c.Active, c['Last Schedule'], c.Containers, c.Selector]).toEqual(['*/5 * * * *', 'Europe/Paris', 'False', 2, '3m', 'web,log', '<none>']);
    const bare = cells('batch', 'cronjobs', { spec: { schedule: '@daily', jobTemplate: {} } });
    expect([bare.Timezone, bare.Suspend, bare.Active, bare['Last Schedule']]).toEqual(['<none>', '<unset>', 0, '<none>']);
  });
});
