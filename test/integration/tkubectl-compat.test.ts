/**
 * tkubectl against the real kubectl, through the same verbs, on one live API server: what
 * they print (stdout, stderr, exit code) must be the same for get in every format, describe,
 * errors; and mutations done by each (in two namespaces) must leave the same stored objects.
 * tkubectl runs in-process (lib/kubectl's runTkubectl with memory streams); kubectl is the
 * binary from test/support. Program names are normalised in messages ("See 'kubectl get -h'").
 * Ages tick every second, so a comparison that differs is retried a few times.
 */
import { getEventListeners } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { api, startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { kubectls, runKubectl, type Kubectl, type RunResult } from '../support/kubectl.js';
import { bufferedIO, runTkubectl } from '../../lib/kubectl/index.js';

let s: TestAPIServer;
let k: Kubectl;
let dir: string;
const ns = 'compat';

async function tk(args: string[], input?: string, signal?: AbortSignal): Promise<RunResult> {
  const io = bufferedIO({ stdin: input, env: { HOME: dir, KUBECONFIG: s.kubeconfig }, cwd: dir, signal });
  const code = await runTkubectl(['--kubeconfig', s.kubeconfig, ...args], io);
  return { code, stdout: io.out(), stderr: io.err() };
}

const kc = (args: string[], input?: string) => runKubectl(k, s.kubeconfig, args, { input, env: { HOME: dir } });

const norm = (r: RunResult, extra: (t: string) => string = (t) => t) => ({
  code: r.code,
  stdout: extra(r.stdout),
  stderr: extra(r.stderr.replace(/\bt?kubectl\b/g, 'KUBECTL')),
});

/** Both programs, same arguments; equal output expected (retried while ages tick). */
async function expectSame(args: string[], input?: string): Promise<RunResult> {
  let a: ReturnType<typeof norm> | undefined;
  let b: ReturnType<typeof norm> | undefined;
  for (let i = 0; i < 5; i++) {
    a = norm(await kc(args, input));
    b = norm(await tk(args, input));
    if (JSON.stringify(a) === JSON.stringify(b)) return b as RunResult;
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(b).toEqual(a);
  return b as RunResult;
}

const manifest = `apiVersion: v1
kind: Pod
metadata:
  name: web-1
  labels: {app: web, tier: front}
spec:
  nodeName: node-b
  containers:
  - name: web
    image: nginx:1.27
    ports: [{containerPort: 80}]
    env: [{name: MODE, value: prod}]
---
apiVersion: v1
kind: Pod
metadata:
  name: web-2
  labels: {app: web, tier: back}
spec:
  nodeName: node-a
  containers:
  - name: web
    image: nginx:1.27
  - name: side
    image: busybox:1.36
    command: [sleep, "3600"]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels: {app: web}
data:
  color: blue
  note: "a long note that goes on and on, well past the eighty columns that go-yaml folds plain text at"
  script: |
    #!/bin/sh
    echo hi
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.27"}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
`;

beforeAll(async () => {
  s = await startAPIServer();
  k = kubectls().find((x) => x.version === '1.32') ?? kubectls()[0]!;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkubectl-compat-'));
  await api(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: ns } });
  await api(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'empty' } });
  const r = await kc(['create', '-n', ns, '-f', '-'], manifest);
  expect(r.stderr).toBe('');
  // An event about web-1, as the scheduler would record it, for describe's Events section.
  const pod = (await api(s.url, 'GET', `/api/v1/namespaces/${ns}/pods/web-1`)).body;
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await api(s.url, 'POST', `/api/v1/namespaces/${ns}/events`, {
    metadata: { name: 'web-1.1' },
    involvedObject: { kind: 'Pod', namespace: ns, name: 'web-1', uid: pod.metadata.uid, apiVersion: 'v1' },
    reason: 'Scheduled',
    message: `Successfully assigned ${ns}/web-1 to node-b`,
    source: { component: 'default-scheduler' },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
    type: 'Normal',
  });
  // Volumes and claims for describe: one bound (as the binder leaves them) and mounted by a pod,
  // one volume with node affinity, and a claim still waiting.
  await api(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'storage' } });
  const pv = (name: string, extra: Record<string, unknown>) => ({
    metadata: { name, labels: { tier: 'disk' } },
    spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], persistentVolumeReclaimPolicy: 'Retain', storageClassName: 'manual', ...extra },
  });
  await api(s.url, 'POST', '/api/v1/persistentvolumes', pv('data-pv', { hostPath: { path: '/tmp/data', type: 'DirectoryOrCreate' }, claimRef: { namespace: 'storage', name: 'data' } }));
  await api(s.url, 'PATCH', '/api/v1/persistentvolumes/data-pv/status', { status: { phase: 'Bound' } }, { 'content-type': 'application/merge-patch+json' });
  await api(s.url, 'POST', '/api/v1/persistentvolumes', pv('local-pv', { local: { path: '/mnt/disk1' }, nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-a', 'node-b'] }] }] } } }));
  const claim = (name: string, extra: Record<string, unknown>) => ({ metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '500Mi' } }, storageClassName: 'manual', ...extra } });
  await api(s.url, 'POST', '/api/v1/namespaces/storage/persistentvolumeclaims', claim('data', { volumeName: 'data-pv' }));
  await api(s.url, 'PATCH', '/api/v1/namespaces/storage/persistentvolumeclaims/data/status', { status: { phase: 'Bound', accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], capacity: { storage: '1Gi' } } }, { 'content-type': 'application/merge-patch+json' });
  await api(s.url, 'POST', '/api/v1/namespaces/storage/persistentvolumeclaims', claim('waiting', {}));
  await api(s.url, 'POST', '/api/v1/namespaces/storage/pods', {
    metadata: { name: 'writer' },
    spec: { containers: [{ name: 'c', image: 'busybox:1.36' }], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }] },
  });
  // One key each: kubectl lists the keys of a ConfigMap or Secret in Go's random map order.
  await api(s.url, 'POST', '/api/v1/namespaces/storage/secrets', { metadata: { name: 'creds', labels: { app: 'db' } }, type: 'Opaque', data: { password: Buffer.from('s3cret!').toString('base64') } });
  await api(s.url, 'POST', '/api/v1/namespaces/storage/configmaps', { metadata: { name: 'blob' }, data: { 'a.txt': 'one line' }, binaryData: { 'b.bin': Buffer.from([0, 1, 2, 3, 255]).toString('base64') } });
  // Absolute paths: kubectl runs in this process's directory, tkubectl in \`dir\`.
  fs.writeFileSync(path.join(os.tmpdir(), 'tkubectl-compat-cols.txt'), 'POD NODE\nmetadata.name spec.nodeName\n');
  fs.writeFileSync(path.join(os.tmpdir(), 'tkubectl-compat-tpl.txt'), '{range .items[*]}{.metadata.name}={.spec.nodeName}{"\\n"}{end}');
});
afterAll(async () => {
  await s?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  for (const f of ['tkubectl-compat-cols.txt', 'tkubectl-compat-tpl.txt']) fs.rmSync(path.join(os.tmpdir(), f), { force: true });
});

describe('get: the same output as kubectl', () => {
  test.each([
    [['get', 'pods', '-n', ns]],
    [['get', 'pods', '-n', ns, '-o', 'wide']],
    [['get', 'pods,cm', '-n', ns]],
    [['get', 'all', '-n', ns]],
    [['get', 'deploy/web', 'cm/settings', '-n', ns]],
    [['get', 'pod', 'web-1', '-n', ns, '-o', 'yaml']],
    [['get', 'pods', '-n', ns, '-o', 'json']],
    [['get', 'cm', 'settings', '-n', ns, '-o', 'yaml']],
    [['get', 'pods,deploy', '-n', ns, '-o', 'name']],
    [['get', 'pods', '-n', ns, '-o', 'jsonpath={.items[*].metadata.name}']],
    [['get', 'pods', '-n', ns, '-o', 'jsonpath={range .items[*]}{.metadata.name}{"\\t"}{.spec.containers[*].image}{"\\n"}{end}']],
    [['get', 'pod', 'web-2', '-n', ns, '-o', 'jsonpath={.metadata.labels}']],
    [['get', 'pods', '-n', ns, '-o', `jsonpath-file=${path.join(os.tmpdir(), 'tkubectl-compat-tpl.txt')}`]],
    [['get', 'po', '-o', 'custom-columns=POD:metadata.name,NODE:spec.nodeName', '--sort-by', 'spec.nodeName', '-n', ns]],
    [['get', 'pods', '-n', ns, '-o', `custom-columns-file=${path.join(os.tmpdir(), 'tkubectl-compat-cols.txt')}`, '--no-headers']],
    [['get', 'pods', '-n', ns, '-o', 'custom-columns=N:.metadata.name,L:.metadata.labels,C:.spec.containers[*].name,X:.nope']],
    [['get', 'pods', '-n', ns, '--sort-by=.spec.nodeName']],
    [['get', 'pods', '-n', ns, '-l', 'app=web,tier in (front)', '-L', 'tier', '--show-labels']],
    [['get', 'pods', '-n', ns, '--field-selector', 'spec.nodeName=node-a', '-o', 'name']],
    [['get', 'pods', '-A', '--no-headers']],
    [['get', 'cm', '-n', ns, '--chunk-size', '1', '--show-kind']],
    [['get', 'ns', '--sort-by', '{.metadata.name}']],
    [['get', 'svc', '-n', ns, '-o', 'wide']],
    [['get', 'pods', '-n', ns, '--ignore-not-found', '-o', 'yaml', 'nope']],
  ])('%j', async (args) => {
    await expectSame(args as string[]);
  });

  test.each([
    [['get', 'pod', 'nope', '-n', ns]],
    [['get', 'pods', 'web-1', 'nope1', 'nope2', '-n', ns]],
    [['get', 'widgets']],
    [['get', 'pods', '-n', 'empty']],
    [['get', 'nodes']],
    [['get', 'pods', '-n', ns, '-o', 'foo']],
    [['get', 'pod', 'web-1', '-A']],
    [['get', 'pods', 'deploy/web', '-n', ns]],
    [['get', 'all', 'web', '-n', ns]],
    [['get', 'pods', '-n', ns, '--sort-by', '.spec.foo']],
    [['get', 'pods', '--nope']],
    [['get', 'pods', '-x']],
    [['get']],
  ])('errors: %j', async (args) => {
    const r = await expectSame(args as string[]);
    expect(r.code === 0 ? r.stderr : 'failed').not.toBe('');
  });
});

describe('describe: the same output as kubectl', () => {
  test.each([
    [['describe', 'pod', 'web-1', '-n', ns]],
    [['describe', 'pods', '-n', ns, '-l', 'tier=back']],
    [['describe', 'deployment', 'web', '-n', ns]],
    [['describe', 'svc', 'web', '-n', ns]],
    [['describe', 'ns', ns]],
    [['describe', 'pod', 'we', '-n', ns]],
    [['describe', 'pod', 'nope', '-n', ns]],
    [['describe', 'configmap', 'blob', '-n', 'storage']],
    [['describe', 'secret', 'creds', '-n', 'storage']],
    [['describe', 'pv', 'data-pv']],
    [['describe', 'pv', 'local-pv']],
    [['describe', 'pvc', 'data', '-n', 'storage']],
    [['describe', 'pvc', 'waiting', '-n', 'storage']],
  ])('%j', async (args) => {
    await expectSame(args as string[]);
  });

  test('the volume and claim describers show what the binder wrote, and who mounts the claim', async () => {
    const claim = (await expectSame(['describe', 'pvc', 'data', '-n', 'storage'])).stdout;
    expect(claim).toMatch(/^Status: +Bound$/m);
    expect(claim).toMatch(/^Volume: +data-pv$/m);
    expect(claim).toMatch(/^Capacity: +1Gi$/m);
    expect(claim).toMatch(/^Access Modes: +RWO,ROX$/m);
    expect(claim).toMatch(/^Used By: +writer$/m);
    const volume = (await expectSame(['describe', 'pv', 'local-pv'])).stdout;
    expect(volume).toMatch(/^ {4}Term 0: +kubernetes.io\/hostname in \[node-a, node-b\]$/m);
    expect(volume).toMatch(/^ {4}Type: +LocalVolume/m);
  });
});

describe('discovery commands', () => {
  test.each([[['api-resources']], [['api-resources', '-o', 'wide', '--namespaced=false']], [['api-versions']], [['config', 'get-contexts']], [['config', 'view']]])('%j', async (args) => {
    await expectSame(args as string[]);
  });
});

/** Stored objects, without what the server assigns or what names the namespace. */
async function stored(namespace: string, resource: string, name: string): Promise<unknown> {
  const p = resource === 'deployments' ? `/apis/apps/v1/namespaces/${namespace}/deployments/${name}` : `/api/v1/namespaces/${namespace}/${resource}/${name}`;
  const r = await api(s.url, 'GET', p);
  if (r.status === 404) return 'absent';
  const o = JSON.parse(
    JSON.stringify(r.body)
      .replaceAll(`"namespace":"${namespace}"`, '"namespace":"NS"')
      .replaceAll(`\\"namespace\\":\\"${namespace}\\"`, '\\"namespace\\":\\"NS\\"')
      // The ServiceAccount admission names the token volume with a random suffix.
      .replace(/kube-api-access-[a-z0-9]{5}/g, 'kube-api-access-XXXXX'),
  );
  for (const key of ['uid', 'resourceVersion', 'creationTimestamp', 'managedFields']) delete o.metadata[key];
  if (o.spec?.clusterIP) {
    delete o.spec.clusterIP;
    delete o.spec.clusterIPs;
  }
  return o;
}

describe('mutations leave the same stored objects as kubectl', () => {
  const app = (replicas: number, image: string, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  labels: {app: app${extra}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers:
      - name: main
        image: ${image}
        env: [{name: A, value: "1"}, {name: B, value: "2"}]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: conf
data: {a: "1", b: "<b>&"}
`;
  const steps: { args: string[]; input?: string }[] = [
    { args: ['apply', '-f', '-'], input: app(2, 'nginx:1.27', ', tier: web') },
    { args: ['apply', '-f', '-'], input: app(2, 'nginx:1.27', ', tier: web') },
    { args: ['scale', 'deploy', 'app', '--replicas=5'] },
    { args: ['label', 'deploy', 'app', 'owner=me'] },
    { args: ['apply', '-f', '-'], input: app(3, 'nginx:1.28') },
    { args: ['patch', 'deploy', 'app', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"main","env":[{"name":"C","value":"3"}]}]}}}}'] },
    { args: ['patch', 'cm', 'conf', '--type', 'merge', '-p', '{"data":{"a":null,"c":"3"}}'] },
    { args: ['patch', 'cm', 'conf', '--type', 'json', '-p', '[{"op":"add","path":"/data/d","value":"4"}]'] },
    { args: ['patch', 'cm', 'conf', '-p', '{"data":{"d":"4"}}'] },
    { args: ['label', 'cm', 'conf', 'x=1', 'y=2'] },
    { args: ['label', 'cm', 'conf', 'x=2'] },
    { args: ['label', 'cm', 'conf', 'x=2', '--overwrite'] },
    { args: ['label', 'cm', 'conf', 'y-'] },
    { args: ['annotate', 'cm', 'conf', 'note=hello world'] },
    { args: ['annotate', 'cm', 'conf', 'note-'] },
    { args: ['create', 'configmap', 'extra', '--from-literal=k=v'] },
    { args: ['create', 'configmap', 'extra', '--from-literal=k=v'] },
    { args: ['create', 'secret', 'generic', 'creds', '--from-literal=user=admin'] },
    { args: ['create', 'deployment', 'gen', '--image=busybox', '--replicas=2', '--port=8080'] },
    { args: ['create', 'service', 'clusterip', 'gen', '--tcp=80:8080'] },
    { args: ['run', 'solo', '--image=busybox', '--labels=a=b', '--env=X=1', '--', 'sleep', '60'] },
    { args: ['create', '-f', '-'], input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n' },
    { args: ['delete', 'cm', 'extra', 'nope'] },
    { args: ['delete', 'pod', 'solo', '--now'] },
    { args: ['scale', 'deploy', 'app', '--replicas=1', '--current-replicas=7'] },
  ];
  const objects: [string, string][] = [
    ['deployments', 'app'],
    ['configmaps', 'conf'],
    ['configmaps', 'extra'],
    ['secrets', 'creds'],
    ['deployments', 'gen'],
    ['services', 'gen'],
    ['pods', 'solo'],
  ];

  test('step by step: same messages, same exit codes, same objects', async () => {
    await api(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'by-kubectl' } });
    await api(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'by-tkubectl' } });
    for (const step of steps) {
      const a = norm(await kc(['-n', 'by-kubectl', ...step.args], step.input), (t) => t.replaceAll('by-kubectl', 'NS'));
      const b = norm(await tk(['-n', 'by-tkubectl', ...step.args], step.input), (t) => t.replaceAll('by-tkubectl', 'NS'));
      expect({ step: step.args, ...b }).toEqual({ step: step.args, ...a });
      for (const [res, name] of objects) {
        expect({ step: step.args, obj: await stored('by-tkubectl', res, name) }).toEqual({ step: step.args, obj: await stored('by-kubectl', res, name) });
      }
    }
  });
});

describe('get --watch', () => {
  async function watchOutput(args: string[], act: () => Promise<void>, until: RegExp): Promise<string> {
    const ctl = new AbortController();
    const io = bufferedIO({ env: { HOME: dir }, cwd: dir, signal: ctl.signal });
    const running = runTkubectl(['--kubeconfig', s.kubeconfig, ...args], io);
    const waitFor = async (re: RegExp) => {
      const deadline = Date.now() + 10_000;
      while (!re.test(io.out())) {
        if (Date.now() > deadline) throw new Error(`never printed ${re}; got:\n${io.out()}${io.err()}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    await waitFor(/settings/);
    await act();
    await waitFor(until);
    ctl.abort();
    expect(await running).toBe(0);
    return io.out();
  }

  test('prints the list, then each change, with kubectl\'s EVENT column and remembered widths', async () => {
    const out = await watchOutput(
      ['get', 'cm', '-n', ns, '-w', '--output-watch-events'],
      async () => {
        await api(s.url, 'POST', `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'a-longer-watched-name' }, data: { a: '1' } });
        await api(s.url, 'DELETE', `/api/v1/namespaces/${ns}/configmaps/a-longer-watched-name`);
      },
      /DELETED/,
    );
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^EVENT {6}NAME {7}DATA {3}AGE$/);
    expect(lines[1]).toMatch(/^ADDED {6}settings {3}3 {6}\d+s$/);
    // creationTimestamp has whole seconds, so a fresh object's age is 0s or 1s
    expect(lines[2]).toMatch(/^ADDED {6}a-longer-watched-name {3}1 {6}[01]s$/);
    expect(lines[3]).toMatch(/^DELETED {4}a-longer-watched-name {3}1 {6}\d+s$/);
  });

  test('--color paints lines by event type and adds the EVENT column', async () => {
    const out = await watchOutput(
      ['get', 'cm', 'settings', '-n', ns, '-w', '--color'],
      async () => {
        await api(s.url, 'PATCH', `/api/v1/namespaces/${ns}/configmaps/settings`, { metadata: { labels: { watched: 'yes' } } }, { 'content-type': 'application/merge-patch+json' });
      },
      /MODIFIED/,
    );
    expect(out).toContain('\u001b[32mADDED');
    expect(out).toContain('\u001b[33mMODIFIED');
    expect(out.split('\n')[0]).toMatch(/^EVENT\s+NAME\s+DATA\s+AGE$/);
  });
});

describe('trace: the chain of events behind a deployment', () => {
  async function event(obj: any, kind: string, reason: string, message: string, component: string, host?: string, at = new Date()) {
    const ts = at.toISOString().replace(/\.\d+Z$/, 'Z');
    await api(s.url, 'POST', '/api/v1/namespaces/tr/events', {
      metadata: { generateName: `${obj.metadata.name}.` },
      involvedObject: { kind, namespace: 'tr', name: obj.metadata.name, uid: obj.metadata.uid },
      reason,
      message,
      source: host ? { component, host } : { component },
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
      type: 'Normal',
    });
  }

  test('follows ownerReferences from the Deployment to its Pods and prints who did what, in order', async () => {
    await api(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'tr' } });
    const tpl = { metadata: { labels: { app: 't' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } };
    const d = (await api(s.url, 'POST', '/apis/apps/v1/namespaces/tr/deployments', { metadata: { name: 'web' }, spec: { selector: { matchLabels: { app: 't' } }, template: tpl } })).body;
    const own = (o: any, kind: string) => [{ apiVersion: kind === 'Deployment' ? 'apps/v1' : 'apps/v1', kind, name: o.metadata.name, uid: o.metadata.uid, controller: true }];
    const rs = (await api(s.url, 'POST', '/apis/apps/v1/namespaces/tr/replicasets', { metadata: { name: 'web-abc', ownerReferences: own(d, 'Deployment') }, spec: { selector: { matchLabels: { app: 't' } }, template: tpl } })).body;
    const pod = (await api(s.url, 'POST', '/api/v1/namespaces/tr/pods', { metadata: { name: 'web-abc-1', labels: { app: 't' }, ownerReferences: own(rs, 'ReplicaSet') }, spec: tpl.spec })).body;
    const other = (await api(s.url, 'POST', '/api/v1/namespaces/tr/pods', { metadata: { name: 'unrelated' }, spec: tpl.spec })).body;
    const t0 = Date.now() + 1000;
    await event(d, 'Deployment', 'ScalingReplicaSet', 'Scaled up replica set web-abc from 0 to 1', 'deployment-controller', undefined, new Date(t0));
    await event(rs, 'ReplicaSet', 'SuccessfulCreate', 'Created pod: web-abc-1', 'replicaset-controller', undefined, new Date(t0 + 1000));
    await event(pod, 'Pod', 'Scheduled', 'Successfully assigned tr/web-abc-1 to node-1', 'default-scheduler', undefined, new Date(t0 + 2000));
    await event(pod, 'Pod', 'Started', 'Started container c', 'kubelet', 'node-1', new Date(t0 + 3000));
    await event(other, 'Pod', 'Scheduled', 'not part of the chain', 'default-scheduler', undefined, new Date(t0 + 2500));

    const r = await tk(['trace', 'deployment/web', '-n', 'tr']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('Tracing Deployment/web in tr: 3 objects (1 Deployment, 1 ReplicaSet, 1 Pod)');
    expect(lines[2]).toMatch(/^TIME\s+COMPONENT\s+OBJECT\s+REASON\s+MESSAGE$/);
    const body = lines.slice(3).map((l) => l.split(/\s{3,}/).slice(1));
    const events = body.filter((c) => c[2] !== 'Stored');
    expect(events).toEqual([
      ['deployment-controller', 'Deployment/web', 'ScalingReplicaSet', 'Scaled up replica set web-abc from 0 to 1'],
      ['replicaset-controller', 'ReplicaSet/web-abc', 'SuccessfulCreate', 'Created pod: web-abc-1'],
      ['default-scheduler', 'Pod/web-abc-1', 'Scheduled', 'Successfully assigned tr/web-abc-1 to node-1'],
      ['kubelet (node-1)', 'Pod/web-abc-1', 'Started', 'Started container c'],
    ]);
    expect(body.filter((c) => c[2] === 'Stored').map((c) => c[1])).toEqual(['Deployment/web', 'ReplicaSet/web-abc', 'Pod/web-abc-1']);
    expect(r.stdout).not.toContain('unrelated');

    // --watch picks up a rollout's new ReplicaSet and its events as they come.
    const ctl = new AbortController();
    const io = bufferedIO({ env: { HOME: dir }, cwd: dir, signal: ctl.signal });
    const running = runTkubectl(['--kubeconfig', s.kubeconfig, 'trace', 'deployment/web', '-n', 'tr', '--watch'], io);
    const waitFor = async (re: RegExp) => {
      const deadline = Date.now() + 10_000;
      while (!re.test(io.out())) {
        if (Date.now() > deadline) throw new Error(`never printed ${re}; got:\n${io.out()}${io.err()}`);
        await new Promise((res) => setTimeout(res, 25));
      }
    };
    await waitFor(/Started container c/);
    const rs2 = (await api(s.url, 'POST', '/apis/apps/v1/namespaces/tr/replicasets', { metadata: { name: 'web-def', ownerReferences: own(d, 'Deployment') }, spec: { selector: { matchLabels: { app: 't' } }, template: tpl } })).body;
    await event(rs2, 'ReplicaSet', 'SuccessfulCreate', 'Created pod: web-def-1', 'replicaset-controller');
    await waitFor(/ReplicaSet\/web-def\s+SuccessfulCreate/);
    ctl.abort();
    expect(await running).toBe(0);
    expect(io.out()).toMatch(/kube-apiserver\s+ReplicaSet\/web-def\s+Stored/);
  });
});

describe('commands tkubectl does not support yet say so', () => {
  test.each([['exec'], ['attach'], ['port-forward']])('%s exits 1 with a clear message', async (verb) => {
    const r = await tk([verb, 'web-1', '-n', ns]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error: ${verb} is not supported by tkubectl yet`));
  });
});

describe('commands that poll until a deadline', () => {
  test.each([
    [['wait', '--for=condition=Ready', 'pod/web-1', '--timeout=1500ms'], /timed out waiting for the condition on pods\/web-1/],
    [['rollout', 'status', 'deployment/web', '--timeout=1500ms'], /timed out waiting for the condition/],
  ])('%j times out and leaves no listener behind on the caller\'s signal', async (args, message) => {
    // Nothing runs the pods here, so neither ever gets there: the command polls every 500 ms.
    const ctl = new AbortController();
    const r = await tk(['-n', ns, ...args], undefined, ctl.signal);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(getEventListeners(ctl.signal, 'abort')).toHaveLength(0);
  });
});
