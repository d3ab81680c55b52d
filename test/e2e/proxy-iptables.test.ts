/**
 * The iptables proxier against a real kernel: a node namespace with a bridge and three pod
 * namespaces running `busybox nc` servers that answer with their own name, a client namespace
 * routed through the node (see test/support/netns.ts). The proxier runs its loop in this process
 * and programs the node namespace through `nsenter`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/base/index.js';
import { ExecProxyHost, IptablesProxier, makeEndpointSlice, makeService, type ProxyState } from '../../lib/proxy/index.js';
import { connectMany, createServiceTopology, netnsAvailable, tally, type ServiceTopology } from '../support/netns.js';

const clusterIP = '10.96.0.10';
const selfIP = '10.96.0.11';
const stickyIP = '10.96.0.12';
const emptyIP = '10.96.0.13';
const nodePort = 30080;

async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!netnsAvailable())('iptables proxier in network namespaces', () => {
  let topo: ServiceTopology;
  let proxier: IptablesProxier;
  let host: ExecProxyHost;
  const ctl = new AbortController();
  let loop: Promise<void>;

  const state = (backends: string[]): ProxyState => {
    const pods = topo.pods.filter((p) => backends.includes(p.name));
    return {
      services: [
        makeService('default', 'web', { clusterIP, type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort }] }),
        makeService('default', 'self', { clusterIP: selfIP, ports: [{ port: 80, targetPort: 8080 }] }),
        makeService('default', 'sticky', { clusterIP: stickyIP, ports: [{ port: 80, targetPort: 8080 }], sessionAffinity: 'ClientIP', sessionAffinitySeconds: 600 }),
        makeService('default', 'empty', { clusterIP: emptyIP, ports: [{ port: 80, targetPort: 8080 }] }),
      ],
      endpointSlices: [
        makeEndpointSlice('default', 'web', pods.map((p) => ({ ip: p.ip, nodeName: 'node-1' })), [{ name: 'http', port: topo.podPort }]),
        makeEndpointSlice('default', 'self', [{ ip: topo.pods[0]!.ip, nodeName: 'node-1' }], [{ port: topo.podPort }]),
        makeEndpointSlice('default', 'sticky', topo.pods.map((p) => ({ ip: p.ip, nodeName: 'node-1' })), [{ port: topo.podPort }]),
        makeEndpointSlice('default', 'empty', [], [{ port: topo.podPort }]),
      ],
    };
  };

  /** Waits for the loop to finish a sync started after now. */
  const nextSync = async () => {
    const t = Date.now();
    await until(() => (proxier.lastSyncTime ?? 0) > t, 10_000, 'a sync');
  };

  beforeAll(async () => {
    topo = await createServiceTopology();
    host = new ExecProxyHost({ netns: topo.node.name });
    // A leftover of an earlier run in userspace mode, and a chain that is not ours.
    await host.restore(
      [
        '*nat',
        ':KUBE-PORTALS-CONTAINER - [0:0]',
        ':KUBE-SVC-LEFTOVERLEFTOVER - [0:0]',
        ':KUBE-KUBELET-CANARY - [0:0]',
        '-A KUBE-PORTALS-CONTAINER -d 10.96.0.99/32 -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 40000',
        '-A PREROUTING -m comment --comment "handle ClusterIPs; NOTE: this must be before the NodePort rules" -j KUBE-PORTALS-CONTAINER',
        'COMMIT',
        '',
      ].join('\n'),
    );
    proxier = new IptablesProxier({
      host,
      log: silentLogger(),
      nodeName: 'node-1',
      nodeIPs: [topo.nodeIP, topo.bridgeIP],
      clusterCIDR: topo.clusterCIDR,
      syncPeriodMs: 2000,
      minSyncPeriodMs: 100,
    });
    proxier.setState(state(['pod-a', 'pod-b', 'pod-c']));
    loop = proxier.start(ctl.signal);
    await until(() => proxier.lastSyncTime !== undefined, 10_000, 'the first sync');
  }, 120_000);

  afterAll(async () => {
    ctl.abort();
    await loop;
    await topo?.destroy();
  });

  it('removed the leftovers of an earlier run and kept chains it does not own', async () => {
    const saved = String((await topo.node.run(['iptables-save', '-t', 'nat'])).stdout);
    expect(saved).not.toContain('KUBE-PORTALS-CONTAINER');
    expect(saved).not.toContain('KUBE-SVC-LEFTOVERLEFTOVER');
    expect(saved).toContain(':KUBE-KUBELET-CANARY');
    const listing = String((await topo.node.run(['iptables', '-t', 'nat', '-L', 'KUBE-SERVICES', '-n'])).stdout);
    expect(listing).toContain('/* default/web:http cluster IP */');
  });

  it('spreads 300 connections to the cluster IP over all three backends at random', async () => {
    const r = await connectMany(topo.client, clusterIP, 80, 300);
    expect(r.failures).toBe(0);
    const shares = tally(r.answers);
    expect(Object.keys(shares).sort()).toEqual(['pod-a', 'pod-b', 'pod-c']);
    for (const n of Object.values(shares)) {
      expect(n / 300).toBeGreaterThanOrEqual(0.2);
      expect(n / 300).toBeLessThanOrEqual(0.47);
    }
  });

  it('answers on the node port of the node address', async () => {
    const r = await connectMany(topo.client, topo.nodeIP, nodePort, 30);
    expect(r.failures).toBe(0);
    expect(new Set(r.answers).size).toBeGreaterThan(1);
  });

  it('answers on the cluster IP from the node itself', async () => {
    const r = await connectMany(topo.node, clusterIP, 80, 20);
    expect(r.failures).toBe(0);
    expect(r.answers.every((a) => a.startsWith('pod-'))).toBe(true);
  });

  it('lets a backend reach itself through its service (hairpin masquerade)', async () => {
    const r = await connectMany(topo.pods[0]!.ns, selfIP, 80, 5);
    expect(r).toEqual({ answers: ['pod-a', 'pod-a', 'pod-a', 'pod-a', 'pod-a'], failures: 0 });
  });

  it('pins a client to one backend with ClientIP session affinity', async () => {
    const r = await connectMany(topo.client, stickyIP, 80, 30);
    expect(r.failures).toBe(0);
    expect(new Set(r.answers).size).toBe(1);
    // A pod is another client: it gets a pin of its own, and keeps it.
    const fromPod = await connectMany(topo.pods[1]!.ns, stickyIP, 80, 10);
    expect(new Set(fromPod.answers).size).toBe(1);
  });

  it('rejects connections to a service without endpoints at once', async () => {
    const t = Date.now();
    const r = await connectMany(topo.client, emptyIP, 80, 3, { timeoutMs: 5000 });
    expect(r.failures).toBe(3);
    expect(Date.now() - t).toBeLessThan(3000);
  });

  it('stops sending to a backend removed from the state after the next sync', async () => {
    proxier.setState(state(['pod-a', 'pod-b']));
    await nextSync();
    const r = await connectMany(topo.client, clusterIP, 80, 90);
    expect(r.failures).toBe(0);
    expect(Object.keys(tally(r.answers)).sort()).toEqual(['pod-a', 'pod-b']);
    proxier.setState(state(['pod-a', 'pod-b', 'pod-c']));
    await nextSync();
  });

  it('re-creates a flushed nat table within one sync period', async () => {
    await topo.node.run(['iptables', '-t', 'nat', '-F']);
    await topo.node.run(['iptables', '-t', 'nat', '-X']);
    const broken = await connectMany(topo.client, clusterIP, 80, 1, { timeoutMs: 500 });
    expect(broken.answers).toEqual([]);
    const flushedAt = Date.now();
    await until(
      async () => String((await topo.node.run(['iptables-save', '-t', 'nat'])).stdout).includes('-j KUBE-SERVICES'),
      2000 + 3000,
      'the nat table to come back',
    );
    expect(Date.now() - flushedAt).toBeLessThan(2000 + 2000);
    const r = await connectMany(topo.client, clusterIP, 80, 20);
    expect(r.failures).toBe(0);
  });

  it('cleanup leaves no KUBE-* chain of its own', async () => {
    ctl.abort();
    await loop;
    await proxier.cleanup();
    const saved = String((await topo.node.run(['iptables-save'])).stdout);
    const kube = saved.split('\n').filter((l) => /^:KUBE-/.test(l) && !l.startsWith(':KUBE-KUBELET-CANARY'));
    expect(kube).toEqual([]);
    expect(saved).not.toMatch(/-j KUBE-/);
  });
});
