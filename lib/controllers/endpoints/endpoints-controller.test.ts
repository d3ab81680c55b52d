import { afterEach, describe, expect, test } from 'vitest';
import type { Endpoints } from '../../api/index.js';
import { Resources } from '../../client/index.js';
import { createAll, eventually, fakeEnv, makePod, makeService, type FakeEnv } from '../../../test/support/controllers.js';
import { EndpointsController, desiredSubsets } from './endpoints-controller.js';

let env: FakeEnv | undefined;
let running: Promise<void> | undefined;
afterEach(async () => {
  await env?.stop();
  await running;
  env = undefined;
});

async function startController(): Promise<FakeEnv> {
  env = fakeEnv();
  const c = new EndpointsController({ client: env.client, informers: env.informers, workers: 2 });
  await env.startInformers();
  running = c.start(env.signal);
  return env;
}

async function endpointsOf(e: FakeEnv, name: string): Promise<Endpoints | undefined> {
  try {
    return await e.client.resource(Resources.endpoints, 'default').get(name);
  } catch {
    return undefined;
  }
}

describe('desiredSubsets', () => {
  const svc = makeService('web', { selector: { app: 'web' } });

  test('ready pods go to addresses, others to notReadyAddresses; pods without an IP or finished are left out', () => {
    const { subsets } = desiredSubsets(svc, [
      makePod('a', { ip: '10.0.0.2', ready: true, nodeName: 'n1' }),
      makePod('b', { ip: '10.0.0.10', ready: false }),
      makePod('c', { ready: true }),
      makePod('d', { ip: '10.0.0.3', ready: true, phase: 'Succeeded' }),
    ]);
    expect(subsets).toHaveLength(1);
    expect(subsets[0]!.addresses!.map((a) => a.ip)).toEqual(['10.0.0.2']);
    expect(subsets[0]!.addresses![0]).toMatchObject({ nodeName: 'n1', targetRef: { kind: 'Pod', name: 'a', namespace: 'default' } });
    expect(subsets[0]!.notReadyAddresses!.map((a) => a.ip)).toEqual(['10.0.0.10']);
    expect(subsets[0]!.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
  });

  test('publishNotReadyAddresses publishes unready and terminating pods as ready', () => {
    const pub = makeService('db', { selector: { app: 'db' }, publishNotReadyAddresses: true });
    const terminating = makePod('t', { ip: '10.0.0.5', ready: true });
    terminating.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    const { subsets } = desiredSubsets(pub, [makePod('u', { ip: '10.0.0.4', ready: false }), terminating]);
    expect(subsets[0]!.addresses!.map((a) => a.ip)).toEqual(['10.0.0.4', '10.0.0.5']);
    expect(subsets[0]!.notReadyAddresses).toBeUndefined();
    // Without it, a terminating pod is not an endpoint at all.
    expect(desiredSubsets(svc, [terminating]).subsets).toEqual([]);
  });

  test('a named target port is resolved per pod; pods without that port are left out of it', () => {
    const named = makeService('web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }] });
    const { subsets } = desiredSubsets(named, [
      makePod('a', { ip: '10.0.0.2', ready: true, ports: [{ name: 'web', containerPort: 8080 }] }),
      makePod('b', { ip: '10.0.0.3', ready: true, ports: [{ name: 'web', containerPort: 9090 }] }),
      makePod('c', { ip: '10.0.0.4', ready: true, ports: [{ name: 'other', containerPort: 7070 }] }),
      makePod('d', { ip: '10.0.0.5', ready: true, ports: [{ name: 'web', containerPort: 8080, protocol: 'UDP' }] }),
    ]);
    expect(subsets.map((s) => [s.ports![0]!.port, s.addresses!.map((a) => a.ip)])).toEqual([
      [8080, ['10.0.0.2']],
      [9090, ['10.0.0.3']],
    ]);
  });

  test('headless services publish host names of pods in their subdomain, even without ports', () => {
    const headless = makeService('peers', { selector: { app: 'db' }, clusterIP: 'None', ports: [] });
    const { subsets } = desiredSubsets(headless, [
      makePod('db-0', { ip: '10.0.0.2', ready: true, hostname: 'db-0', subdomain: 'peers' }),
      makePod('x', { ip: '10.0.0.3', ready: true, hostname: 'x', subdomain: 'other' }),
    ]);
    expect(subsets).toHaveLength(1);
    expect(subsets[0]!.ports).toBeUndefined();
    expect(subsets[0]!.addresses!.map((a) => [a.ip, a.hostname])).toEqual([
      ['10.0.0.2', 'db-0'],
      ['10.0.0.3', undefined],
    ]);
  });
});

describe('EndpointsController', () => {
  test('follows pod readiness and removes the endpoints with the service', async () => {
    const e = await startController();
    await createAll(e.client, [makeService('web', { selector: { app: 'web' } }), makePod('a', { labels: { app: 'web' }, ip: '10.0.0.2', ready: false })]);
    const first = await eventually(async () => (await endpointsOf(e, 'web'))?.subsets?.[0]?.notReadyAddresses?.length === 1 && endpointsOf(e, 'web'));
    expect(first!.subsets![0]!.addresses).toBeUndefined();

    const pods = e.client.resource(Resources.pods, 'default');
    const pod = await pods.get('a');
    pod.status!.conditions = [{ type: 'Ready', status: 'True' }];
    await pods.updateStatus(pod);
    await eventually(async () => (await endpointsOf(e, 'web'))?.subsets?.[0]?.addresses?.[0]?.ip === '10.0.0.2');

    await e.client.resource(Resources.services, 'default').delete('web');
    await eventually(async () => (await endpointsOf(e, 'web')) === undefined);
  });

  test('leaves services without a selector (user-managed endpoints) and the kubernetes service alone', async () => {
    const e = await startController();
    const manual: Endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'ext', namespace: 'default' }, subsets: [{ addresses: [{ ip: '192.0.2.1' }], ports: [{ port: 443 }] }] };
    await e.client.resource(Resources.endpoints, 'default').create(manual);
    await createAll(e.client, [makeService('ext', { selector: undefined }), makeService('kubernetes', { selector: undefined }), makeService('web', { selector: { app: 'web' } })]);
    await eventually(() => endpointsOf(e, 'web'));
    expect((await endpointsOf(e, 'ext'))!.subsets).toEqual(manual.subsets);
    expect(await endpointsOf(e, 'kubernetes')).toBeUndefined();
  });

  test('endpoints left over from a service deleted while the controller was down are removed at start', async () => {
    env = fakeEnv();
    const eps = env.client.resource(Resources.endpoints, 'default');
    await eps.create({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'gone', namespace: 'default' } });
    await eps.create({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'lock', namespace: 'default', annotations: { 'control-plane.alpha.kubernetes.io/leader': '{}' } } });
    const c = new EndpointsController({ client: env.client, informers: env.informers });
    await env.startInformers();
    running = c.start(env.signal);
    await eventually(async () => (await endpointsOf(env!, 'gone')) === undefined);
    expect(await endpointsOf(env, 'lock')).toBeDefined();
    // While running, Endpoints written by hand without a service are not touched.
    await eps.create({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'manual', namespace: 'default' } });
    const m = (await endpointsOf(env, 'manual'))!;
    await eps.update({ ...m, subsets: [{ addresses: [{ ip: '192.0.2.7' }], ports: [{ port: 80 }] }] });
    await new Promise((r) => setTimeout(r, 100));
    expect(await endpointsOf(env, 'manual')).toBeDefined();
  });

  test('puts back endpoints someone deleted, and retries after a failed write', async () => {
    const e = await startController();
    let failures = 2;
    e.client.prependReactor((a) => {
      if (a.resource === 'endpoints' && a.verb === 'create' && failures-- > 0) throw new Error('injected: etcd unavailable');
    });
    await createAll(e.client, [makeService('web', { selector: { app: 'web' } }), makePod('a', { labels: { app: 'web' }, ip: '10.0.0.2', ready: true })]);
    await eventually(() => endpointsOf(e, 'web'));
    expect(failures).toBeLessThan(0);
    await e.client.resource(Resources.endpoints, 'default').delete('web');
    await eventually(async () => (await endpointsOf(e, 'web'))?.subsets?.[0]?.addresses?.length === 1);
  });
});
