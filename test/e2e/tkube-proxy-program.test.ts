/**
 * tkube-proxy as a program: Services and EndpointSlices created through a real API server reach
 * the node's iptables through informers, and traffic to the ClusterIP lands on the pods.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../lib/base/index.js';
import { RESTClient, loadClientConfig } from '../../lib/client/index.js';
import { ExecProxyHost, ProxyServer } from '../../lib/proxy/index.js';
import { api, startAPIServer, type TestAPIServer } from '../support/apiserver.js';
import { connectMany, createServiceTopology, netnsAvailable, type ServiceTopology } from '../support/netns.js';
import { freePort } from '../support/ports.js';

const run = netnsAvailable() ? describe : describe.skip;

run('tkube-proxy against the API server', () => {
  let s: TestAPIServer;
  let topo: ServiceTopology;
  let proxy: ProxyServer;
  const ctl = new AbortController();
  let running: Promise<void>;
  let healthPort: number;

  beforeAll(async () => {
    s = await startAPIServer();
    topo = await createServiceTopology();
    // The node object the kubelet would have registered.
    await api(s.url, 'POST', '/api/v1/nodes', { metadata: { name: 'node-1' }, status: { addresses: [{ type: 'InternalIP', address: topo.nodeIP }] } });
    const client = new RESTClient({ config: loadClientConfig({ kubeconfig: s.kubeconfig }), component: 'tkube-proxy-test', qps: 100, burst: 200 });
    healthPort = await freePort();
    proxy = new ProxyServer({
      client,
      log: process.env.TKUBE_TEST_LOG ? createLogger({ component: 'tkube-proxy', level: 'debug' }) : silentLogger(),
      nodeName: 'node-1',
      mode: 'iptables',
      clusterCIDR: topo.clusterCIDR,
      syncPeriodMs: 5000,
      minSyncPeriodMs: 100,
      nodePortAddresses: [],
      masqueradeAll: false,
      masqueradeBit: 14,
      metricsBindAddress: '127.0.0.1:0',
      healthzBindAddress: `127.0.0.1:${healthPort}`,
      host: new ExecProxyHost({ netns: topo.node.name }),
    });
    running = proxy.start(ctl.signal);
  }, 120_000);

  afterAll(async () => {
    ctl.abort();
    await running?.catch(() => {});
    await proxy?.proxier?.cleanup().catch(() => {});
    await topo?.destroy();
    await s?.stop();
  });

  async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const natRules = async () => String((await topo.node.run(['iptables-save', '-t', 'nat'])).stdout);

  it('programs a Service and its EndpointSlice, and the ClusterIP reaches every pod', async () => {
    const svc = await api(s.url, 'POST', '/api/v1/namespaces/default/services', { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: topo.podPort }] } });
    expect(svc.status).toBe(201);
    const ip = svc.body.spec.clusterIP;
    await api(s.url, 'POST', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', {
      metadata: { name: 'web-abc', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: topo.podPort, protocol: 'TCP' }],
      endpoints: topo.pods.map((p) => ({ addresses: [p.ip], conditions: { ready: true }, nodeName: 'node-1' })),
    });
    await until('the service rules', async () => (await natRules()).includes(`-d ${ip}/32 -p tcp -m comment --comment "default/web:http cluster IP"`));
    const rules = await natRules();
    expect(rules).toMatch(/-A KUBE-SVC-[A-Z0-9]{16} -m comment --comment "default\/web:http -> 10\.244\.1\.2:8080" -m statistic --mode random --probability 0\.333333333\d* -j KUBE-SEP-/);
    // (iptables-save prints the probability back from the kernel's fixed-point value, e.g. 0.33333333349.)
    const r = await connectMany(topo.client, ip, 80, 60);
    expect(r.failures).toBe(0);
    expect(new Set(r.answers)).toEqual(new Set(topo.pods.map((p) => p.name)));
  });

  it('follows endpoint changes and service deletion', async () => {
    const svc = (await api(s.url, 'GET', '/api/v1/namespaces/default/services/web')).body;
    await api(s.url, 'PATCH', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-abc', { endpoints: [{ addresses: [topo.pods[0]!.ip], conditions: { ready: true } }] }, { 'content-type': 'application/merge-patch+json' });
    await until('one endpoint left', async () => !(await natRules()).includes('10.244.1.3:8080'));
    const r = await connectMany(topo.client, svc.spec.clusterIP, 80, 20);
    expect(new Set(r.answers)).toEqual(new Set([topo.pods[0]!.name]));
    await api(s.url, 'DELETE', '/api/v1/namespaces/default/services/web');
    await until('the service chains removed', async () => !(await natRules()).includes('default/web:http'));
  });

  it('reports health as upstream does', async () => {
    const body = await new Promise<{ status: number; json: any }>((resolve, reject) =>
      http.get(`http://127.0.0.1:${healthPort}/healthz`, (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(b) }));
      }).on('error', reject),
    );
    expect(body.status).toBe(200);
    expect(Date.parse(body.json.lastUpdated)).toBeGreaterThan(Date.now() - 60_000);
    expect(body.json.currentTime).toBeTruthy();
  });
});
