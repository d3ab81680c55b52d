import { afterEach, expect, test } from 'vitest';
import type { KubeObject, Namespace } from '../../api/index.js';
import { Resources, defineResourceDescriptor, type KubeClient, type ResourceClient, type ResourceDescriptor } from '../../client/index.js';
import { createAll, eventually, fakeEnv, makeNamespace, makePod, type FakeEnv } from '../../../test/support/controllers.js';
import { builtinDiscovery, staticDiscovery } from '../garbagecollector/index.js';
import { NamespaceController, deletionConditions } from './namespace-controller.js';

let env: FakeEnv | undefined;
let running: Promise<void> | undefined;
afterEach(async () => {
  await env?.stop();
  await running;
});

/**
 * The fake has no /finalize: this client implements it as the API server does (spec.finalizers
 * replaced; the namespace removed once it has none).
 */
function withFinalize(client: KubeClient): KubeClient {
  return {
    resource<T extends KubeObject>(d: ResourceDescriptor<T>, ns?: string): ResourceClient<T> {
      const rc = client.resource(d, ns);
      if (d.resource !== 'namespaces') return rc;
      return Object.assign(Object.create(rc) as ResourceClient<T>, {
        async updateSubresource(name: string, sub: string, body: unknown) {
          if (sub !== 'finalize') return rc.updateSubresource(name, sub, body);
          const cur = (await rc.get(name)) as unknown as Namespace;
          cur.spec = { finalizers: (body as Namespace).spec?.finalizers ?? [] };
          if ((cur.spec.finalizers ?? []).length === 0) cur.metadata.finalizers = [];
          return rc.update(cur as unknown as T);
        },
      });
    },
  };
}

const widgets = defineResourceDescriptor({ group: 'example.com', version: 'v1', resource: 'widgets', kind: 'Widget', namespaced: true });

test('deleting a namespace removes all its content, custom resources included, waits for finalizers, then finalizes it', async () => {
  env = fakeEnv();
  const builtin = (await builtinDiscovery().resources()).resources;
  const discovery = staticDiscovery([...builtin, { group: 'example.com', version: 'v1', resource: 'widgets', kind: 'Widget', namespaced: true, verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'watch'] }]);
  const c = new NamespaceController({ client: withFinalize(env.client), informers: env.informers, discovery, maxRecheckMs: 50 });
  await env.startInformers();
  running = c.start(env.signal);

  // metadata.finalizers make the fake keep the object with a deletionTimestamp, as the API server does for namespaces.
  const ns = { ...makeNamespace('team'), metadata: { name: 'team', finalizers: ['test/hold'] } };
  await createAll(env.client, [ns, makePod('p', { namespace: 'team' }), makeNamespace('other'), makePod('q', { namespace: 'other' })]);
  await env.client.resource(Resources.configMaps, 'team').create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', namespace: 'team', finalizers: ['example.com/cleanup'] } });
  await env.client.resource(widgets, 'team').create({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'team' } });

  await env.client.resource(Resources.namespaces).delete('team');
  const nsNow = () => env!.client.resource(Resources.namespaces).get('team');
  const cond = async (t: string) => (await nsNow()).status?.conditions?.find((x) => x.type === t);
  await eventually(async () => (await cond('NamespaceFinalizersRemaining'))?.status === 'True');
  expect((await nsNow()).status!.phase).toBe('Terminating');
  expect((await cond('NamespaceFinalizersRemaining'))!.message).toBe('Some content in the namespace has finalizers remaining: example.com/cleanup in 1 resource instances');
  expect((await cond('NamespaceContentRemaining'))!.message).toBe('Some resources are remaining: configmaps. has 1 resource instances');
  expect((await env.client.resource(Resources.pods, 'team').list()).items).toHaveLength(0);
  expect((await env.client.resource(widgets, 'team').list()).items).toHaveLength(0);

  // The finalizer's owner finishes: the namespace goes.
  const held = await env.client.resource(Resources.configMaps, 'team').get('held');
  await env.client.resource(Resources.configMaps, 'team').update({ ...held, metadata: { ...held.metadata, finalizers: [] } });
  await eventually(async () => !(await nsNow().then(() => true, () => false)));
  // Other namespaces are untouched.
  expect((await env.client.resource(Resources.pods, 'other').list()).items).toHaveLength(1);
});

test('a discovery failure is reported as a condition and retried, without finalizing', async () => {
  env = fakeEnv();
  const builtin = (await builtinDiscovery().resources()).resources;
  const c = new NamespaceController({ client: withFinalize(env.client), informers: env.informers, discovery: staticDiscovery(builtin, { 'metrics.k8s.io/v1beta1': 'the server is currently unable to handle the request' }) });
  await env.startInformers();
  running = c.start(env.signal);
  await createAll(env.client, [{ ...makeNamespace('x'), metadata: { name: 'x', finalizers: ['test/hold'] } }]);
  await env.client.resource(Resources.namespaces).delete('x');
  const ns = await eventually(async () => {
    const n = await env!.client.resource(Resources.namespaces).get('x');
    return n.status?.conditions?.some((c) => c.type === 'NamespaceDeletionDiscoveryFailure' && c.status === 'True') && n;
  });
  expect(ns.spec!.finalizers).toEqual(['kubernetes']);
  expect(ns.status!.conditions!.find((c) => c.type === 'NamespaceDeletionDiscoveryFailure')).toMatchObject({ reason: 'DiscoveryFailed', message: expect.stringContaining('metrics.k8s.io/v1beta1') });
});

test('conditions for a clean round are the upstream "ok" ones', () => {
  const c = deletionConditions(undefined, { estimateSeconds: 0, byResource: new Map(), byFinalizer: new Map(), errors: [] });
  expect(Object.fromEntries([...c].map(([t, v]) => [t, `${v.status} ${v.reason}`]))).toEqual({
    NamespaceDeletionDiscoveryFailure: 'False ResourcesDiscovered',
    NamespaceDeletionGroupVersionParsingFailure: 'False ParsedGroupVersions',
    NamespaceDeletionContentFailure: 'False ContentDeleted',
    NamespaceContentRemaining: 'False ContentRemoved',
    NamespaceFinalizersRemaining: 'False ContentHasNoFinalizers',
  });
});
