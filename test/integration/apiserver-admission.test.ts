/** Defaulting, NamespaceLifecycle, Service IP and NodePort allocation, event TTLs. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Etcd3 } from 'etcd3';
import { api, startAPIServer, type TestAPIServer } from '../support/apiserver.js';

let s: TestAPIServer;
beforeAll(async () => {
  s = await startAPIServer({ serviceClusterIPRange: '10.96.0.0/24', serviceNodePortRange: '30000-30009' });
});
afterAll(async () => s?.stop());

const svc = (name: string, spec: Record<string, unknown> = {}) => ({ metadata: { name }, spec: { ports: [{ port: 80 }], selector: { app: name }, ...spec } });

describe('defaults', () => {
  test('pods, services and deployments get upstream defaults', async () => {
    const p = await api(s.url, 'POST', '/api/v1/namespaces/default/pods', {
      metadata: { name: 'defaults' },
      spec: { containers: [{ name: 'a', image: 'nginx', ports: [{ containerPort: 80 }], livenessProbe: { httpGet: { port: 80 } } }, { name: 'b', image: 'busybox:1.36' }] },
    });
    expect(p.status).toBe(201);
    const spec = p.body.spec;
    expect(spec).toMatchObject({ restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', terminationGracePeriodSeconds: 30, schedulerName: 'default-scheduler', enableServiceLinks: true });
    expect(spec.containers[0].imagePullPolicy).toBe('Always');
    expect(spec.containers[1].imagePullPolicy).toBe('IfNotPresent');
    expect(spec.containers[0].ports[0].protocol).toBe('TCP');
    expect(spec.containers[0].livenessProbe).toMatchObject({ timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3, httpGet: { path: '/', scheme: 'HTTP' } });
    expect(p.body.status).toEqual({ phase: 'Pending', qosClass: 'BestEffort' });

    const sv = await api(s.url, 'POST', '/api/v1/namespaces/default/services', svc('defaulted'));
    expect(sv.body.spec).toMatchObject({ type: 'ClusterIP', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster', ipFamilies: ['IPv4'] });
    expect(sv.body.spec.ports[0]).toMatchObject({ protocol: 'TCP', targetPort: 80 });

    const d = await api(s.url, 'POST', '/apis/apps/v1/namespaces/default/deployments', {
      metadata: { name: 'defaulted' },
      spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x:1' }] } } },
    });
    expect(d.body.spec).toMatchObject({ replicas: 1, revisionHistoryLimit: 10, progressDeadlineSeconds: 600, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } } });
  });

  test('a deployment whose selector does not match its template is refused', async () => {
    const d = await api(s.url, 'POST', '/apis/apps/v1/namespaces/default/deployments', {
      metadata: { name: 'mismatch' },
      spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'c' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
    });
    expect(d.status).toBe(422);
    expect(d.body.message).toContain('`selector` does not match template `labels`');
  });
});

describe('NamespaceLifecycle', () => {
  test('the system namespaces and the kubernetes service exist from the start', async () => {
    const ns = await api(s.url, 'GET', '/api/v1/namespaces');
    expect(ns.body.items.map((n: any) => n.metadata.name)).toEqual(expect.arrayContaining(['default', 'kube-system', 'kube-public', 'kube-node-lease']));
    const k = await api(s.url, 'GET', '/api/v1/namespaces/default/services/kubernetes');
    expect(k.body.spec.clusterIP).toBe('10.96.0.1');
    expect(k.body.spec.ports[0]).toMatchObject({ name: 'https', port: 443 });
    const ep = await api(s.url, 'GET', '/api/v1/namespaces/default/endpoints/kubernetes');
    expect(ep.body.subsets[0].addresses[0].ip).toBe('127.0.0.1');
  });

  test('nothing is created in a namespace that does not exist', async () => {
    const r = await api(s.url, 'POST', '/api/v1/namespaces/nowhere/configmaps', { metadata: { name: 'x' } });
    expect(r.status).toBe(404);
    expect(r.body.message).toBe('namespaces "nowhere" not found');
  });

  test('system namespaces cannot be deleted; a deleted namespace is Terminating and refuses new content', async () => {
    for (const n of ['default', 'kube-system', 'kube-public']) {
      const r = await api(s.url, 'DELETE', `/api/v1/namespaces/${n}`);
      expect(r.status).toBe(403);
      expect(r.body.message).toContain('this namespace may not be deleted');
    }
    await api(s.url, 'POST', '/api/v1/namespaces', { metadata: { name: 'doomed' } });
    const d = await api(s.url, 'DELETE', '/api/v1/namespaces/doomed');
    expect(d.status).toBe(202);
    expect(d.body.status.phase).toBe('Terminating');
    expect(d.body.spec.finalizers).toEqual(['kubernetes']);
    const r = await api(s.url, 'POST', '/api/v1/namespaces/doomed/configmaps', { metadata: { name: 'late' } });
    expect(r.status).toBe(403);
    expect(r.body.message).toContain('because it is being terminated');
    // The namespace controller's last step: clearing spec.finalizers through /finalize removes it.
    const ns = (await api(s.url, 'GET', '/api/v1/namespaces/doomed')).body;
    const f = await api(s.url, 'PUT', '/api/v1/namespaces/doomed/finalize', { ...ns, spec: { finalizers: [] } });
    expect(f.status).toBe(200);
    expect((await api(s.url, 'GET', '/api/v1/namespaces/doomed')).status).toBe(404);
  });
});

describe('Service allocation', () => {
  test('concurrent creates get distinct ClusterIPs from the range', async () => {
    const rs = await Promise.all(Array.from({ length: 30 }, (_, i) => api(s.url, 'POST', '/api/v1/namespaces/default/services', svc(`c${i}`))));
    const ips = rs.map((r) => r.body.spec.clusterIP);
    expect(rs.every((r) => r.status === 201)).toBe(true);
    expect(new Set(ips).size).toBe(30);
    for (const ip of ips) expect(ip).toMatch(/^10\.96\.0\.(\d+)$/);
    expect(ips).not.toContain('10.96.0.1');
    expect(rs.every((r) => JSON.stringify(r.body.spec.clusterIPs) === JSON.stringify([r.body.spec.clusterIP]))).toBe(true);
  });

  test('a requested ClusterIP is honoured, or refused with 422 when taken or out of range', async () => {
    // An address the earlier random allocations did not take.
    const used = new Set((await api(s.url, 'GET', '/api/v1/services')).body.items.map((x: any) => x.spec.clusterIP));
    const free = Array.from({ length: 253 }, (_, i) => `10.96.0.${i + 2}`).find((ip) => !used.has(ip))!;
    const ok = await api(s.url, 'POST', '/api/v1/namespaces/default/services', svc('fixed', { clusterIP: free }));
    expect(ok.body.spec.clusterIP).toBe(free);
    const taken = await api(s.url, 'POST', '/api/v1/namespaces/default/services', svc('fixed2', { clusterIP: free }));
    expect(taken.status).toBe(422);
    expect(taken.body.details.causes[0]).toMatchObject({ field: 'spec.clusterIPs' });
    expect(taken.body.message).toContain('provided IP is already allocated');
    const out = await api(s.url, 'POST', '/api/v1/namespaces/default/services', svc('fixed3', { clusterIP: '192.168.1.1' }));
    expect(out.status).toBe(422);
    expect(out.body.message).toContain('is not in the valid range');
    expect((await api(s.url, 'GET', '/api/v1/namespaces/default/services/fixed2')).status).toBe(404);
    // Freed on delete.
    await api(s.url, 'DELETE', '/api/v1/namespaces/default/services/fixed');
    const again = await api(s.url, 'POST', '/api/v1/namespaces/default/services', svc('fixed4', { clusterIP: free }));
    expect(again.status).toBe(201);
  });

  test('NodePorts are allocated, honoured, refused when taken, and released', async () => {
    const a = await api(s.url, 'POST', '/api/v1/namespaces/default/services', svc('np-a', { type: 'NodePort', ports: [{ port: 80, nodePort: 30005 }] }));
    expect(a.body.spec.ports[0].nodePort).toBe(30005);
    expect(a.body.spec.externalTrafficPolicy).toBe('Cluster');
    const b = await api(s.url, 'POST', '/api/v1/namespaces/default/services', svc('np-b', { type: 'NodePort' }));
    expect(b.body.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    expect(b.body.spec.ports[0].nodePort).toBeLessThanOrEqual(30009);
    const c = await api(s.url, 'POST', '/api/v1/namespaces/default/services', svc('np-c', { type: 'NodePort', ports: [{ port: 80, nodePort: 30005 }] }));
    expect(c.status).toBe(422);
    expect(c.body.details.causes[0]).toMatchObject({ field: 'spec.ports[0].nodePort' });
    // A failed create gives back its ClusterIP too: the range still has room for the rest.
    const outOfRange = await api(s.url, 'POST', '/api/v1/namespaces/default/services', svc('np-d', { type: 'NodePort', ports: [{ port: 80, nodePort: 31000 }] }));
    expect(outOfRange.status).toBe(422);
    expect(outOfRange.body.message).toContain('30000-30009');
    // Switching back to ClusterIP releases the node port.
    const cur = (await api(s.url, 'GET', '/api/v1/namespaces/default/services/np-a')).body;
    const u = await api(s.url, 'PUT', '/api/v1/namespaces/default/services/np-a', { ...cur, spec: { ...cur.spec, type: 'ClusterIP', externalTrafficPolicy: undefined } });
    expect(u.status).toBe(200);
    expect(u.body.spec.ports[0].nodePort).toBeUndefined();
    expect(u.body.spec.clusterIP).toBe(cur.spec.clusterIP);
    const d = await api(s.url, 'POST', '/api/v1/namespaces/default/services', svc('np-e', { type: 'NodePort', ports: [{ port: 80, nodePort: 30005 }] }));
    expect(d.status).toBe(201);
  });

  test('an update that omits the ClusterIP keeps it; changing it is refused', async () => {
    const c = await api(s.url, 'POST', '/api/v1/namespaces/default/services', svc('keep'));
    const { clusterIP, clusterIPs, ...rest } = c.body.spec;
    void clusterIPs;
    const u = await api(s.url, 'PUT', '/api/v1/namespaces/default/services/keep', { ...c.body, spec: rest });
    expect(u.body.spec.clusterIP).toBe(clusterIP);
    // Any other address of the range (the allocator picks at random, so not a fixed one: it may be this one).
    const other = clusterIP === '10.96.0.250' ? '10.96.0.251' : '10.96.0.250';
    const bad = await api(s.url, 'PUT', '/api/v1/namespaces/default/services/keep', { ...u.body, spec: { ...u.body.spec, clusterIP: other, clusterIPs: [other] } });
    expect(bad.status).toBe(422);
    expect(bad.body.message).toContain('may not change once set');
  });
});

describe('events', () => {
  test('events are stored with an etcd lease so that they expire after --event-ttl', async () => {
    const r = await api(s.url, 'POST', '/api/v1/namespaces/default/events', {
      metadata: { name: 'e1' },
      involvedObject: { kind: 'Pod', name: 'x', namespace: 'default' },
      reason: 'Tested',
      message: 'hello',
      type: 'Normal',
    });
    expect(r.status).toBe(201);
    const etcd = new Etcd3({ hosts: s.etcd.endpoints.map((e) => e.replace('http://', '')) });
    const kv = await etcd.get('/registry/events/default/e1').exec();
    const lease = kv.kvs[0]!.lease;
    expect(lease).not.toBe('0');
    const ttl = await etcd.leaseClient.leaseTimeToLive({ ID: lease });
    etcd.close();
    expect(Number(ttl.TTL)).toBeGreaterThan(3000);
    expect(Number(ttl.TTL)).toBeLessThanOrEqual(3600 + 60);
  });
});
