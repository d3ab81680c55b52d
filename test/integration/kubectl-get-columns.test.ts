/**
 * `kubectl get <kind>` and `kubectl get <kind> -o wide` against tkube-apiserver, with the real
 * kubectl binaries: one object of every built-in kind is created over HTTP (JSON), and the
 * columns kubectl prints (from the server-side Table) must be upstream's, with a row that
 * shows the object as upstream formats it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { kubectls, runKubectl, type Kubectl } from '../support/kubectl.js';

let s: TestAPIServer;
const ns = 'cols';
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');

/** Splits kubectl's aligned output into cells by the header's column offsets (cells may be empty or hold spaces). */
function parseTable(out: string): { headers: string[]; rows: Record<string, string>[] } {
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  const header = lines[0] ?? '';
  const starts: number[] = [];
  const headers: string[] = [];
  const re = /\S+(?: \S+)*/g;
  for (let m = re.exec(header); m; m = re.exec(header)) {
    starts.push(m.index);
    headers.push(m[0]);
  }
  const rows = lines.slice(1).map((line) => {
    const row: Record<string, string> = {};
    headers.forEach((h, i) => (row[h] = line.slice(starts[i], i + 1 < starts.length ? starts[i + 1] : undefined).trim()));
    return row;
  });
  return { headers, rows };
}

const podSpec = { containers: [{ name: 'web', image: 'nginx:1.27' }] };
const template = (app: string) => ({ metadata: { labels: { app } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } });

interface Case {
  /** What kubectl is asked for. */
  resource: string;
  namespaced: boolean;
  /** Where the object is POSTed, and what. */
  path: string;
  body: Record<string, unknown>;
  /** A merge patch for the status subresource, after create. */
  status?: Record<string, unknown>;
  headers: string[];
  wide?: string[];
  /** Cells of the object's row (the plain output), by header. */
  row: Record<string, string | RegExp>;
  /** Cells of the row only `-o wide` shows. */
  wideRow?: Record<string, string | RegExp>;
}

const cases: Case[] = [
  {
    resource: 'pods', namespaced: true, path: `/api/v1/namespaces/${ns}/pods`,
    // Its cpu request is what the quota below counts (the API server keeps quota usage).
    body: { metadata: { name: 'web-1' }, spec: { containers: [{ ...podSpec.containers[0], resources: { requests: { cpu: '500m' } } }] } },
    status: {
      status: {
        phase: 'Running',
        podIP: '10.244.1.5',
        podIPs: [{ ip: '10.244.1.5' }],
        containerStatuses: [
          { name: 'web', ready: false, restartCount: 3, image: 'nginx:1.27', imageID: '', state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, finishedAt: minutesAgo(5) } } },
        ],
      },
    },
    headers: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
    wide: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'],
    row: { NAME: 'web-1', READY: '0/1', STATUS: 'CrashLoopBackOff', RESTARTS: /^3 \(5m(\d+s)? ago\)$/ },
    wideRow: { IP: '10.244.1.5', NODE: '<none>', 'NOMINATED NODE': '<none>', 'READINESS GATES': '<none>' },
  },
  {
    resource: 'namespaces', namespaced: false, path: '/api/v1/namespaces', body: { metadata: { name: 'cols-extra' } },
    headers: ['NAME', 'STATUS', 'AGE'], row: { NAME: 'cols-extra', STATUS: 'Active' },
  },
  {
    resource: 'nodes', namespaced: false, path: '/api/v1/nodes',
    body: { metadata: { name: 'node-1', labels: { 'node-role.kubernetes.io/control-plane': '' } }, spec: { unschedulable: true } },
    status: {
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: '192.168.1.10' }, { type: 'Hostname', address: 'node-1' }],
        nodeInfo: { kubeletVersion: 'v1.32.0', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0-18-amd64', containerRuntimeVersion: 'docker://27.1.1' },
      },
    },
    headers: ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'],
    wide: ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION', 'INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME'],
    row: { NAME: 'node-1', STATUS: 'Ready,SchedulingDisabled', ROLES: 'control-plane', VERSION: 'v1.32.0' },
    wideRow: { 'INTERNAL-IP': '192.168.1.10', 'EXTERNAL-IP': '<none>', 'OS-IMAGE': 'Debian GNU/Linux 12 (bookworm)', 'KERNEL-VERSION': '6.1.0-18-amd64', 'CONTAINER-RUNTIME': 'docker://27.1.1' },
  },
  {
    resource: 'services', namespaced: true, path: `/api/v1/namespaces/${ns}/services`,
    body: { metadata: { name: 'web' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, nodePort: 30080 }] } },
    headers: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
    wide: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR'],
    row: { NAME: 'web', TYPE: 'NodePort', 'CLUSTER-IP': /^10\.\d+\.\d+\.\d+$/, 'EXTERNAL-IP': '<none>', 'PORT(S)': '80:30080/TCP' },
    wideRow: { SELECTOR: 'app=web' },
  },
  {
    resource: 'endpoints', namespaced: true, path: `/api/v1/namespaces/${ns}/endpoints`,
    body: { metadata: { name: 'web' }, subsets: [{ addresses: ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].map((ip) => ({ ip })), ports: [{ port: 80 }] }] },
    headers: ['NAME', 'ENDPOINTS', 'AGE'],
    row: { NAME: 'web', ENDPOINTS: '10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more...' },
  },
  {
    resource: 'configmaps', namespaced: true, path: `/api/v1/namespaces/${ns}/configmaps`,
    body: { metadata: { name: 'cfg' }, data: { a: '1', b: '2' } },
    headers: ['NAME', 'DATA', 'AGE'], row: { NAME: 'cfg', DATA: '2' },
  },
  {
    resource: 'secrets', namespaced: true, path: `/api/v1/namespaces/${ns}/secrets`,
    body: { metadata: { name: 'creds' }, stringData: { user: 'me' } },
    headers: ['NAME', 'TYPE', 'DATA', 'AGE'], row: { NAME: 'creds', TYPE: 'Opaque', DATA: '1' },
  },
  {
    resource: 'serviceaccounts', namespaced: true, path: `/api/v1/namespaces/${ns}/serviceaccounts`,
    body: { metadata: { name: 'robot' } },
    headers: ['NAME', 'SECRETS', 'AGE'], row: { NAME: 'robot', SECRETS: '0' },
  },
  {
    resource: 'events', namespaced: true, path: `/api/v1/namespaces/${ns}/events`,
    body: {
      metadata: { name: 'web-1.17f2' },
      involvedObject: { kind: 'Pod', name: 'web-1', namespace: ns, fieldPath: 'spec.containers{web}' },
      reason: 'BackOff', message: 'Back-off restarting failed container web ', type: 'Warning', count: 7,
      source: { component: 'kubelet', host: 'node-1' }, firstTimestamp: minutesAgo(20), lastTimestamp: minutesAgo(2),
    },
    headers: ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
    wide: ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'SUBOBJECT', 'SOURCE', 'MESSAGE', 'FIRST SEEN', 'COUNT', 'NAME'],
    row: { 'LAST SEEN': /^2m(\d+s)?$/, TYPE: 'Warning', REASON: 'BackOff', OBJECT: 'pod/web-1', MESSAGE: 'Back-off restarting failed container web' },
    wideRow: { SUBOBJECT: 'spec.containers{web}', SOURCE: 'kubelet, node-1', 'FIRST SEEN': '20m', COUNT: '7', NAME: 'web-1.17f2' },
  },
  {
    resource: 'replicationcontrollers', namespaced: true, path: `/api/v1/namespaces/${ns}/replicationcontrollers`,
    body: { metadata: { name: 'rc' }, spec: { replicas: 2, template: template('rc') } },
    headers: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE'],
    wide: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR'],
    row: { NAME: 'rc', DESIRED: '2', CURRENT: '0', READY: '0' },
    wideRow: { CONTAINERS: 'web', IMAGES: 'nginx:1.27', SELECTOR: 'app=rc' },
  },
  {
    resource: 'podtemplates', namespaced: true, path: `/api/v1/namespaces/${ns}/podtemplates`,
    body: { metadata: { name: 'tpl' }, template: template('tpl') },
    headers: ['NAME', 'CONTAINERS', 'IMAGES', 'POD LABELS'], row: { NAME: 'tpl', CONTAINERS: 'web', IMAGES: 'nginx:1.27', 'POD LABELS': 'app=tpl' },
  },
  {
    resource: 'resourcequotas', namespaced: true, path: `/api/v1/namespaces/${ns}/resourcequotas`,
    body: { metadata: { name: 'quota' }, spec: { hard: { pods: '10', 'requests.cpu': '2', 'limits.memory': '1Gi' } } },
    status: { status: { hard: { pods: '10', 'requests.cpu': '2', 'limits.memory': '1Gi' }, used: { pods: '1', 'requests.cpu': '500m', 'limits.memory': '0' } } },
    headers: ['NAME', 'AGE', 'REQUEST', 'LIMIT'],
    row: { NAME: 'quota', REQUEST: 'pods: 1/10, requests.cpu: 500m/2', LIMIT: 'limits.memory: 0/1Gi' },
  },
  {
    resource: 'limitranges', namespaced: true, path: `/api/v1/namespaces/${ns}/limitranges`,
    body: { metadata: { name: 'limits' }, spec: { limits: [{ type: 'Container', default: { cpu: '500m' } }] } },
    headers: ['NAME', 'CREATED AT'], row: { NAME: 'limits', 'CREATED AT': /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/ },
  },
  {
    resource: 'persistentvolumes', namespaced: false, path: '/api/v1/persistentvolumes',
    body: { metadata: { name: 'pv-1' }, spec: { capacity: { storage: '10Gi' }, accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], hostPath: { path: '/data/pv-1' }, storageClassName: 'manual' } },
    headers: ['NAME', 'CAPACITY', 'ACCESS MODES', 'RECLAIM POLICY', 'STATUS', 'CLAIM', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'REASON', 'AGE'],
    wide: ['NAME', 'CAPACITY', 'ACCESS MODES', 'RECLAIM POLICY', 'STATUS', 'CLAIM', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'REASON', 'AGE', 'VOLUMEMODE'],
    row: { NAME: 'pv-1', CAPACITY: '10Gi', 'ACCESS MODES': 'RWO,ROX', 'RECLAIM POLICY': 'Retain', STATUS: 'Pending', CLAIM: '', STORAGECLASS: 'manual', VOLUMEATTRIBUTESCLASS: '<unset>', REASON: '' },
    wideRow: { VOLUMEMODE: 'Filesystem' },
  },
  {
    resource: 'persistentvolumeclaims', namespaced: true, path: `/api/v1/namespaces/${ns}/persistentvolumeclaims`,
    body: { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard' } },
    headers: ['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE'],
    wide: ['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE', 'VOLUMEMODE'],
    row: { NAME: 'data', STATUS: 'Pending', VOLUME: '', CAPACITY: '', 'ACCESS MODES': '', STORAGECLASS: 'standard', VOLUMEATTRIBUTESCLASS: '<unset>' },
    wideRow: { VOLUMEMODE: 'Filesystem' },
  },
  {
    resource: 'deployments', namespaced: true, path: `/apis/apps/v1/namespaces/${ns}/deployments`,
    body: { metadata: { name: 'web' }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: template('web') } },
    status: { status: { replicas: 3, readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } },
    headers: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
    wide: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR'],
    row: { NAME: 'web', READY: '2/3', 'UP-TO-DATE': '3', AVAILABLE: '2' },
    wideRow: { CONTAINERS: 'web', IMAGES: 'nginx:1.27', SELECTOR: 'app=web' },
  },
  {
    resource: 'replicasets', namespaced: true, path: `/apis/apps/v1/namespaces/${ns}/replicasets`,
    body: { metadata: { name: 'web-5d4b' }, spec: { replicas: 2, selector: { matchLabels: { app: 'rs' } }, template: template('rs') } },
    headers: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE'],
    wide: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR'],
    row: { NAME: 'web-5d4b', DESIRED: '2', CURRENT: '0', READY: '0' },
    wideRow: { SELECTOR: 'app=rs' },
  },
  {
    resource: 'daemonsets', namespaced: true, path: `/apis/apps/v1/namespaces/${ns}/daemonsets`,
    body: { metadata: { name: 'agent' }, spec: { selector: { matchLabels: { app: 'agent' } }, template: { ...template('agent'), spec: { ...template('agent').spec, nodeSelector: { 'kubernetes.io/os': 'linux' } } } } },
    headers: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE'],
    wide: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR'],
    row: { NAME: 'agent', DESIRED: '0', 'NODE SELECTOR': 'kubernetes.io/os=linux' },
    wideRow: { SELECTOR: 'app=agent' },
  },
  {
    resource: 'statefulsets', namespaced: true, path: `/apis/apps/v1/namespaces/${ns}/statefulsets`,
    body: {
      metadata: { name: 'db' },
      spec: {
        replicas: 2, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: template('db'),
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    },
    headers: ['NAME', 'READY', 'AGE'], wide: ['NAME', 'READY', 'AGE', 'CONTAINERS', 'IMAGES'],
    row: { NAME: 'db', READY: '0/2' }, wideRow: { CONTAINERS: 'web', IMAGES: 'nginx:1.27' },
  },
  {
    resource: 'controllerrevisions', namespaced: true, path: `/apis/apps/v1/namespaces/${ns}/controllerrevisions`,
    body: { metadata: { name: 'agent-7c9', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: '0e7b2c9e-2b7e-4b8e-9a4f-1d2c3b4a5f60', controller: true }] }, revision: 1 },
    headers: ['NAME', 'CONTROLLER', 'REVISION', 'AGE'], row: { NAME: 'agent-7c9', CONTROLLER: 'daemonset.apps/agent', REVISION: '1' },
  },
  {
    resource: 'jobs', namespaced: true, path: `/apis/batch/v1/namespaces/${ns}/jobs`,
    body: { metadata: { name: 'pi' }, spec: { completions: 3, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl:5.34' }] } } } },
    status: { status: { startTime: minutesAgo(4), succeeded: 1, active: 1 } },
    headers: ['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE'],
    wide: ['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR'],
    row: { NAME: 'pi', STATUS: 'Running', COMPLETIONS: '1/3', DURATION: /^4m(\d+s)?$/ },
    wideRow: { CONTAINERS: 'pi', IMAGES: 'perl:5.34', SELECTOR: /^batch\.kubernetes\.io\/controller-uid=[0-9a-f-]{36}$/ },
  },
  {
    resource: 'cronjobs', namespaced: true, path: `/apis/batch/v1/namespaces/${ns}/cronjobs`,
    body: { metadata: { name: 'nightly' }, spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'backup', image: 'busybox:1.36' }] } } } } } },
    headers: ['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE'],
    wide: ['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR'],
    row: { NAME: 'nightly', SCHEDULE: '0 3 * * *', TIMEZONE: '<none>', SUSPEND: 'False', ACTIVE: '0', 'LAST SCHEDULE': '<none>' },
    wideRow: { CONTAINERS: 'backup', IMAGES: 'busybox:1.36', SELECTOR: '<none>' },
  },
  {
    resource: 'leases', namespaced: true, path: `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`,
    body: { metadata: { name: 'leader' }, spec: { holderIdentity: 'node-1_abc', leaseDurationSeconds: 15 } },
    headers: ['NAME', 'HOLDER', 'AGE'], row: { NAME: 'leader', HOLDER: 'node-1_abc' },
  },
  {
    resource: 'endpointslices', namespaced: true, path: `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`,
    body: { metadata: { name: 'web-abc' }, addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2'] }], ports: [{ name: 'http', port: 80 }, { name: 'metrics' }] },
    headers: ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE'], row: { NAME: 'web-abc', ADDRESSTYPE: 'IPv4', PORTS: '80,metrics', ENDPOINTS: '10.0.0.1,10.0.0.2' },
  },
  {
    resource: 'poddisruptionbudgets', namespaced: true, path: `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets`,
    body: { metadata: { name: 'web' }, spec: { minAvailable: '50%', selector: { matchLabels: { app: 'web' } } } },
    headers: ['NAME', 'MIN AVAILABLE', 'MAX UNAVAILABLE', 'ALLOWED DISRUPTIONS', 'AGE'], row: { NAME: 'web', 'MIN AVAILABLE': '50%', 'MAX UNAVAILABLE': 'N/A', 'ALLOWED DISRUPTIONS': '0' },
  },
  {
    resource: 'ingresses', namespaced: true, path: `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses`,
    body: {
      metadata: { name: 'web' },
      spec: {
        ingressClassName: 'nginx', tls: [{ hosts: ['web.example.com'], secretName: 'web-tls' }],
        rules: [{ host: 'web.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }],
      },
    },
    headers: ['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE'], row: { NAME: 'web', CLASS: 'nginx', HOSTS: 'web.example.com', ADDRESS: '', PORTS: '80, 443' },
  },
  {
    resource: 'ingressclasses', namespaced: false, path: '/apis/networking.k8s.io/v1/ingressclasses',
    body: { metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx', parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb' } } },
    headers: ['NAME', 'CONTROLLER', 'PARAMETERS', 'AGE'], row: { NAME: 'nginx', CONTROLLER: 'k8s.io/ingress-nginx', PARAMETERS: 'IngressParameters.k8s.example.com/external-lb' },
  },
  {
    resource: 'networkpolicies', namespaced: true, path: `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`,
    body: { metadata: { name: 'deny' }, spec: { podSelector: { matchLabels: { app: 'db' } } } },
    headers: ['NAME', 'POD-SELECTOR', 'AGE'], row: { NAME: 'deny', 'POD-SELECTOR': 'app=db' },
  },
  {
    resource: 'priorityclasses', namespaced: false, path: '/apis/scheduling.k8s.io/v1/priorityclasses',
    body: { metadata: { name: 'high' }, value: 1000000 },
    headers: ['NAME', 'VALUE', 'GLOBAL-DEFAULT', 'AGE', 'PREEMPTIONPOLICY'], row: { NAME: 'high', VALUE: '1000000', 'GLOBAL-DEFAULT': 'false', PREEMPTIONPOLICY: 'PreemptLowerPriority' },
  },
  {
    resource: 'runtimeclasses', namespaced: false, path: '/apis/node.k8s.io/v1/runtimeclasses',
    body: { metadata: { name: 'gvisor' }, handler: 'runsc' },
    headers: ['NAME', 'HANDLER', 'AGE'], row: { NAME: 'gvisor', HANDLER: 'runsc' },
  },
  {
    resource: 'storageclasses', namespaced: false, path: '/apis/storage.k8s.io/v1/storageclasses',
    body: { metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'rancher.io/local-path', volumeBindingMode: 'WaitForFirstConsumer' },
    headers: ['NAME', 'PROVISIONER', 'RECLAIMPOLICY', 'VOLUMEBINDINGMODE', 'ALLOWVOLUMEEXPANSION', 'AGE'],
    row: { NAME: 'standard (default)', PROVISIONER: 'rancher.io/local-path', RECLAIMPOLICY: 'Delete', VOLUMEBINDINGMODE: 'WaitForFirstConsumer', ALLOWVOLUMEEXPANSION: 'false' },
  },
  {
    resource: 'horizontalpodautoscalers', namespaced: true, path: `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers`,
    body: { metadata: { name: 'web' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 10 } },
    headers: ['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE'],
    row: { NAME: 'web', REFERENCE: 'Deployment/web', TARGETS: 'cpu: <unknown>/80%', MINPODS: '1', MAXPODS: '10', REPLICAS: '0' },
  },
];

function expectCells(row: Record<string, string> | undefined, want: Record<string, string | RegExp>) {
  expect(row).toBeDefined();
  for (const [h, v] of Object.entries(want)) {
    if (v instanceof RegExp) expect(row![h], h).toMatch(v);
    else expect(row![h], h).toBe(v);
  }
}

beforeAll(async () => {
  s = await startAPIServer();
  expect((await api(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: ns } })).status).toBe(201);
  for (const c of cases) {
    const r = await api(s.url, 'POST', c.path, c.body);
    expect(r.status, `${c.resource}: ${JSON.stringify(r.body)}`).toBe(201);
    if (c.status) {
      const name = (c.body.metadata as { name: string }).name;
      const st = await api(s.url, 'PATCH', `${c.path}/${name}/status`, c.status, { 'content-type': 'application/merge-patch+json' });
      expect(st.status, `${c.resource} status: ${JSON.stringify(st.body)}`).toBe(200);
    }
  }
  const created = await api(s.url, 'POST', `/apis/events.k8s.io/v1/namespaces/${ns}/events`, {
    metadata: { name: 'web-1.new' },
    eventTime: new Date(Date.now() - 60_000).toISOString(),
    reportingController: 'example.com/controller',
    reportingInstance: 'controller-0',
    action: 'Scaling',
    reason: 'Scaled',
    regarding: { kind: 'Deployment', name: 'web', namespace: ns },
    note: 'Scaled up to 3',
    type: 'Normal',
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
});
afterAll(async () => {
  await s?.stop();
});

const binaries = kubectls();

describe.each(binaries.map((k) => [k.version, k] as [string, Kubectl]))('kubectl %s', (_v, k) => {
  const get = async (args: string[]) => {
    const r = await runKubectl(k, s.kubeconfig, ['get', ...args]);
    expect(r.code, r.stderr).toBe(0);
    return parseTable(r.stdout);
  };

  test.each(cases.map((c) => [c.resource, c] as [string, Case]))('get %s', async (_r, c) => {
    const name = (c.body.metadata as { name: string }).name;
    const nsArgs = c.namespaced ? ['-n', ns] : [];
    const plain = await get([c.resource, ...nsArgs]);
    expect(plain.headers).toEqual(c.headers);
    const nameHeader = c.headers.includes('NAME') ? 'NAME' : undefined;
    const row = nameHeader ? plain.rows.find((r) => r[nameHeader] === name || r[nameHeader]?.startsWith(`${name} `)) : plain.rows[0];
    expectCells(row, c.row);

    const wide = await get([c.resource, ...nsArgs, '-o', 'wide']);
    expect(wide.headers).toEqual(c.wide ?? c.headers);
    const wideName = wide.headers.includes('NAME') ? 'NAME' : undefined;
    const wrow = wideName ? wide.rows.find((r) => r[wideName] === name || r[wideName]?.startsWith(`${name} `)) : wide.rows[0];
    expectCells(wrow, { ...c.row, ...(c.wideRow ?? {}) });
  });

  test('get events means core/v1 events; events.k8s.io ones are listed under their full name', async () => {
    const core = await get(['events', '-n', ns]);
    expect(core.rows.map((r) => r.REASON)).toEqual(['BackOff']);
    const newer = await get(['events.events.k8s.io', '-n', ns, '-o', 'wide']);
    expect(newer.headers).toEqual(cases.find((c) => c.resource === 'events')!.wide);
    expectCells(newer.rows[0], { TYPE: 'Normal', REASON: 'Scaled', OBJECT: 'deployment/web', SOURCE: 'example.com/controller, controller-0', MESSAGE: 'Scaled up to 3', COUNT: '1', NAME: 'web-1.new' });
  });

  test('the built-in priority classes exist', async () => {
    const pcs = await get(['priorityclasses']);
    expectCells(pcs.rows.find((r) => r.NAME === 'system-node-critical'), { VALUE: '2000001000', 'GLOBAL-DEFAULT': 'false' });
    expectCells(pcs.rows.find((r) => r.NAME === 'system-cluster-critical'), { VALUE: '2000000000' });
  });
});
