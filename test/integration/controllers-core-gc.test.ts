/**
 * Garbage collection, namespace deletion, default service accounts and TTL-after-finished
 * against a real API server, driven with the real kubectl.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Job, KubeObject, OwnerReference } from '../../lib/api/index.js';
import { Resources, defineResourceDescriptor } from '../../lib/client/index.js';
import { eventually } from '../support/controllers.js';
import { kubectls, runKubectl } from '../support/kubectl.js';
import { startCluster, type TestCluster } from '../support/cluster.js';

let c: TestCluster;
const k = kubectls()[kubectls().length - 1]!;
const kc = (args: string[], input?: string, timeoutMs?: number) => runKubectl(k, c.api.kubeconfig, args, { input, timeoutMs });

const widgets = defineResourceDescriptor<KubeObject>({ group: 'example.com', version: 'v1', resource: 'widgets', kind: 'Widget', namespaced: true });
const widgetCRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } } } }],
  },
};

beforeAll(async () => {
  c = await startCluster({
    controllers: ['garbagecollector', 'namespace', 'serviceaccount', 'ttl-after-finished'],
    sim: { nodes: [{ name: 'sim-0' }], leaseRenewIntervalMs: 1000 },
  });
  const r = await kc(['apply', '-f', '-'], JSON.stringify(widgetCRD));
  expect(r.stderr).toBe('');
  expect((await kc(['wait', '--for=condition=established', 'crd/widgets.example.com', '--timeout=20s'])).code).toBe(0);
});
afterAll(async () => {
  await c?.stop();
});

const cms = (ns = 'default') => c.client.resource(Resources.configMaps, ns);
const exists = (p: Promise<unknown>) => p.then(() => true, () => false);

/** An owner ConfigMap with a ConfigMap, a Secret, an (unscheduled) Pod and a Widget depending on it. */
async function family(name: string, o: { blockOwnerDeletion?: boolean } = {}) {
  const owner = await cms().create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' } });
  const ref: OwnerReference = { apiVersion: 'v1', kind: 'ConfigMap', name, uid: owner.metadata.uid!, ...(o.blockOwnerDeletion ? { blockOwnerDeletion: true } : {}) };
  const meta = (n: string) => ({ name: `${name}-${n}`, namespace: 'default', ownerReferences: [ref] });
  await cms().create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('cm') });
  await c.client.resource(Resources.secrets, 'default').create({ apiVersion: 'v1', kind: 'Secret', metadata: meta('secret') });
  await c.client.resource(Resources.pods, 'default').create({ apiVersion: 'v1', kind: 'Pod', metadata: meta('pod'), spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  await c.client.resource(widgets, 'default').create({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: meta('widget'), spec: { size: 1 } });
  const dependents = () =>
    Promise.all([
      exists(cms().get(`${name}-cm`)),
      exists(c.client.resource(Resources.secrets, 'default').get(`${name}-secret`)),
      exists(c.client.resource(Resources.pods, 'default').get(`${name}-pod`)),
      exists(c.client.resource(widgets, 'default').get(`${name}-widget`)),
    ]);
  return { owner, dependents };
}

describe('cascading deletion with kubectl', () => {
  test('--cascade=background: the owner goes at once, the dependents (a custom resource among them) after it', async () => {
    const f = await family('bg');
    const r = await kc(['delete', 'configmap', 'bg', '--cascade=background']);
    expect(r.stdout).toContain('configmap "bg" deleted');
    expect(await exists(cms().get('bg'))).toBe(false);
    await eventually(async () => (await f.dependents()).every((x) => !x), 20_000);
  });

  test('--cascade=foreground: kubectl waits while blocking dependents are deleted first, then the owner goes', async () => {
    const f = await family('fg', { blockOwnerDeletion: true });
    // Another controller holds one dependent for a while.
    const held = await cms().get('fg-cm');
    await cms().update({ ...held, metadata: { ...held.metadata, finalizers: ['example.com/slow-cleanup'] } });
    const started = Date.now();
    const deleting = kc(['delete', 'configmap', 'fg', '--cascade=foreground'], undefined, 60_000);
    // While it waits, the owner carries the foregroundDeletion finalizer and the others are gone.
    const owner = await eventually(async () => {
      const o = await cms().get('fg');
      return (o.metadata.finalizers ?? []).includes('foregroundDeletion') && o;
    });
    expect(owner.metadata.deletionTimestamp).toBeDefined();
    await eventually(async () => (await f.dependents()).join() === 'true,false,false,false', 20_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await exists(cms().get('fg'))).toBe(true);
    const cm = await cms().get('fg-cm');
    await cms().update({ ...cm, metadata: { ...cm.metadata, finalizers: [] } });
    const r = await deleting;
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('configmap "fg" deleted');
    expect(Date.now() - started).toBeGreaterThan(1500);
    expect(await exists(cms().get('fg'))).toBe(false);
    expect(await f.dependents()).toEqual([false, false, false, false]);
  });

  test('--cascade=orphan: the owner goes, the dependents stay without their reference to it', async () => {
    const f = await family('or');
    const r = await kc(['delete', 'configmap', 'or', '--cascade=orphan'], undefined, 60_000);
    expect(r.code).toBe(0);
    expect(await exists(cms().get('or'))).toBe(false);
    expect(await f.dependents()).toEqual([true, true, true, true]);
    expect((await cms().get('or-cm')).metadata.ownerReferences).toBeUndefined();
    expect((await c.client.resource(widgets, 'default').get('or-widget')).metadata.ownerReferences).toBeUndefined();
    // And they are not collected later.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await f.dependents()).toEqual([true, true, true, true]);
  });
});

test('deleting a namespace deletes everything in it (custom resources too), waits for pods to terminate, then the namespace', async () => {
  const ns = 'team-a';
  expect((await kc(['create', 'namespace', ns])).code).toBe(0);
  // The default service account appears by itself.
  await eventually(() => exists(c.client.resource(Resources.serviceAccounts, ns).get('default')));
  await cms(ns).create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: ns } });
  await c.client.resource(Resources.services, ns).create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: ns }, spec: { ports: [{ port: 80, protocol: 'TCP' }] } });
  await c.client.resource(widgets, ns).create({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1', namespace: ns }, spec: { size: 2 } });
  // A pod running on a (simulated) node: its deletion is graceful and the node confirms it.
  await c.client.resource(Resources.pods, ns).create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'app', namespace: ns }, spec: { nodeName: 'sim-0', containers: [{ name: 'c', image: 'nginx' }] } });
  await eventually(async () => (await c.client.resource(Resources.pods, ns).get('app')).status?.phase === 'Running');

  const r = await kc(['delete', 'namespace', ns], undefined, 60_000);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(`namespace "${ns}" deleted`);
  expect(await exists(c.client.resource(Resources.namespaces).get(ns))).toBe(false);
  // Recreated, it is empty.
  expect((await kc(['create', 'namespace', ns])).code).toBe(0);
  expect((await cms(ns).list()).items.filter((x) => x.metadata.name === 'settings')).toEqual([]);
  expect((await c.client.resource(widgets, ns).list()).items).toEqual([]);
  expect((await c.client.resource(Resources.pods, ns).list()).items).toEqual([]);
});

test('a namespace whose content is held by a finalizer stays Terminating with upstream conditions until it is released', async () => {
  const ns = 'team-b';
  await c.client.resource(Resources.namespaces).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await cms(ns).create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', namespace: ns, finalizers: ['example.com/keep'] } });
  await c.client.resource(Resources.namespaces).delete(ns);
  const terminating = await eventually(async () => {
    const n = await c.client.resource(Resources.namespaces).get(ns);
    return n.status?.conditions?.some((x) => x.type === 'NamespaceFinalizersRemaining' && x.status === 'True') && n;
  }, 20_000);
  expect(terminating.status!.phase).toBe('Terminating');
  expect(terminating.status!.conditions!.find((x) => x.type === 'NamespaceContentRemaining')).toMatchObject({ status: 'True', reason: 'SomeResourcesRemain', message: 'Some resources are remaining: configmaps. has 1 resource instances' });
  expect(terminating.status!.conditions!.find((x) => x.type === 'NamespaceFinalizersRemaining')!.message).toBe('Some content in the namespace has finalizers remaining: example.com/keep in 1 resource instances');
  expect(terminating.status!.conditions!.find((x) => x.type === 'NamespaceDeletionDiscoveryFailure')).toMatchObject({ status: 'False', reason: 'ResourcesDiscovered' });
  const held = await cms(ns).get('held');
  await cms(ns).update({ ...held, metadata: { ...held.metadata, finalizers: [] } });
  await eventually(async () => !(await exists(c.client.resource(Resources.namespaces).get(ns))), 20_000);
});

test('the default service account is recreated when deleted', async () => {
  const sas = c.client.resource(Resources.serviceAccounts, 'default');
  await eventually(() => exists(sas.get('default')));
  expect((await kc(['delete', 'serviceaccount', 'default'])).code).toBe(0);
  await eventually(() => exists(sas.get('default')));
});

test('a finished job is deleted ttlSecondsAfterFinished after it finished, with its pods', async () => {
  const jobs = c.client.resource(Resources.jobs, 'default');
  const job: Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'report', namespace: 'default' },
    spec: { ttlSecondsAfterFinished: 2, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
  } as Job;
  const created = await jobs.create(job);
  // The job's pod (the job controller lives on another branch; made by hand here) ran and succeeded.
  await c.client.resource(Resources.pods, 'default').create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'report-x1', namespace: 'default', annotations: { 'simnode.tkube.io/outcome': 'succeed' }, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'report', uid: created.metadata.uid!, controller: true, blockOwnerDeletion: true }] },
    spec: { nodeName: 'sim-0', restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] },
  });
  await eventually(async () => (await c.client.resource(Resources.pods, 'default').get('report-x1')).status?.phase === 'Succeeded');
  const now = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  await jobs.updateStatus({ ...(await jobs.get('report')), status: { succeeded: 1, completionTime: now, conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: now }] } } as Job);
  const finished = Date.now();
  await new Promise((r) => setTimeout(r, 1000));
  expect(await exists(jobs.get('report'))).toBe(true);
  await eventually(async () => !(await exists(jobs.get('report'))), 20_000);
  expect(Date.now() - finished).toBeGreaterThanOrEqual(1000);
  expect(await exists(c.client.resource(Resources.pods, 'default').get('report-x1'))).toBe(false);
});
