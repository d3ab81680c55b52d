/** Endpoints and EndpointSlices against a real API server, with pods run by simulated nodes. */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { EndpointSlice, Endpoints, Pod, Service } from '../../lib/api/index.js';
import { Resources } from '../../lib/client/index.js';
import { outcomeAnnotation } from '../../lib/simnode/index.js';
import { eventually } from '../support/controllers.js';
import { startCluster, type TestCluster } from '../support/cluster.js';

let c: TestCluster;
beforeAll(async () => {
  c = await startCluster({ controllers: ['endpoint', 'endpointslice', 'nodelifecycle'], sim: { nodes: [{ name: 'sim-a' }, { name: 'sim-b' }, { name: 'sim-c' }], leaseRenewIntervalMs: 500 } });
});
afterAll(async () => {
  await c?.stop();
});

function pod(name: string, node: string, labels: Record<string, string>, o: { outcome?: string; ports?: { name: string; containerPort: number }[]; hostname?: string; subdomain?: string } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels, ...(o.outcome ? { annotations: { [outcomeAnnotation]: o.outcome } } : {}) },
    spec: {
      nodeName: node,
      containers: [{ name: 'app', image: 'nginx', ...(o.ports ? { ports: o.ports } : {}) }],
      ...(o.hostname ? { hostname: o.hostname, subdomain: o.subdomain } : {}),
      terminationGracePeriodSeconds: 0,
    },
  };
}

function service(name: string, spec: Service['spec']): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', labels: { team: 'x' } }, spec };
}

const endpoints = (name: string) => c.client.resource(Resources.endpoints, 'default').get(name).catch(() => undefined) as Promise<Endpoints | undefined>;
const slices = async (svc: string): Promise<EndpointSlice[]> => (await c.client.resource(Resources.endpointSlices, 'default').list({ labelSelector: `kubernetes.io/service-name=${svc}` })).items;
const ips = (addrs: { ip: string }[] | undefined) => (addrs ?? []).map((a) => a.ip).sort();

test('endpoints and slices follow pod readiness, named ports and node health', async () => {
  const pods = c.client.resource(Resources.pods, 'default');
  await c.client.resource(Resources.services, 'default').create(service('web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] }));
  await pods.create(pod('web-a', 'sim-a', { app: 'web' }, { ports: [{ name: 'http', containerPort: 8080 }] }));
  await pods.create(pod('web-b', 'sim-b', { app: 'web' }, { ports: [{ name: 'http', containerPort: 9090 }] }));
  await pods.create(pod('web-unready', 'sim-c', { app: 'web' }, { outcome: 'never-ready', ports: [{ name: 'http', containerPort: 8080 }] }));
  await pods.create(pod('web-noport', 'sim-c', { app: 'web' }, { ports: [{ name: 'other', containerPort: 7000 }] }));

  const podIP = async (n: string) => (await pods.get(n)).status!.podIP!;
  const [a, b, u, n] = await eventually(async () => {
    const all = await Promise.all(['web-a', 'web-b', 'web-unready', 'web-noport'].map((n) => pods.get(n)));
    return all.every((p) => p.status?.phase === 'Running') && (await Promise.all(['web-a', 'web-b', 'web-unready', 'web-noport'].map(podIP)));
  });

  // Endpoints: one subset per resolved port; the unready pod under notReadyAddresses.
  const ep = await eventually(async () => {
    const e = await endpoints('web');
    const count = (e?.subsets ?? []).reduce((n, s) => n + (s.addresses ?? []).length + (s.notReadyAddresses ?? []).length, 0);
    return e?.subsets?.length === 2 && count === 3 && e;
  });
  const by = new Map(ep.subsets!.map((s) => [s.ports![0]!.port, s]));
  expect(ips(by.get(8080)!.addresses)).toEqual([a]);
  expect(ips(by.get(8080)!.notReadyAddresses)).toEqual([u]);
  expect(ips(by.get(9090)!.addresses)).toEqual([b]);
  expect(by.get(8080)!.addresses![0]).toMatchObject({ nodeName: 'sim-a', targetRef: { kind: 'Pod', name: 'web-a', namespace: 'default' } });
  expect(ep.metadata.labels).toMatchObject({ team: 'x' });

  // EndpointSlices: managed, labelled, owned by the service, one per resolved port set. As
  // upstream, a pod without the named port is still listed, in a slice without ports.
  const ss = await eventually(async () => {
    const s = await slices('web');
    return s.flatMap((x) => x.endpoints).filter((e) => e.conditions?.ready).length === 3 && s.flatMap((x) => x.endpoints).length === 4 && s;
  });
  for (const s of ss) {
    expect(s.metadata.labels).toMatchObject({ 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io', team: 'x' });
    expect(s.metadata.ownerReferences![0]).toMatchObject({ kind: 'Service', name: 'web', controller: true });
  }
  const eps = ss.flatMap((s) => s.endpoints.map((e) => ({ ip: e.addresses[0], port: s.ports?.[0]?.port, ...e.conditions })));
  expect(eps.sort((x, y) => x.ip!.localeCompare(y.ip!))).toEqual(
    [
      { ip: a, port: 8080, ready: true, serving: true, terminating: false },
      { ip: b, port: 9090, ready: true, serving: true, terminating: false },
      { ip: u, port: 8080, ready: false, serving: false, terminating: false },
      { ip: n, port: undefined, ready: true, serving: true, terminating: false },
    ].sort((x, y) => x.ip.localeCompare(y.ip)),
  );

  // sim-a's kubelet dies: the node lifecycle controller marks its pods not ready, and the endpoints follow.
  c.sim!.stopHeartbeat('sim-a');
  await eventually(async () => ips((await endpoints('web'))?.subsets?.find((s) => s.ports![0]!.port === 8080)?.notReadyAddresses).includes(a), 20_000);
  await eventually(async () => (await slices('web')).flatMap((s) => s.endpoints).find((e) => e.addresses[0] === a)?.conditions?.ready === false);
  c.sim!.resumeHeartbeat('sim-a');
  await eventually(async () => ips((await endpoints('web'))?.subsets?.find((s) => s.ports![0]!.port === 8080)?.addresses).includes(a), 20_000);

  // A pod that goes away leaves both.
  await pods.delete('web-b', { gracePeriodSeconds: 0 });
  await eventually(async () => (await endpoints('web'))?.subsets?.length === 1);
  await eventually(async () => (await slices('web')).flatMap((s) => s.endpoints).length === 3);
});

test('headless services publish pod host names; services without selectors and the kubernetes service are left alone', async () => {
  const pods = c.client.resource(Resources.pods, 'default');
  await c.client.resource(Resources.services, 'default').create(service('db', { selector: { app: 'db' }, clusterIP: 'None', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }));
  await pods.create(pod('db-0', 'sim-b', { app: 'db' }, { hostname: 'db-0', subdomain: 'db' }));
  const ep = await eventually(async () => {
    const e = await endpoints('db');
    return e?.subsets?.[0]?.addresses?.length === 1 && e;
  });
  expect(ep.subsets![0]!.addresses![0]!.hostname).toBe('db-0');
  expect(ep.metadata.labels).toMatchObject({ 'service.kubernetes.io/headless': '' });
  await eventually(async () => (await slices('db'))[0]?.endpoints[0]?.hostname === 'db-0');

  await c.client.resource(Resources.services, 'default').create(service('external', { ports: [{ port: 443, protocol: 'TCP' }] }));
  await c.client.resource(Resources.endpoints, 'default').create({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'external', namespace: 'default' }, subsets: [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ port: 443 }] }] });
  await new Promise((r) => setTimeout(r, 1000));
  expect(ips((await endpoints('external'))!.subsets![0]!.addresses)).toEqual(['192.0.2.10']);
  expect(await slices('external')).toEqual([]);
  // The API server's own endpoints for `kubernetes` are untouched: only its own slice exists.
  expect((await slices('kubernetes')).map((s) => s.metadata.labels!['endpointslice.kubernetes.io/managed-by'])).toEqual(['tkube-apiserver']);
});

test('a service with 150 ready pods gets two slices of at most 100 endpoints, and one Endpoints object', async () => {
  const pods = c.client.resource(Resources.pods, 'default');
  await c.client.resource(Resources.services, 'default').create(service('big', { selector: { app: 'big' }, ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }] }));
  await Promise.all(Array.from({ length: 150 }, (_, i) => pods.create(pod(`big-${i}`, ['sim-a', 'sim-b', 'sim-c'][i % 3]!, { app: 'big' }))));
  const ss = await eventually(async () => {
    const s = await slices('big');
    return s.flatMap((x) => x.endpoints).filter((e) => e.conditions?.ready).length === 150 && s;
  }, 30_000);
  expect(ss.map((s) => s.endpoints.length).sort((x, y) => x - y)).toEqual([50, 100]);
  expect(new Set(ss.flatMap((s) => s.endpoints.map((e) => e.addresses[0]))).size).toBe(150);
  await eventually(async () => (await endpoints('big'))?.subsets?.[0]?.addresses?.length === 150);
});
