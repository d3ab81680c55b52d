/**
 * The iptables proxier against a real kernel: a node namespace with a bridge and three pod
 * namespaces running `busybox nc` servers that answer with their own name, a client namespace
 * routed through the node (see test/support/netns.ts). The proxier runs its loop in this process
 * and programs the node namespace through `nsenter`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/base/index.js';
import { ExecProxyHost, IptablesProxier, makeEndpointSlice, makeService, serviceChainName, type ProxyHost, type ProxyState } from '../../lib/proxy/index.js';
import { connectMany, createServiceTopology, netnsAvailable, tally, udpAsk, type ServiceTopology } from '../support/netns.js';

const clusterIP = '10.96.0.10';
const selfIP = '10.96.0.11';
const stickyIP = '10.96.0.12';
const emptyIP = '10.96.0.13';
const whoamiIP = '10.96.0.14';
const udpIP = '10.96.0.15';
const internalLocalIP = '10.96.0.16';
const externalIP = '198.51.100.7';
const nodePort = 30080;
const whoamiNodePort = 30081;
const localNodePort = 30082;

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
  /** iptables-save runs of the proxier so far. */
  let saves = 0;
  const ctl = new AbortController();
  let loop: Promise<void>;

  /** `backends`: pods behind `web`; `udpBackends`: pods behind the UDP service. */
  const state = (backends: string[], udpBackends = ['pod-a', 'pod-b', 'pod-c']): ProxyState => {
    const pods = topo.pods.filter((p) => backends.includes(p.name));
    // For the Local policies: pod-b runs on this node for `local`, pod-c for `internal-local`.
    const on = (local: string) => topo.pods.map((p) => ({ ip: p.ip, nodeName: p.name === local ? 'node-1' : 'node-2' }));
    return {
      services: [
        makeService('default', 'web', { clusterIP, type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort }], externalIPs: [externalIP] }),
        makeService('default', 'whoami', { clusterIP: whoamiIP, type: 'NodePort', ports: [{ port: 81, targetPort: 8081, nodePort: whoamiNodePort }] }),
        makeService('default', 'local', { clusterIP: '10.96.0.17', type: 'NodePort', ports: [{ port: 81, targetPort: 8081, nodePort: localNodePort }], externalTrafficPolicy: 'Local' }),
        makeService('default', 'internal-local', { clusterIP: internalLocalIP, ports: [{ port: 81, targetPort: 8081 }], internalTrafficPolicy: 'Local' }),
        makeService('default', 'udp', { clusterIP: udpIP, ports: [{ port: 5353, protocol: 'UDP', targetPort: 8082 }] }),
        makeService('default', 'self', { clusterIP: selfIP, ports: [{ port: 80, targetPort: 8080 }] }),
        makeService('default', 'sticky', { clusterIP: stickyIP, ports: [{ port: 80, targetPort: 8080 }], sessionAffinity: 'ClientIP', sessionAffinitySeconds: 600 }),
        makeService('default', 'empty', { clusterIP: emptyIP, ports: [{ port: 80, targetPort: 8080 }] }),
      ],
      endpointSlices: [
        makeEndpointSlice('default', 'web', pods.map((p) => ({ ip: p.ip, nodeName: 'node-1' })), [{ name: 'http', port: topo.podPort }]),
        makeEndpointSlice('default', 'self', [{ ip: topo.pods[0]!.ip, nodeName: 'node-1' }], [{ port: topo.podPort }]),
        makeEndpointSlice('default', 'sticky', topo.pods.map((p) => ({ ip: p.ip, nodeName: 'node-1' })), [{ port: topo.podPort }]),
        makeEndpointSlice('default', 'empty', [], [{ port: topo.podPort }]),
        makeEndpointSlice('default', 'whoami', topo.pods.map((p) => ({ ip: p.ip, nodeName: 'node-1' })), [{ port: topo.whoamiPort }]),
        makeEndpointSlice('default', 'local', on('pod-b'), [{ port: topo.whoamiPort }]),
        makeEndpointSlice('default', 'internal-local', on('pod-c'), [{ port: topo.whoamiPort }]),
        makeEndpointSlice(
          'default',
          'udp',
          topo.pods.filter((p) => udpBackends.includes(p.name)).map((p) => ({ ip: p.ip, nodeName: 'node-1' })),
          [{ port: topo.udpPort, protocol: 'UDP' }],
        ),
      ],
    };
  };

  /** Waits until the loop has programmed the state as it is now. */
  const nextSync = async () => {
    const want = proxier.stateGeneration;
    await until(() => proxier.syncedGeneration >= want, 10_000, 'a sync of the current state');
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
    const counting: ProxyHost = {
      save: (tables) => {
        saves++;
        return host.save(tables);
      },
      restore: (payload) => host.restore(payload),
      deleteConntrack: (f) => host.deleteConntrack(f),
      setSysctl: (name, value) => host.setSysctl(name, value),
    };
    proxier = new IptablesProxier({
      host: counting,
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

  it('answers on an external IP', async () => {
    const r = await connectMany(topo.client, externalIP, 80, 12);
    expect(r.failures).toBe(0);
    expect(new Set(r.answers).size).toBeGreaterThan(1);
  });

  it('masquerades traffic from outside the cluster CIDR, and keeps the source of pod traffic', async () => {
    const fromClient = await connectMany(topo.client, whoamiIP, 81, 12);
    expect(fromClient.failures).toBe(0);
    expect(new Set(fromClient.answers.map((a) => a.split(' ')[1]))).toEqual(new Set([topo.bridgeIP]));
    const podB = topo.pods[1]!;
    const fromPod = await connectMany(podB.ns, whoamiIP, 81, 30);
    expect(fromPod.failures).toBe(0);
    for (const a of fromPod.answers) {
      const [who, source] = a.split(' ');
      // Its own answers came back through the hairpin masquerade; the others saw the pod itself.
      expect(source, a).toBe(who === podB.name ? topo.bridgeIP : podB.ip);
    }
  });

  it('masquerades node port traffic with external policy Cluster', async () => {
    const r = await connectMany(topo.client, topo.nodeIP, whoamiNodePort, 12);
    expect(r.failures).toBe(0);
    expect(new Set(r.answers.map((a) => a.split(' ')[1]))).toEqual(new Set([topo.bridgeIP]));
  });

  it('sends node port traffic only to local endpoints, keeping the client address, with external policy Local', async () => {
    const r = await connectMany(topo.client, topo.nodeIP, localNodePort, 12);
    expect(r.failures).toBe(0);
    expect(new Set(r.answers)).toEqual(new Set([`pod-b ${topo.clientIP}`]));
  });

  it('sends cluster IP traffic only to local endpoints with internal policy Local', async () => {
    const r = await connectMany(topo.client, internalLocalIP, 81, 12);
    expect(r.failures).toBe(0);
    expect(new Set(r.answers.map((a) => a.split(' ')[0]))).toEqual(new Set(['pod-c']));
  });

  it('deletes the conntrack entry of a UDP flow whose endpoint is removed', async () => {
    const first = (await udpAsk(topo.client, udpIP, 5353, 40000)).split(' ')[0]!;
    expect(first).toMatch(/^pod-/);
    // The flow sticks to its endpoint while the entry lives.
    expect((await udpAsk(topo.client, udpIP, 5353, 40000)).split(' ')[0]).toBe(first);
    proxier.setState(state(['pod-a', 'pod-b', 'pod-c'], ['pod-a', 'pod-b', 'pod-c'].filter((p) => p !== first)));
    await nextSync();
    const after = (await udpAsk(topo.client, udpIP, 5353, 40000)).split(' ')[0];
    expect(after).toMatch(/^pod-/);
    expect(after).not.toBe(first);
    proxier.setState(state(['pod-a', 'pod-b', 'pod-c']));
    await nextSync();
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
    // (No check that the flush broke the service: the loop may repair it before we could look.)
    await topo.node.run(['iptables', '-t', 'nat', '-F']);
    await topo.node.run(['iptables', '-t', 'nat', '-X']);
    const flushedAt = Date.now();
    await until(
      async () => String((await topo.node.run(['iptables-save', '-t', 'nat'])).stdout).includes('-j KUBE-SERVICES'),
      2000 + 10_000,
      'the nat table to come back',
    );
    // One sync period (2 s), plus room for a machine busy with the rest of the suite.
    expect(Date.now() - flushedAt).toBeLessThan(2000 + 6000);
    const r = await connectMany(topo.client, clusterIP, 80, 20);
    expect(r.failures).toBe(0);
    // Many periodic full syncs ran by now: the jumps from the built-in chains are there once each.
    const saved = String((await topo.node.run(['iptables-save'])).stdout);
    const jumps = saved.split('\n').filter((l) => /^-A (PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) .*-j KUBE-/.test(l));
    expect(jumps.length).toBe(12);
    expect(new Set(jumps).size).toBe(12);
  });

  /**
   * What both tables hold: each chain with its rules in order, chains sorted by name (a chain
   * created again is listed at another place by iptables-save).
   */
  const rules = async () => {
    const out: string[] = [];
    for (const table of ['filter', 'nat']) {
      const chains = new Map<string, string[]>();
      for (const l of String((await topo.node.run(['iptables-save', '-t', table])).stdout).split('\n')) {
        if (l.startsWith(':')) chains.set(l.slice(1).split(' ')[0]!, []);
        else if (l.startsWith('-A ')) chains.get(l.split(' ')[1]!)?.push(l);
      }
      for (const c of [...chains.keys()].sort()) out.push(`${table} ${c}`, ...chains.get(c)!);
    }
    return out.join('\n');
  };

  /** Tampers with the tables, waits for the loop to repair them, and tells whether it read iptables-save to do so. */
  const repairAfter = async (tamper: () => Promise<unknown>): Promise<{ saved: boolean }> => {
    await nextSync();
    const before = await rules();
    const savesBefore = saves;
    // (No check that the tables changed: the loop may repair them before we could look.)
    await tamper();
    // Within a sync period (2 s) or two, with room for a busy machine.
    await until(async () => (await rules()) === before, 2000 + 10_000, 'the rules to be as they were');
    const r = await connectMany(topo.client, clusterIP, 80, 10);
    expect(r.failures).toBe(0);
    return { saved: saves > savesBefore };
  };

  it('a periodic full sync repairs a nat table flushed without deleting its chains, reading iptables-save', async () => {
    expect(await repairAfter(() => topo.node.run(['iptables', '-t', 'nat', '-F']))).toEqual({ saved: true });
  });

  it('a periodic full sync puts back the jump from PREROUTING deleted behind its back, reading iptables-save', async () => {
    const jump = ['PREROUTING', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'];
    expect(await repairAfter(() => topo.node.run(['iptables', '-t', 'nat', '-D', ...jump]))).toEqual({ saved: true });
  });

  it('a periodic full sync re-creates a chain of its own deleted behind its back, without reading iptables-save', async () => {
    // Deleting a chain takes emptying the chains that jump to it first (all at once here, so that
    // no sync comes in between); the jumps from the built-in chains stay, so the proxier has no
    // reason to read the tables back.
    const chain = serviceChainName('default/self', 'TCP');
    const tamper = `*nat\n-F KUBE-SERVICES\n-F ${chain}\n-X ${chain}\nCOMMIT\n`;
    expect(await repairAfter(() => topo.node.run(['iptables-restore', '--noflush'], { input: tamper }))).toEqual({ saved: false });
    const r = await connectMany(topo.pods[0]!.ns, selfIP, 80, 3);
    expect(r).toEqual({ answers: ['pod-a', 'pod-a', 'pod-a'], failures: 0 });
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
