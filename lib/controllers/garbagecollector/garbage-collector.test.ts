import { afterEach, describe, expect, test } from 'vitest';
import type { ConfigMap, KubeObject, OwnerReference } from '../../api/index.js';
import { Resources, type DeleteOptions, type KubeClient, type ResourceClient, type ResourceDescriptor } from '../../client/index.js';
import { eventually, fakeEnv, type FakeEnv } from '../../../test/support/controllers.js';
import { builtinDiscovery } from './discovery.js';
import { GarbageCollector } from './garbage-collector.js';
import { referenceDiffs } from './graph.js';

let env: FakeEnv | undefined;
let running: Promise<void> | undefined;
afterEach(async () => {
  await env?.stop();
  await running;
  env = undefined;
});

/**
 * The fake ignores propagation policies; the API server turns Foreground and Orphan into a
 * finalizer on the object being deleted. This client does the same.
 */
function withPropagation(client: KubeClient): KubeClient {
  return {
    resource<T extends KubeObject>(d: ResourceDescriptor<T>, ns?: string): ResourceClient<T> {
      const rc = client.resource(d, ns);
      return Object.assign(Object.create(rc) as ResourceClient<T>, {
        async delete(name: string, opts: DeleteOptions = {}) {
          const f = opts.propagationPolicy === 'Orphan' ? 'orphan' : opts.propagationPolicy === 'Foreground' ? 'foregroundDeletion' : undefined;
          if (f) {
            const cur = await rc.get(name);
            if (!(cur.metadata.finalizers ?? []).includes(f)) {
              await rc.update({ ...cur, metadata: { ...cur.metadata, finalizers: [...(cur.metadata.finalizers ?? []), f] } });
              return rc.delete(name, { ...opts, preconditions: opts.preconditions?.uid ? { uid: opts.preconditions.uid } : undefined });
            }
          }
          return rc.delete(name, opts);
        },
      });
    },
  };
}

async function setup(): Promise<{ client: KubeClient; gc: GarbageCollector }> {
  env = fakeEnv();
  const client = withPropagation(env.client);
  const gc = new GarbageCollector({ client, informers: env.informers, discovery: builtinDiscovery(), workers: 4 });
  const informers = env.informers.start(env.signal);
  running = Promise.all([gc.start(env.signal), informers]).then(() => undefined);
  await eventually(() => gc.hasSynced());
  return { client, gc };
}

const cms = () => env!.client.resource(Resources.configMaps, 'default');
async function cm(name: string, owners: (ConfigMap | OwnerReference)[] = [], extra: Partial<ConfigMap['metadata']> = {}): Promise<ConfigMap> {
  const ownerReferences = owners.map((o) => ('metadata' in o ? { apiVersion: 'v1', kind: 'ConfigMap', name: o.metadata.name!, uid: o.metadata.uid!, blockOwnerDeletion: true } : o));
  return cms().create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', ...(ownerReferences.length ? { ownerReferences } : {}), ...extra } });
}
const exists = (name: string) => cms().get(name).then(() => true, () => false);
const names = async () => (await cms().list()).items.map((c) => c.metadata.name).sort();

describe('GarbageCollector', () => {
  test('background: dependents of a deleted owner are deleted, also a dependent whose owner never existed', async () => {
    await setup();
    const owner = await cm('owner');
    await cm('dep-1', [owner]);
    await cm('dep-2', [owner]);
    await env!.client.resource(Resources.secrets, 'default').create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dep-secret', namespace: 'default', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid! }] } });
    await cm('unrelated');
    await cm('orphaned-at-birth', [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'ghost', uid: 'no-such-uid' }]);
    await cms().delete('owner');
    await eventually(async () => (await names()).join() === 'unrelated');
    await eventually(() => env!.client.resource(Resources.secrets, 'default').get('dep-secret').then(() => false, () => true));
  });

  test('a reference to an owner re-created under the same name is dangling (uids differ)', async () => {
    await setup();
    const first = await cm('owner');
    await cm('dep', [first]);
    await cms().delete('owner');
    await cm('owner');
    await eventually(async () => !(await exists('dep')));
    expect(await exists('owner')).toBe(true);
  });

  test('a dependent with another live owner stays; only the dangling reference is removed', async () => {
    await setup();
    const a = await cm('a');
    const b = await cm('b');
    await cm('dep', [a, b]);
    await cms().delete('a');
    const dep = await eventually(async () => {
      const d = await cms().get('dep');
      return d.metadata.ownerReferences?.length === 1 && d;
    });
    expect(dep.metadata.ownerReferences![0]!.name).toBe('b');
  });

  test('orphan: the owner goes, its dependents stay without the reference', async () => {
    const { client } = await setup();
    const owner = await cm('owner');
    await cm('dep-1', [owner]);
    await cm('dep-2', [owner, { apiVersion: 'v1', kind: 'ConfigMap', name: 'keep', uid: (await cm('keep')).metadata.uid! }]);
    await eventually(() => env!.informers.lister(Resources.configMaps).list().length === 4);
    await client.resource(Resources.configMaps, 'default').delete('owner', { propagationPolicy: 'Orphan' });
    await eventually(async () => !(await exists('owner')));
    expect((await cms().get('dep-1')).metadata.ownerReferences).toBeUndefined();
    expect((await cms().get('dep-2')).metadata.ownerReferences!.map((r) => r.name)).toEqual(['keep']);
  });

  test('foreground: blocking dependents are deleted before the owner, then the owner goes', async () => {
    const { client } = await setup();
    const owner = await cm('owner');
    const mid = await cm('mid', [owner]);
    await cm('leaf', [mid]);
    await cm('nonblocking', [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid!, blockOwnerDeletion: false }]);
    // Something else keeps the leaf for a while: the owner must wait for the whole chain.
    const leaf = await cms().get('leaf');
    await cms().update({ ...leaf, metadata: { ...leaf.metadata, finalizers: ['test/hold'] } });
    await eventually(() => env!.informers.lister(Resources.configMaps).list().length === 4);
    await client.resource(Resources.configMaps, 'default').delete('owner', { propagationPolicy: 'Foreground' });
    await eventually(async () => (await cms().get('leaf')).metadata.deletionTimestamp);
    expect(await exists('owner')).toBe(true);
    expect(await exists('mid')).toBe(true);
    expect((await cms().get('owner')).metadata.finalizers).toContain('foregroundDeletion');
    const held = await cms().get('leaf');
    await cms().update({ ...held, metadata: { ...held.metadata, finalizers: [] } });
    await eventually(async () => (await names()).length === 0);
  });
});

test('referenceDiffs finds added, removed and changed owners', () => {
  const a = { apiVersion: 'v1', kind: 'ConfigMap', name: 'a', uid: '1' };
  const b = { apiVersion: 'v1', kind: 'ConfigMap', name: 'b', uid: '2' };
  const d = referenceDiffs([a, b], [{ ...b, blockOwnerDeletion: true }, { ...a, uid: '3' }]);
  expect(d.added.map((r) => r.uid)).toEqual(['3']);
  expect(d.removed.map((r) => r.uid)).toEqual(['1']);
  expect(d.changed.map((c) => c.next.uid)).toEqual(['2']);
});
