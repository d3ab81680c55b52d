import { afterEach, describe, expect, test } from 'vitest';
import type { EndpointSlice, Pod } from '../../api/index.js';
import { Resources } from '../../client/index.js';
import { applySlicePlan, createAll, eventually, fakeEnv, makeNode, makePod, makeService, type FakeEnv } from '../../../test/support/controllers.js';
import { EndpointSliceController } from './endpointslice-controller.js';
import { desiredEndpointFor, planSlices, type DesiredEndpoint } from './reconcile.js';

let env: FakeEnv | undefined;
let running: Promise<void> | undefined;
afterEach(async () => {
  await env?.stop();
  await running;
  env = undefined;
});

const svc = { ...makeService('web', { selector: { app: 'web' } }), metadata: { name: 'web', namespace: 'default', uid: 'svc-uid' } };

function pods(n: number, from = 0): Pod[] {
  return Array.from({ length: n }, (_, i) => {
    const p = makePod(`p${from + i}`, { labels: { app: 'web' }, ip: `10.1.${Math.floor((from + i) / 250)}.${((from + i) % 250) + 2}`, ready: true });
    p.metadata.uid = `uid-${from + i}`;
    return p;
  });
}

function desired(ps: Pod[]): DesiredEndpoint[] {
  return ps.map((p) => desiredEndpointFor(svc, p, () => undefined)!).filter(Boolean);
}

const apply = (existing: EndpointSlice[], plan: ReturnType<typeof planSlices>) => applySlicePlan(existing, plan, 'web');

describe('planSlices', () => {
  test('250 endpoints fill three slices of at most 100; adding one touches one slice only', () => {
    const plan = planSlices(svc, desired(pods(250)), [], 100);
    expect(plan.create.map((s) => s.endpoints.length)).toEqual([100, 100, 50]);
    expect(plan.create[0]!.metadata).toMatchObject({
      generateName: 'web-',
      labels: { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
      ownerReferences: [{ kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }],
    });
    const slices = apply([], plan);
    const next = planSlices(svc, desired(pods(251)), slices, 100);
    expect(next.create).toHaveLength(0);
    expect(next.delete).toHaveLength(0);
    expect(next.update).toHaveLength(1);
    expect(next.update[0]!.endpoints).toHaveLength(51);
    // Nothing changed: nothing to write.
    expect(planSlices(svc, desired(pods(251)), apply(slices, next), 100)).toEqual({ create: [], update: [], delete: [] });
  });

  test('endpoints that leave are removed; emptied slices are deleted; no endpoints leaves one placeholder', () => {
    const slices = apply([], planSlices(svc, desired(pods(150)), [], 100));
    const fewer = planSlices(svc, desired(pods(50)), slices, 100);
    expect(fewer.update.map((s) => s.endpoints.length)).toEqual([50]);
    expect(fewer.delete).toHaveLength(1);
    const none = planSlices(svc, [], apply(slices, fewer), 100);
    expect(none.delete).toHaveLength(0);
    expect(none.update).toHaveLength(1);
    expect(none.update[0]).toMatchObject({ endpoints: [], ports: [] });
    expect(planSlices(svc, [], [], 100).create).toMatchObject([{ endpoints: [], ports: [] }]);
  });

  test('conditions: ready, serving and terminating as upstream', () => {
    const ready = pods(1)[0]!;
    const terminating = pods(1, 1)[0]!;
    terminating.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    const unready = makePod('u', { labels: { app: 'web' }, ip: '10.9.0.1', ready: false });
    const [a, b, c] = [ready, terminating, unready].map((p) => desiredEndpointFor(svc, p, () => 'zone-a')!.endpoint);
    expect(a!.conditions).toEqual({ ready: true, serving: true, terminating: false });
    expect(b!.conditions).toEqual({ ready: false, serving: true, terminating: true });
    expect(c!.conditions).toEqual({ ready: false, serving: false, terminating: false });
    const pub = { ...svc, spec: { ...svc.spec, publishNotReadyAddresses: true } };
    expect(desiredEndpointFor(pub, terminating, () => undefined)!.endpoint.conditions).toEqual({ ready: true, serving: true, terminating: true });
  });

  test('pods resolving a named port differently go to different slices', () => {
    const named = { ...svc, spec: { ...svc.spec, ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' as const }] } };
    const a = makePod('a', { labels: { app: 'web' }, ip: '10.0.0.2', ready: true, ports: [{ name: 'web', containerPort: 8080 }] });
    const b = makePod('b', { labels: { app: 'web' }, ip: '10.0.0.3', ready: true, ports: [{ name: 'web', containerPort: 9090 }] });
    const plan = planSlices(named, [a, b].map((p) => desiredEndpointFor(named, p, () => undefined)!), [], 100);
    expect(plan.create.map((s) => [s.ports![0]!.port, s.endpoints.map((e) => e.addresses[0])])).toEqual([
      [8080, ['10.0.0.2']],
      [9090, ['10.0.0.3']],
    ]);
  });

  test('slices of an earlier service of the same name are replaced', () => {
    const old = apply([], planSlices({ ...svc, metadata: { ...svc.metadata, uid: 'old' } }, desired(pods(3)), [], 100));
    const plan = planSlices(svc, desired(pods(3)), old, 100);
    expect(plan.delete).toHaveLength(1);
    expect(plan.create).toHaveLength(1);
  });
});

describe('EndpointSliceController', () => {
  test('keeps slices in step with pods, with the node zone, and never duplicates endpoints', async () => {
    env = fakeEnv();
    const c = new EndpointSliceController({ client: env.client, informers: env.informers, maxEndpointsPerSlice: 10 });
    await env.startInformers();
    running = c.start(env.signal);
    await createAll(env.client, [makeNode('n1', { labels: { 'topology.kubernetes.io/zone': 'z1' } }), makeService('web', { selector: { app: 'web' } })]);
    const slices = env.client.resource(Resources.endpointSlices, 'default');
    await eventually(async () => (await slices.list()).items.length === 1);
    for (let i = 0; i < 25; i++) await createAll(env.client, [makePod(`p${i}`, { labels: { app: 'web' }, ip: `10.0.0.${i + 2}`, ready: i % 2 === 0, nodeName: 'n1' })]);
    const all = await eventually(async () => {
      const items = (await slices.list()).items;
      const eps = items.flatMap((s) => s.endpoints);
      return eps.length === 25 && items.every((s) => s.endpoints.length <= 10) && items;
    });
    const eps = all.flatMap((s) => s.endpoints);
    expect(new Set(eps.map((e) => e.addresses[0])).size).toBe(25);
    expect(eps.filter((e) => e.conditions?.ready)).toHaveLength(13);
    expect(eps.every((e) => e.zone === 'z1' && e.nodeName === 'n1')).toBe(true);

    await env.client.resource(Resources.services, 'default').delete('web');
    await eventually(async () => (await slices.list()).items.length === 0);
  });
});
