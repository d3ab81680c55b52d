import { describe, expect, test } from 'vitest';
import type { EndpointSlice, Endpoints } from '../../api/index.js';
import { Resources } from '../../client/index.js';
import { applySlicePlan, createAll, eventually, fakeEnvPerTest, makeService, type FakeEnv } from '../../../test/support/controllers.js';
import { FakeRecorder } from '../replicaset/testing.js';
import { EndpointSliceMirroringController } from './endpointslicemirroring-controller.js';
import { canonicalIP, mirrorEndpoints, planMirroredSlices } from './mirror.js';

const envs = fakeEnvPerTest();

function endpoints(subsets: Endpoints['subsets'], meta: Partial<Endpoints['metadata']> = {}): Endpoints {
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'db', namespace: 'default', uid: 'ep-uid', ...meta }, subsets };
}

const tcp = (port: number, name = '') => ({ name, port, protocol: 'TCP' as const });

const apply = (existing: EndpointSlice[], plan: ReturnType<typeof planMirroredSlices>) => applySlicePlan(existing, plan, 'db');

describe('mirrorEndpoints', () => {
  test('ready and not-ready addresses become endpoints with their hostname, node and target', () => {
    const ep = endpoints([
      {
        addresses: [{ ip: '10.0.0.5', hostname: 'db-0', nodeName: 'n1', targetRef: { kind: 'Pod', name: 'db-0', namespace: 'default' } }],
        notReadyAddresses: [{ ip: '10.0.0.6' }],
        ports: [tcp(5432, 'pg')],
      },
    ]);
    const { groups, invalid, overCapacity } = mirrorEndpoints(ep, 1000);
    expect([invalid, overCapacity]).toEqual([0, 0]);
    expect([...groups.values()]).toEqual([
      {
        addressType: 'IPv4',
        ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
        endpoints: [
          { addresses: ['10.0.0.5'], conditions: { ready: true }, hostname: 'db-0', nodeName: 'n1', targetRef: { kind: 'Pod', name: 'db-0', namespace: 'default' } },
          { addresses: ['10.0.0.6'], conditions: { ready: false } },
        ],
      },
    ]);
  });

  test('address types and port sets each get their own group; duplicates are merged; bad addresses are counted', () => {
    const ep = endpoints([
      { addresses: [{ ip: '10.0.0.5' }, { ip: '10.0.0.5' }, { ip: 'fd00::0:1' }, { ip: 'db.example.com' }], ports: [tcp(80)] },
      { addresses: [{ ip: '010.000.000.007' }], ports: [tcp(81)] },
    ]);
    const { groups, invalid } = mirrorEndpoints(ep, 1000);
    expect(invalid).toBe(1);
    expect([...groups.values()].map((g) => [g.addressType, g.ports.map((p) => p.port), g.endpoints.map((e) => e.addresses[0])])).toEqual([
      ['IPv4', [80], ['10.0.0.5']],
      ['IPv6', [80], ['fd00::1']],
      ['IPv4', [81], ['10.0.0.7']],
    ]);
  });

  test('at most maxPerSubset addresses of a subset are mirrored, ready ones first', () => {
    const ep = endpoints([{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], notReadyAddresses: [{ ip: '10.0.0.3' }], ports: [tcp(80)] }]);
    const { groups, overCapacity } = mirrorEndpoints(ep, 2);
    expect(overCapacity).toBe(1);
    expect([...groups.values()][0]!.endpoints.map((e) => e.conditions)).toEqual([{ ready: true }, { ready: true }]);
  });

  test('canonicalIP', () => {
    expect(canonicalIP('10.1.2.3')).toEqual({ ip: '10.1.2.3', type: 'IPv4' });
    expect(canonicalIP('10.1.2.256')).toBeUndefined();
    expect(canonicalIP('FD00:0:0::A')).toEqual({ ip: 'fd00::a', type: 'IPv6' });
    expect(canonicalIP('::ffff:10.1.2.3')).toEqual({ ip: '10.1.2.3', type: 'IPv4' });
    expect(canonicalIP('')).toBeUndefined();
  });
});

describe('planMirroredSlices', () => {
  const ep = endpoints([{ addresses: [{ ip: '10.0.0.5' }], ports: [tcp(5432)] }], {
    labels: { app: 'db', 'endpointslice.kubernetes.io/managed-by': 'someone' },
    annotations: { team: 'storage', 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'endpoints.kubernetes.io/last-change-trigger-time': 'x' },
  });

  test('a new slice copies labels and annotations, is owned by the Endpoints, and is written once', () => {
    const plan = planMirroredSlices(ep, mirrorEndpoints(ep, 1000).groups, []);
    expect(plan.create).toHaveLength(1);
    expect(plan.create[0]).toMatchObject({
      addressType: 'IPv4',
      metadata: {
        generateName: 'db-',
        namespace: 'default',
        labels: { app: 'db', 'kubernetes.io/service-name': 'db', 'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io' },
        annotations: { team: 'storage' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Endpoints', name: 'db', uid: 'ep-uid', controller: true, blockOwnerDeletion: true }],
      },
      endpoints: [{ addresses: ['10.0.0.5'], conditions: { ready: true } }],
      ports: [{ name: '', port: 5432, protocol: 'TCP' }],
    });
    expect(Object.keys(plan.create[0]!.metadata.annotations!)).toEqual(['team']);
    const slices = apply([], plan);
    expect(planMirroredSlices(ep, mirrorEndpoints(ep, 1000).groups, slices)).toEqual({ create: [], update: [], delete: [] });
  });

  test('changed addresses update the slice in place; a new port reuses the old slice; extra slices go', () => {
    const slices = apply([], planMirroredSlices(ep, mirrorEndpoints(ep, 1000).groups, []));
    const more = endpoints([{ addresses: [{ ip: '10.0.0.5' }, { ip: '10.0.0.6' }], ports: [tcp(5432)] }], { labels: ep.metadata.labels, annotations: ep.metadata.annotations });
    const up = planMirroredSlices(more, mirrorEndpoints(more, 1000).groups, slices);
    expect(up.create).toEqual([]);
    expect(up.update.map((s) => [s.metadata.name, s.endpoints.length])).toEqual([['db-0', 2]]);

    const moved = endpoints([{ addresses: [{ ip: '10.0.0.5' }], ports: [tcp(6432)] }], { labels: ep.metadata.labels, annotations: ep.metadata.annotations });
    const re = planMirroredSlices(moved, mirrorEndpoints(moved, 1000).groups, apply(slices, up));
    expect([re.create, re.delete]).toEqual([[], []]);
    expect(re.update.map((s) => [s.metadata.name, s.ports![0]!.port])).toEqual([['db-0', 6432]]);

    const twice = [...slices, { ...slices[0]!, metadata: { ...slices[0]!.metadata, name: 'db-9' } }];
    const dedup = planMirroredSlices(ep, mirrorEndpoints(ep, 1000).groups, twice);
    expect(dedup.delete.map((s) => s.metadata.name)).toEqual(['db-9']);
  });

  test('no addresses: every slice goes; slices of an earlier Endpoints of the same name are replaced', () => {
    const slices = apply([], planMirroredSlices(ep, mirrorEndpoints(ep, 1000).groups, []));
    const empty = endpoints([], { uid: 'ep-uid' });
    expect(planMirroredSlices(empty, mirrorEndpoints(empty, 1000).groups, slices).delete.map((s) => s.metadata.name)).toEqual(['db-0']);
    const reborn = { ...ep, metadata: { ...ep.metadata, uid: 'new-uid' } };
    const plan = planMirroredSlices(reborn, mirrorEndpoints(reborn, 1000).groups, slices);
    expect(plan.delete.map((s) => s.metadata.name)).toEqual(['db-0']);
    expect(plan.create[0]!.metadata.ownerReferences![0]!.uid).toBe('new-uid');
  });
});

describe('EndpointSliceMirroringController', () => {
  async function start(): Promise<{ env: FakeEnv; recorder: FakeRecorder }> {
    const env = envs.start();
    const recorder = new FakeRecorder();
    const c = new EndpointSliceMirroringController({ client: env.client, informers: env.informers, recorder });
    await env.startInformers();
    envs.run(c.start(env.signal));
    return { env, recorder };
  }

  const mirrored = async (e: FakeEnv) => (await e.client.resource(Resources.endpointSlices, 'default').list()).items.filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'db');

  test('mirrors the Endpoints of a Service without a selector, follows their changes, and stops when the Service gets one', async () => {
    const { env: e } = await start();
    const svc = makeService('db', { ports: [{ port: 5432, targetPort: 5432, protocol: 'TCP' }] });
    await createAll(e.client, [svc, endpoints([{ addresses: [{ ip: '192.168.1.10' }], ports: [tcp(5432)] }])]);
    const [slice] = await eventually(async () => {
      const s = await mirrored(e);
      return s.length === 1 && s;
    });
    expect(slice!.endpoints.map((x) => x.addresses[0])).toEqual(['192.168.1.10']);
    expect(slice!.metadata.ownerReferences![0]!.kind).toBe('Endpoints');

    const eps = e.client.resource(Resources.endpoints, 'default');
    const cur = await eps.get('db');
    await eps.update({ ...cur, subsets: [{ addresses: [{ ip: '192.168.1.10' }, { ip: '192.168.1.11' }], ports: [tcp(5432)] }] });
    await eventually(async () => {
      const s = await mirrored(e);
      return s.length === 1 && s[0]!.endpoints.length === 2 && s[0]!.metadata.name === slice!.metadata.name;
    });

    const svcs = e.client.resource(Resources.services, 'default');
    const live = await svcs.get('db');
    await svcs.update({ ...live, spec: { ...live.spec, selector: { app: 'db' } } });
    await eventually(async () => (await mirrored(e)).length === 0);
  });

  test('a Service with an empty selector, a skip-mirror label, or no Service at all: nothing is mirrored', async () => {
    const { env: e } = await start();
    await createAll(e.client, [
      makeService('empty', { selector: {} }),
      { ...endpoints([{ addresses: [{ ip: '10.0.0.1' }], ports: [tcp(80)] }]), metadata: { name: 'empty', namespace: 'default' } },
      makeService('db'),
      endpoints([{ addresses: [{ ip: '10.0.0.2' }], ports: [tcp(80)] }], { uid: undefined }),
      { ...endpoints([{ addresses: [{ ip: '10.0.0.3' }], ports: [tcp(80)] }]), metadata: { name: 'lonely', namespace: 'default' } },
    ]);
    await eventually(async () => (await mirrored(e)).length === 1);
    const eps = e.client.resource(Resources.endpoints, 'default');
    const cur = await eps.get('db');
    await eps.update({ ...cur, metadata: { ...cur.metadata, labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } } });
    await eventually(async () => (await mirrored(e)).length === 0);
    const all = (await e.client.resource(Resources.endpointSlices, 'default').list()).items;
    expect(all).toEqual([]);
  });

  test('deleting the Endpoints or the Service removes the slices; invalid addresses raise a Warning event', async () => {
    const { env: e, recorder } = await start();
    await createAll(e.client, [makeService('db'), endpoints([{ addresses: [{ ip: '10.0.0.2' }, { ip: 'not-an-ip' }], ports: [tcp(80)] }], { uid: undefined })]);
    await eventually(async () => (await mirrored(e)).length === 1);
    await eventually(async () => recorder.lines().includes('InvalidIPAddress: Skipped 1 invalid IP addresses when mirroring to EndpointSlices'));
    await e.client.resource(Resources.endpoints, 'default').delete('db');
    await eventually(async () => (await mirrored(e)).length === 0);

    await createAll(e.client, [endpoints([{ addresses: [{ ip: '10.0.0.2' }], ports: [tcp(80)] }], { uid: undefined })]);
    await eventually(async () => (await mirrored(e)).length === 1);
    await e.client.resource(Resources.services, 'default').delete('db');
    await eventually(async () => (await mirrored(e)).length === 0);
  });
});
