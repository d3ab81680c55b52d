import { describe, expect, test } from 'vitest';
import { cells, columnsOf, ago, seconds, minutes, hours } from './test-helpers.js';

const running = (name: string, extra: Record<string, unknown> = {}) => ({ name, ready: true, restartCount: 0, image: 'img', imageID: '', state: { running: { startedAt: ago(hours) } }, ...extra });
const waiting = (name: string, reason: string, extra: Record<string, unknown> = {}) => ({ name, ready: false, restartCount: 0, image: 'img', imageID: '', state: { waiting: { reason } }, ...extra });
const terminated = (name: string, t: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ name, ready: false, restartCount: 0, image: 'img', imageID: '', state: { terminated: t }, ...extra });

const pod = (spec: Record<string, unknown>, status: Record<string, unknown>, metadata: Record<string, unknown> = {}) => ({ metadata: { name: 'p', ...metadata }, spec: { containers: [{ name: 'app' }], ...spec }, status });

describe('pods', () => {
  test('columns, the last four only with -o wide', () => {
    expect(columnsOf('', 'pods')).toEqual([
      { name: 'Name', priority: 0 }, { name: 'Ready', priority: 0 }, { name: 'Status', priority: 0 }, { name: 'Restarts', priority: 0 }, { name: 'Age', priority: 0 },
      { name: 'IP', priority: 1 }, { name: 'Node', priority: 1 }, { name: 'Nominated Node', priority: 1 }, { name: 'Readiness Gates', priority: 1 },
    ]);
  });

  const init = { initContainers: [{ name: 'setup' }] };
  test.each<[string, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>, { Ready: string; Status: string; Restarts?: string }]>([
    ['pending, nothing started', {}, { phase: 'Pending' }, {}, { Ready: '0/1', Status: 'Pending', Restarts: '0' }],
    ['running and ready', {}, { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [running('app')] }, {}, { Ready: '1/1', Status: 'Running' }],
    ['first init container still running', init, { phase: 'Pending', initContainerStatuses: [waiting('setup', 'PodInitializing')], containerStatuses: [waiting('app', 'PodInitializing')] }, {}, { Ready: '0/1', Status: 'Init:0/1' }],
    ['init container crash-looping', init, { phase: 'Pending', initContainerStatuses: [waiting('setup', 'CrashLoopBackOff', { restartCount: 4, lastState: { terminated: { exitCode: 1, finishedAt: ago(2 * minutes) } } })] }, {}, { Ready: '0/1', Status: 'Init:CrashLoopBackOff', Restarts: '4 (2m ago)' }],
    ['init container failed with a reason', init, { phase: 'Failed', initContainerStatuses: [terminated('setup', { exitCode: 1, reason: 'Error' })] }, {}, { Ready: '0/1', Status: 'Init:Error' }],
    ['init container failed without a reason', init, { phase: 'Pending', initContainerStatuses: [terminated('setup', { exitCode: 2 })] }, {}, { Ready: '0/1', Status: 'Init:ExitCode:2' }],
    ['init container killed by a signal', init, { phase: 'Pending', initContainerStatuses: [terminated('setup', { exitCode: 137, signal: 9 })] }, {}, { Ready: '0/1', Status: 'Init:Signal:9' }],
    ['second of two init containers running', { initContainers: [{ name: 'a' }, { name: 'b' }] }, { phase: 'Pending', initContainerStatuses: [terminated('a', { exitCode: 0, reason: 'Completed' }), running('b', { ready: false })] }, {}, { Ready: '0/1', Status: 'Init:1/2' }],
    ['image pull failing', {}, { phase: 'Pending', containerStatuses: [waiting('app', 'ImagePullBackOff')] }, {}, { Ready: '0/1', Status: 'ImagePullBackOff' }],
    ['crash-looping, restarts with the time of the last one', {}, { phase: 'Running', containerStatuses: [waiting('app', 'CrashLoopBackOff', { restartCount: 3, lastState: { terminated: { exitCode: 1, finishedAt: ago(5 * minutes) } } })] }, {}, { Ready: '0/1', Status: 'CrashLoopBackOff', Restarts: '3 (5m ago)' }],
    ['restarted but the time is unknown', {}, { phase: 'Running', containerStatuses: [running('app', { restartCount: 2 })] }, {}, { Ready: '1/1', Status: 'Running', Restarts: '2' }],
    ['finished successfully', {}, { phase: 'Succeeded', containerStatuses: [terminated('app', { exitCode: 0, reason: 'Completed' })] }, {}, { Ready: '0/1', Status: 'Completed' }],
    ['app container failed without a reason', {}, { phase: 'Failed', containerStatuses: [terminated('app', { exitCode: 3 })] }, {}, { Ready: '0/1', Status: 'ExitCode:3' }],
    ['app container killed by a signal', {}, { phase: 'Failed', containerStatuses: [terminated('app', { exitCode: 137, signal: 9 })] }, {}, { Ready: '0/1', Status: 'Signal:9' }],
    ['OOM-killed', {}, { phase: 'Running', containerStatuses: [terminated('app', { exitCode: 137, reason: 'OOMKilled' })] }, {}, { Ready: '0/1', Status: 'OOMKilled' }],
    ['one container completed, another still running and ready', { containers: [{ name: 'a' }, { name: 'b' }] }, { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [terminated('a', { exitCode: 0, reason: 'Completed' }), running('b')] }, {}, { Ready: '1/2', Status: 'Running' }],
    ['one container completed, another running but the pod is not ready', { containers: [{ name: 'a' }, { name: 'b' }] }, { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }], containerStatuses: [terminated('a', { exitCode: 0, reason: 'Completed' }), running('b')] }, {}, { Ready: '1/2', Status: 'NotReady' }],
    ['being deleted', {}, { phase: 'Running', containerStatuses: [running('app')] }, { deletionTimestamp: ago(0) }, { Ready: '1/1', Status: 'Terminating' }],
    ['finished and being deleted keeps its final state', {}, { phase: 'Succeeded', containerStatuses: [terminated('app', { exitCode: 0, reason: 'Completed' })] }, { deletionTimestamp: ago(0) }, { Ready: '0/1', Status: 'Completed' }],
    ['on a lost node and being deleted', {}, { phase: 'Running', reason: 'NodeLost' }, { deletionTimestamp: ago(0) }, { Ready: '0/1', Status: 'Unknown' }],
    ['evicted', {}, { phase: 'Failed', reason: 'Evicted' }, {}, { Ready: '0/1', Status: 'Evicted' }],
    ['held back by a scheduling gate', { schedulingGates: [{ name: 'example.com/quota' }] }, { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] }, {}, { Ready: '0/1', Status: 'SchedulingGated' }],
    [
      'a started sidecar counts as a container and its restarts count',
      { initContainers: [{ name: 'proxy', restartPolicy: 'Always' }] },
      {
        phase: 'Running',
        conditions: [{ type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' }],
        initContainerStatuses: [running('proxy', { started: true, restartCount: 1, lastState: { terminated: { exitCode: 1, finishedAt: ago(10 * minutes) } } })],
        containerStatuses: [running('app')],
      },
      {},
      { Ready: '2/2', Status: 'Running', Restarts: '1 (10m ago)' },
    ],
    [
      'a sidecar that has not started holds initialisation',
      { initContainers: [{ name: 'proxy', restartPolicy: 'Always' }] },
      { phase: 'Pending', initContainerStatuses: [running('proxy', { started: false, ready: false })] },
      {},
      { Ready: '0/2', Status: 'Init:0/1' },
    ],
  ])('%s', (_name, spec, status, metadata, want) => {
    const c = cells('', 'pods', pod(spec, status, metadata));
    expect(c.Ready).toBe(want.Ready);
    expect(c.Status).toBe(want.Status);
    if (want.Restarts !== undefined) expect(c.Restarts).toBe(want.Restarts);
  });

  test('wide cells: first pod IP, node, nominated node, readiness gates', () => {
    const c = cells('', 'pods', pod(
      { nodeName: 'node-1', readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/dns' }] },
      { phase: 'Running', podIP: '10.244.1.5', podIPs: [{ ip: '10.244.1.5' }, { ip: 'fd00::5' }], nominatedNodeName: '', conditions: [{ type: 'example.com/lb', status: 'True' }, { type: 'example.com/dns', status: 'False' }] },
    ));
    expect([c.IP, c.Node, c['Nominated Node'], c['Readiness Gates']]).toEqual(['10.244.1.5', 'node-1', '<none>', '1/2']);
    expect(c.Age).toBe('90s');
  });
});

describe('nodes', () => {
  const node = (labels: Record<string, string>, spec: Record<string, unknown>, status: Record<string, unknown>) => ({ metadata: { name: 'n1', labels }, spec, status });
  test.each<[string, Record<string, string>, Record<string, unknown>, Record<string, unknown>, string, string]>([
    ['ready', {}, {}, { conditions: [{ type: 'Ready', status: 'True' }] }, 'Ready', '<none>'],
    ['not ready and cordoned', {}, { unschedulable: true }, { conditions: [{ type: 'Ready', status: 'False' }] }, 'NotReady,SchedulingDisabled', '<none>'],
    ['no Ready condition yet', {}, {}, {}, 'Unknown', '<none>'],
    ['unknown readiness counts as not ready', {}, {}, { conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'Unknown' }] }, 'NotReady', '<none>'],
    ['roles from labels, sorted', { 'node-role.kubernetes.io/worker': '', 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/': 'x' }, {}, { conditions: [{ type: 'Ready', status: 'True' }] }, 'Ready', 'control-plane,worker'],
    ['the kubernetes.io/role label', { 'kubernetes.io/role': 'master' }, {}, { conditions: [{ type: 'Ready', status: 'True' }] }, 'Ready', 'master'],
  ])('%s', (_n, labels, spec, status, wantStatus, wantRoles) => {
    const c = cells('', 'nodes', node(labels, spec, status));
    expect(c.Status).toBe(wantStatus);
    expect(c.Roles).toBe(wantRoles);
  });

  test('wide cells', () => {
    const c = cells('', 'nodes', node({}, {}, {
      addresses: [{ type: 'Hostname', address: 'n1' }, { type: 'InternalIP', address: '10.0.0.4' }, { type: 'ExternalIP', address: '203.0.113.9' }],
      nodeInfo: { kubeletVersion: 'v1.32.1', osImage: 'Ubuntu 24.04 LTS', kernelVersion: '6.8.0', containerRuntimeVersion: 'docker://27.1.1' },
    }));
    expect([c.Version, c['Internal-IP'], c['External-IP'], c['OS-Image'], c['Kernel-Version'], c['Container-Runtime']]).toEqual(['v1.32.1', '10.0.0.4', '203.0.113.9', 'Ubuntu 24.04 LTS', '6.8.0', 'docker://27.1.1']);
    const bare = cells('', 'nodes', node({}, {}, {}));
    expect([bare['Internal-IP'], bare['OS-Image'], bare['Container-Runtime']]).toEqual(['<none>', '<unknown>', '<unknown>']);
  });
});

describe('services', () => {
  const svc = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) => ({ metadata: { name: 's' }, spec, status });
  test.each<[string, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>]>([
    ['cluster IP with two ports', { type: 'ClusterIP', clusterIP: '10.96.0.10', ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }], selector: { 'k8s-app': 'kube-dns' } }, {}, { Type: 'ClusterIP', 'Cluster-IP': '10.96.0.10', 'External-IP': '<none>', 'Port(s)': '53/UDP,53/TCP', Selector: 'k8s-app=kube-dns' }],
    ['node port', { type: 'NodePort', clusterIP: '10.96.3.4', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }] }, {}, { 'External-IP': '<none>', 'Port(s)': '80:30080/TCP', Selector: '<none>' }],
    ['headless without ports', { type: 'ClusterIP', clusterIP: 'None' }, {}, { 'Cluster-IP': 'None', 'Port(s)': '<none>' }],
    ['cluster IP with external IPs', { type: 'ClusterIP', clusterIP: '10.96.0.2', externalIPs: ['198.51.100.7', '198.51.100.8'], ports: [{ port: 80, protocol: 'TCP' }] }, {}, { 'External-IP': '198.51.100.7,198.51.100.8' }],
    ['load balancer still pending', { type: 'LoadBalancer', clusterIP: '10.96.0.3', ports: [{ port: 443, nodePort: 31443, protocol: 'TCP' }] }, {}, { 'External-IP': '<pending>', 'Port(s)': '443:31443/TCP' }],
    ['load balancer with an address and external IPs', { type: 'LoadBalancer', clusterIP: '10.96.0.3', externalIPs: ['198.51.100.9'] }, { loadBalancer: { ingress: [{ ip: '203.0.113.5' }, { hostname: 'lb.example.com' }] } }, { 'External-IP': '203.0.113.5,lb.example.com,198.51.100.9' }],
    ['external name', { type: 'ExternalName', externalName: 'db.example.com' }, {}, { 'Cluster-IP': '<none>', 'External-IP': 'db.example.com', 'Port(s)': '<none>' }],
  ])('%s', (_n, spec, status, want) => {
    const c = cells('', 'services', svc(spec, status));
    for (const [k, v] of Object.entries(want)) expect(c[k], k).toBe(v);
  });
});

describe('endpoints', () => {
  const ep = (subsets: unknown[] | undefined) => ({ metadata: { name: 'e' }, subsets });
  test.each<[string, unknown[] | undefined, string]>([
    ['no subsets', undefined, '<none>'],
    ['subset without ready addresses', [{ notReadyAddresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }], '<none>'],
    ['two addresses', [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], ports: [{ port: 80 }] }], '10.0.0.1:80,10.0.0.2:80'],
    ['more than three', [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }, { ip: '10.0.0.3' }], ports: [{ port: 80 }, { port: 443 }] }], '10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 3 more...'],
    ['headless without ports', [{ addresses: [{ ip: '10.0.0.1' }] }], '10.0.0.1'],
    ['IPv6', [{ addresses: [{ ip: 'fd00::1' }], ports: [{ port: 8080 }] }], '[fd00::1]:8080'],
  ])('%s', (_n, subsets, want) => {
    expect(cells('', 'endpoints', ep(subsets)).Endpoints).toBe(want);
  });
});

describe('config and accounts', () => {
  test('config maps count text and binary keys; secrets show their type; accounts their secrets', () => {
    expect(cells('', 'configmaps', { data: { a: '1' }, binaryData: { b: 'AA==' } }).Data).toBe(2);
    expect(cells('', 'secrets', { type: 'kubernetes.io/tls', data: { 'tls.crt': '', 'tls.key': '' } })).toMatchObject({ Type: 'kubernetes.io/tls', Data: 2 });
    expect(cells('', 'serviceaccounts', { secrets: [{ name: 'tok' }] }).Secrets).toBe(1);
    expect(cells('', 'namespaces', { status: { phase: 'Terminating' } }).Status).toBe('Terminating');
  });
});

describe('events', () => {
  test('columns: LAST SEEN TYPE REASON OBJECT MESSAGE, the rest with -o wide', () => {
    expect(columnsOf('', 'events').filter((c) => c.priority === 0).map((c) => c.name)).toEqual(['Last Seen', 'Type', 'Reason', 'Object', 'Message']);
    expect(columnsOf('', 'events').map((c) => c.name)).toEqual(['Last Seen', 'Type', 'Reason', 'Object', 'Subobject', 'Source', 'Message', 'First Seen', 'Count', 'Name']);
  });

  test('an old-style event', () => {
    const c = cells('', 'events', {
      metadata: { name: 'p.1' },
      involvedObject: { kind: 'Pod', name: 'web-1', fieldPath: 'spec.containers{app}' },
      type: 'Warning', reason: 'BackOff', message: ' Back-off restarting failed container\n', count: 12,
      firstTimestamp: ago(30 * minutes), lastTimestamp: ago(45 * seconds), source: { component: 'kubelet', host: 'node-1' },
    });
    expect(c).toEqual({
      'Last Seen': '45s', Type: 'Warning', Reason: 'BackOff', Object: 'pod/web-1', Subobject: 'spec.containers{app}', Source: 'kubelet, node-1',
      Message: 'Back-off restarting failed container', 'First Seen': '30m', Count: 12, Name: 'p.1',
    });
  });

  test('a new-style event: times from eventTime and the series, source from the reporting controller', () => {
    const c = cells('', 'events', {
      involvedObject: { kind: 'Node' }, type: 'Normal', reason: 'Starting', eventTime: ago(3 * hours),
      series: { count: 4, lastObservedTime: ago(10 * minutes) }, reportingComponent: 'kube-proxy', reportingInstance: '',
    });
    expect([c['Last Seen'], c['First Seen'], c.Count, c.Object, c.Source]).toEqual(['10m', '3h', 4, 'node', 'kube-proxy']);
    const single = cells('', 'events', { involvedObject: { kind: 'Pod', name: 'a' }, eventTime: ago(5 * seconds) });
    expect([single['Last Seen'], single.Count]).toEqual(['5s', 1]);
  });
});

describe('replication controllers, pod templates and component statuses', () => {
  test('replication controllers', () => {
    const c = cells('', 'replicationcontrollers', { spec: { replicas: 3, selector: { app: 'web' }, template: { spec: { containers: [{ name: 'a', image: 'nginx' }, { name: 'b', image: 'redis:7' }] } } }, status: { replicas: 3, readyReplicas: 1 } });
    expect([c.Desired, c.Current, c.Ready, c.Containers, c.Images, c.Selector]).toEqual([3, 3, 1, 'a,b', 'nginx,redis:7', 'app=web']);
  });
  test('pod templates', () => {
    expect(cells('', 'podtemplates', { template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } })).toMatchObject({ Containers: 'c', Images: 'busybox', 'Pod Labels': 'app=x' });
  });
  test.each([
    [[{ type: 'Healthy', status: 'True', message: 'ok' }], ['Healthy', 'ok', '']],
    [[{ type: 'Healthy', status: 'False', error: 'connection refused' }], ['Unhealthy', '', 'connection refused']],
    [[], ['Unknown', '', '']],
  ])('component status %j', (conditions, want) => {
    const c = cells('', 'componentstatuses', { conditions });
    expect([c.Status, c.Message, c.Error]).toEqual(want);
  });
});

describe('quotas, limit ranges, volumes and claims', () => {
  test('quota: requests and limits split, used/hard per resource, sorted', () => {
    const c = cells('', 'resourcequotas', {
      spec: { hard: { 'requests.cpu': '2', pods: '10', 'limits.memory': '2Gi', 'limits.cpu': '4' } },
      status: { hard: { 'requests.cpu': '2', pods: '10', 'limits.memory': '2Gi', 'limits.cpu': '4' }, used: { 'requests.cpu': '250m', pods: '3' } },
    });
    expect(c.Request).toBe('pods: 3/10, requests.cpu: 250m/2');
    expect(c.Limit).toBe('limits.cpu: 0/4, limits.memory: 0/2Gi');
  });

  test('limit range shows its creation time', () => {
    expect(cells('', 'limitranges', { metadata: { creationTimestamp: '2024-05-06T07:08:09Z' } })['Created At']).toBe('2024-05-06T07:08:09Z');
  });

  test('persistent volume', () => {
    const c = cells('', 'persistentvolumes', {
      metadata: { annotations: {} },
      spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'], persistentVolumeReclaimPolicy: 'Delete', claimRef: { namespace: 'db', name: 'data-0' }, storageClassName: 'fast', volumeMode: 'Block' },
      status: { phase: 'Bound' },
    });
    expect(c).toMatchObject({ Capacity: '5Gi', 'Access Modes': 'RWO,RWX,RWOP', 'Reclaim Policy': 'Delete', Status: 'Bound', Claim: 'db/data-0', StorageClass: 'fast', VolumeAttributesClass: '<unset>', Reason: '', VolumeMode: 'Block' });
    const released = cells('', 'persistentvolumes', { metadata: { deletionTimestamp: ago(0), annotations: { 'volume.beta.kubernetes.io/storage-class': 'old' } }, spec: {}, status: { phase: 'Released', reason: 'Reclaiming' } });
    expect(released).toMatchObject({ Capacity: '0', Status: 'Terminating', Claim: '', StorageClass: 'old', Reason: 'Reclaiming', VolumeMode: '<unset>' });
  });

  test('claim: capacity and access modes only once bound', () => {
    const pending = cells('', 'persistentvolumeclaims', { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard', volumeMode: 'Filesystem' }, status: { phase: 'Pending' } });
    expect(pending).toMatchObject({ Status: 'Pending', Volume: '', Capacity: '', 'Access Modes': '', StorageClass: 'standard', VolumeMode: 'Filesystem' });
    const bound = cells('', 'persistentvolumeclaims', { spec: { volumeName: 'pv-9', resources: { requests: { storage: '1Gi' } }, volumeAttributesClassName: 'gold' }, status: { phase: 'Bound', capacity: { storage: '2Gi' }, accessModes: ['ReadWriteOnce'] } });
    expect(bound).toMatchObject({ Status: 'Bound', Volume: 'pv-9', Capacity: '2Gi', 'Access Modes': 'RWO', VolumeAttributesClass: 'gold' });
  });
});
