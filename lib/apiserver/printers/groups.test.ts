import { describe, expect, test } from 'vitest';
import { cells, columnsOf, ago, minutes } from './test-helpers.js';

describe('coordination, discovery and policy', () => {
  test('lease holder', () => {
    expect(cells('coordination.k8s.io', 'leases', { spec: { holderIdentity: 'node-1' } }).Holder).toBe('node-1');
    expect(cells('coordination.k8s.io', 'leases', { spec: {} }).Holder).toBe('');
  });

  test.each<[string, unknown[] | undefined, unknown[], string, string]>([
    ['ports by number or name, * for all', [{ port: 80 }, { name: 'metrics' }, {}], [{ addresses: ['10.0.0.1'] }], '80,metrics,*', '10.0.0.1'],
    ['more than three of each', [{ port: 1 }, { port: 2 }, { port: 3 }, { port: 4 }, { port: 5 }], [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2'] }, { addresses: ['10.0.0.3'] }, { addresses: ['10.0.0.4'] }], '1,2,3 + 2 more...', '10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...'],
    ['nothing', undefined, [], '<unset>', '<unset>'],
  ])('endpoint slice: %s', (_n, ports, endpoints, wantPorts, wantEndpoints) => {
    const c = cells('discovery.k8s.io', 'endpointslices', { addressType: 'IPv4', ports, endpoints });
    expect([c.AddressType, c.Ports, c.Endpoints]).toEqual(['IPv4', wantPorts, wantEndpoints]);
  });

  test('disruption budget: N/A for the bound that is not set', () => {
    expect(columnsOf('policy', 'poddisruptionbudgets').map((c) => c.name)).toEqual(['Name', 'Min Available', 'Max Unavailable', 'Allowed Disruptions', 'Age']);
    const c = cells('policy', 'poddisruptionbudgets', { spec: { maxUnavailable: 1 }, status: { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 } });
    expect([c['Min Available'], c['Max Unavailable'], c['Allowed Disruptions']]).toEqual(['N/A', '1', 1]);
    expect(cells('policy', 'poddisruptionbudgets', { spec: { minAvailable: '50%' } })['Min Available']).toBe('50%');
  });
});

describe('events.k8s.io events use the core event columns', () => {
  test('fields are read from their new names', () => {
    const c = cells('events.k8s.io', 'events', {
      metadata: { name: 'e.1' }, eventTime: ago(20 * minutes), series: { count: 3, lastObservedTime: ago(minutes) },
      regarding: { kind: 'Deployment', name: 'web', fieldPath: '' }, type: 'Normal', reason: 'ScalingReplicaSet', note: 'Scaled up replica set web-5d4b to 3',
      reportingController: 'deployment-controller', reportingInstance: '',
    });
    expect(c).toEqual({
      'Last Seen': '60s', Type: 'Normal', Reason: 'ScalingReplicaSet', Object: 'deployment/web', Subobject: '', Source: 'deployment-controller',
      Message: 'Scaled up replica set web-5d4b to 3', 'First Seen': '20m', Count: 3, Name: 'e.1',
    });
  });
});

describe('networking', () => {
  const rule = (host?: string) => ({ host, http: { paths: [] } });
  test.each<[string, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>]>([
    ['one host, TLS, class and address', { ingressClassName: 'nginx', tls: [{ hosts: ['a.example.com'] }], rules: [rule('a.example.com')] }, { loadBalancer: { ingress: [{ ip: '203.0.113.1' }, { hostname: 'lb.example.com' }] } }, { Class: 'nginx', Hosts: 'a.example.com', Address: '203.0.113.1,lb.example.com', Ports: '80, 443' }],
    ['no host: *', { defaultBackend: { service: { name: 'web', port: { number: 80 } } } }, {}, { Class: '<none>', Hosts: '*', Address: '', Ports: '80' }],
    ['more than three hosts', { rules: [rule('a'), rule(), rule('c'), rule('d'), rule('e')] }, {}, { Hosts: 'a,c,d + 2 more...' }],
  ])('ingress: %s', (_n, spec, status, want) => {
    const c = cells('networking.k8s.io', 'ingresses', { spec, status });
    for (const [k, v] of Object.entries(want)) expect(c[k], k).toBe(v);
  });

  test('ingress class parameters as kind.group/name', () => {
    expect(cells('networking.k8s.io', 'ingressclasses', { spec: { controller: 'example.com/ic', parameters: { apiGroup: 'k8s.example.com', kind: 'Params', name: 'p' } } }).Parameters).toBe('Params.k8s.example.com/p');
    expect(cells('networking.k8s.io', 'ingressclasses', { spec: { controller: 'example.com/ic', parameters: { kind: 'ConfigMap', name: 'cm' } } }).Parameters).toBe('ConfigMap/cm');
    expect(cells('networking.k8s.io', 'ingressclasses', { spec: { controller: 'example.com/ic' } })).toMatchObject({ Controller: 'example.com/ic', Parameters: '<none>' });
  });

  test('network policy pod selector; empty selects everything and shows <none>', () => {
    expect(cells('networking.k8s.io', 'networkpolicies', { spec: { podSelector: { matchLabels: { role: 'db' } } } })['Pod-Selector']).toBe('role=db');
    expect(cells('networking.k8s.io', 'networkpolicies', { spec: { podSelector: {} } })['Pod-Selector']).toBe('<none>');
  });
});

describe('scheduling, node and storage classes', () => {
  test('priority class', () => {
    expect(cells('scheduling.k8s.io', 'priorityclasses', { value: 1000, globalDefault: true, preemptionPolicy: 'Never' })).toMatchObject({ Value: 1000, 'Global-Default': true, PreemptionPolicy: 'Never' });
  });
  test('runtime class', () => {
    expect(cells('node.k8s.io', 'runtimeclasses', { handler: 'kata' }).Handler).toBe('kata');
  });
  test('storage class: (default) after the name of the default class', () => {
    const c = cells('storage.k8s.io', 'storageclasses', { metadata: { name: 'gp3', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'ebs.csi.aws.com', reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: true });
    expect(c).toMatchObject({ Name: 'gp3 (default)', Provisioner: 'ebs.csi.aws.com', ReclaimPolicy: 'Retain', VolumeBindingMode: 'WaitForFirstConsumer', AllowVolumeExpansion: true });
    expect(cells('storage.k8s.io', 'storageclasses', { metadata: { name: 'slow' }, provisioner: 'x' })).toMatchObject({ Name: 'slow', ReclaimPolicy: 'Delete', VolumeBindingMode: 'Immediate', AllowVolumeExpansion: false });
  });
});

describe('horizontal pod autoscalers', () => {
  const hpa = (metrics: unknown[] | undefined, current: unknown[] = [], extra: Record<string, unknown> = {}) => ({
    spec: { scaleTargetRef: { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' }, minReplicas: 2, maxReplicas: 10, metrics, ...extra },
    status: { currentReplicas: 3, desiredReplicas: 3, currentMetrics: current },
  });
  const cpu = (target: Record<string, unknown>) => ({ type: 'Resource', resource: { name: 'cpu', target } });
  test.each<[string, ReturnType<typeof hpa>, string]>([
    ['no metrics', hpa(undefined), '<none>'],
    ['cpu utilization not measured yet', hpa([cpu({ type: 'Utilization', averageUtilization: 80 })]), 'cpu: <unknown>/80%'],
    ['cpu utilization', hpa([cpu({ type: 'Utilization', averageUtilization: 80 })], [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 45, averageValue: '90m' } } }]), 'cpu: 45%/80%'],
    ['memory average value', hpa([{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '500Mi' } } }], [{ type: 'Resource', resource: { name: 'memory', current: { averageValue: '300Mi' } } }]), 'memory: 300Mi/500Mi'],
    ['pods metric', hpa([{ type: 'Pods', pods: { metric: { name: 'rps' }, target: { type: 'AverageValue', averageValue: '100' } } }]), '<unknown>/100'],
    ['external average value', hpa([{ type: 'External', external: { metric: { name: 'queue' }, target: { type: 'AverageValue', averageValue: '30' } } }], [{ type: 'External', external: { metric: { name: 'queue' }, current: { averageValue: '12' } } }]), '12/30 (avg)'],
    ['object value', hpa([{ type: 'Object', object: { metric: { name: 'hits' }, describedObject: { kind: 'Ingress', name: 'web' }, target: { type: 'Value', value: '2k' } } }], [{ type: 'Object', object: { metric: { name: 'hits' }, describedObject: { kind: 'Ingress', name: 'web' }, current: { value: '1500' } } }]), '1500/2k'],
    ['more than two metrics', hpa([cpu({ type: 'Utilization', averageUtilization: 80 }), cpu({ type: 'Utilization', averageUtilization: 90 }), cpu({ type: 'Utilization', averageUtilization: 70 })]), 'cpu: <unknown>/80%, cpu: <unknown>/90% + 1 more...'],
  ])('%s', (_n, obj, targets) => {
    const c = cells('autoscaling', 'horizontalpodautoscalers', obj);
    expect(c).toMatchObject({ Reference: 'Deployment/web', Targets: targets, MinPods: '2', MaxPods: 10, Replicas: 3 });
  });
  test('min pods <unset> when not given', () => {
    expect(cells('autoscaling', 'horizontalpodautoscalers', { spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 5 } }).MinPods).toBe('<unset>');
  });
});
