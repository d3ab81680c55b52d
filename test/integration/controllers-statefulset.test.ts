/**
 * StatefulSets against the real API server: ordered start (web-1 only once web-0 runs and is
 * ready), scale-down from the highest ordinal, stable hostnames, claims per pod, and a
 * rolling update followed with the real kubectl.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { PersistentVolumeClaim, StatefulSet } from '../../lib/api/index.js';
import { Resources, findDescriptor, type ResourceDescriptor } from '../../lib/client/index.js';
import { startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { startControllers, until, type ControllerHarness } from '../support/workload-harness.js';
import { kubectls, runKubectl, type Kubectl } from '../support/kubectl.js';

let s: TestAPIServer;
let h: ControllerHarness;
let k: Kubectl;
/** Pods the test lets become ready; others run without being ready. */
const allowed = new Set<string>();

beforeAll(async () => {
  s = await startAPIServer();
  h = await startControllers(s, { controllers: ['statefulset'], kubelet: { nodes: ['node-a'], behaviour: (p) => (allowed.has(p.metadata.name!) ? 'ready' : 'running') } });
  k = kubectls()[kubectls().length - 1]!;
});
afterAll(async () => {
  await h?.stop();
  await s?.stop();
});

const pods = () => h.client.resource(Resources.pods, 'default');
const sets = () => h.client.resource(Resources.statefulSets, 'default');
const pvcs = () => h.client.resource(findDescriptor('persistentvolumeclaims') as ResourceDescriptor<PersistentVolumeClaim>, 'default');

const names = async () =>
  (await pods().list({ labelSelector: 'app=nginx' })).items
    .filter((p) => !p.metadata.deletionTimestamp)
    .map((p) => p.metadata.name!)
    .sort();

async function allow(name: string): Promise<void> {
  allowed.add(name);
  // The kubelet acts on pod events: touch the pod so it looks again.
  await pods().patch(name, 'merge', { metadata: { annotations: { 'test/allowed': 'true' } } });
}

const manifest: StatefulSet = {
  metadata: { name: 'web', namespace: 'default' },
  spec: {
    replicas: 3,
    serviceName: 'nginx',
    selector: { matchLabels: { app: 'nginx' } },
    template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } },
    volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
  },
};

test('OrderedReady: web-1 is created only after web-0 is Running and Ready, and so on', async () => {
  await sets().create(manifest);
  await until(async () => (await names()).join() === 'web-0', 'web-0');
  await until(async () => (await pods().get('web-0')).status?.phase === 'Running', 'web-0 running');
  await new Promise((r) => setTimeout(r, 500));
  expect(await names()).toEqual(['web-0']); // running but not ready: web-1 waits
  const p0 = await pods().get('web-0');
  expect(p0.spec).toMatchObject({ hostname: 'web-0', subdomain: 'nginx' });
  expect(p0.spec!.volumes).toContainEqual({ name: 'www', persistentVolumeClaim: { claimName: 'www-web-0' } });
  expect((await pvcs().get('www-web-0')).spec?.resources?.requests?.storage).toBe('1Gi');

  await allow('web-0');
  await until(async () => (await names()).join() === 'web-0,web-1', 'web-1');
  await new Promise((r) => setTimeout(r, 300));
  expect(await names()).toEqual(['web-0', 'web-1']);
  await allow('web-1');
  await until(async () => (await names()).join() === 'web-0,web-1,web-2', 'web-2');
  await allow('web-2');
  const r = await runKubectl(k, s.kubeconfig, ['rollout', 'status', 'statefulset/web', '--timeout=60s'], { timeoutMs: 90_000 });
  expect(r.code, r.stderr).toBe(0);
  // The API server defaults rollingUpdate.partition to 0, so kubectl reports a partitioned roll out, as against Kubernetes.
  expect(r.stdout).toContain('partitioned roll out complete: 3 new pods have been updated...');
  expect((await sets().get('web')).status).toMatchObject({ replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3 });
  expect((await pvcs().list()).items.map((c) => c.metadata.name).sort()).toEqual(['www-web-0', 'www-web-1', 'www-web-2']);
  // Creation order, as the events tell it.
  await h.broadcaster.flush();
  const ev = await runKubectl(k, s.kubeconfig, ['get', 'events', '--field-selector', 'involvedObject.kind=StatefulSet,reason=SuccessfulCreate', '--sort-by=.metadata.resourceVersion', '-o', 'jsonpath={range .items[*]}{.message}{"\\n"}{end}']);
  expect(ev.stdout.trim().split('\n').filter((l) => l.startsWith('create Pod'))).toEqual(['create Pod web-0 in StatefulSet web successful', 'create Pod web-1 in StatefulSet web successful', 'create Pod web-2 in StatefulSet web successful']);
});

test('scale down removes the highest ordinal first, one at a time; the claims stay', async () => {
  const seen: string[] = [];
  const inf = h.factory.informerFor(Resources.pods);
  const reg = inf.addEventHandler({ onUpdate: (o, p) => !o.metadata.deletionTimestamp && p.metadata.deletionTimestamp && seen.push(p.metadata.name!), onDelete: (p) => seen.push(`gone:${'obj' in p ? (p.obj as { metadata: { name: string } }).metadata.name : p.metadata.name}`) });
  try {
    const out = await runKubectl(k, s.kubeconfig, ['scale', 'statefulset/web', '--replicas=1']);
    expect(out.code, out.stderr).toBe(0);
    await until(async () => (await names()).join() === 'web-0', 'only web-0 left');
    // Each pod's first sign of deletion: its deletionTimestamp, or its removal when the informer
    // saw no such update (it can miss that intermediate state, e.g. when it re-lists).
    const first = (name: string) => Math.min(...[seen.indexOf(name), seen.indexOf(`gone:${name}`)].filter((i) => i >= 0));
    const order = [...new Set(seen.map((x) => x.replace(/^gone:/, '')))];
    expect(order).toEqual(['web-2', 'web-1']);
    // web-1 was deleted only after web-2 was gone.
    expect(seen.indexOf('gone:web-2')).toBeGreaterThanOrEqual(0);
    expect(seen.indexOf('gone:web-2')).toBeLessThan(first('web-1'));
    expect((await pvcs().list()).items.length).toBe(3);
  } finally {
    reg.remove();
  }
});

test('a rolling update replaces pods from the highest ordinal down; kubectl rollout status follows it', async () => {
  await runKubectl(k, s.kubeconfig, ['scale', 'statefulset/web', '--replicas=3']);
  await until(async () => (await names()).length === 3, 'back to 3');
  await until(async () => (await sets().get('web')).status?.readyReplicas === 3, 'ready');
  const before = (await sets().get('web')).status!.currentRevision;
  const order: string[] = [];
  const inf = h.factory.informerFor(Resources.pods);
  const reg = inf.addEventHandler({ onAdd: (p) => p.spec!.containers[0]!.image === 'nginx:1.28' && order.push(p.metadata.name!) });
  // New pods run but stay unready until released, so that kubectl, once it watches, sees
  // each stage whatever the machine's speed.
  const released = new Set<string>();
  const behaviour = h.kubelet.behaviour;
  h.kubelet.behaviour = (p) => (p.spec!.containers[0]!.image === 'nginx:1.28' ? (released.has(p.metadata.name!) ? 'ready' : 'running') : behaviour(p));
  const release = async (name: string) => {
    released.add(name);
    await pods().patch(name, 'merge', { metadata: { annotations: { 'test/released': 'true' } } });
  };
  let out = '';
  const printed = async (re: RegExp) => {
    await until(() => re.test(out), `kubectl rollout status printing ${re}`).catch((err: Error) => {
      throw new Error(`${err.message}; it printed:\n${out}`);
    });
  };
  try {
    const r = await runKubectl(k, s.kubeconfig, ['set', 'image', 'statefulset/web', 'nginx=nginx:1.28']);
    expect(r.code, r.stderr).toBe(0);
    await until(async () => (await pods().get('web-2').catch(() => undefined))?.spec!.containers[0]!.image === 'nginx:1.28', 'web-2 replaced');
    const running = runKubectl(k, s.kubeconfig, ['rollout', 'status', 'statefulset/web', '--timeout=60s'], { timeoutMs: 90_000, onStdout: (o) => (out = o) });
    // web-2 is new and not ready yet.
    await printed(/Waiting for 1 pods to be ready\.\.\./);
    // Ready: all 3 are, and 1 of 3 is updated, until web-1 goes.
    await release('web-2');
    await printed(/Waiting for partitioned roll out to finish: 1 out of 3 new pods have been updated\.\.\./);
    for (const name of ['web-1', 'web-0']) {
      await until(async () => (await pods().get(name).catch(() => undefined))?.spec!.containers[0]!.image === 'nginx:1.28', `${name} replaced`);
      await release(name);
    }
    const st = await running;
    expect(st.code, st.stderr).toBe(0);
    expect(st.stdout).toContain('partitioned roll out complete: 3 new pods have been updated...');
    expect(order).toEqual(['web-2', 'web-1', 'web-0']);
    const status = (await sets().get('web')).status!;
    expect(status.currentRevision).toBe(status.updateRevision);
    expect(status.currentRevision).not.toBe(before);
  } finally {
    h.kubelet.behaviour = behaviour;
    reg.remove();
  }
});
