/**
 * The cluster DNS add-on as it runs in a cluster: two DNS server "pods" (processes in pod
 * namespaces, listening on port 53), the kube-dns service in front of them programmed by the
 * iptables proxier, and a client resolving service names through the service IP, over UDP
 * (busybox nslookup) and TCP, then connecting to what it resolved.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/base/index.js';
import { ExecProxyHost, IptablesProxier, makeEndpointSlice, makeService, type ProxyState } from '../../lib/proxy/index.js';
import { compileEntry, type Compiled } from '../support/compile.js';
import { IpcChild } from '../support/ipc-child.js';
import { connectMany, createServiceTopology, netnsAvailable, type ServiceTopology } from '../support/netns.js';

const dnsIP = '10.96.0.10';
const webIP = '10.96.0.20';

/** A TCP DNS query with dns-packet from inside a namespace; prints the A records, comma-separated. */
const tcpQuerySource = `
import net from 'node:net';
import dnsPacket from 'dns-packet';
const [server, name] = process.argv.slice(1);
const c = net.connect({ host: server, port: 53 });
let buf = Buffer.alloc(0);
c.on('connect', () => c.write(dnsPacket.streamEncode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'A' }] })));
c.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
    const p = dnsPacket.decode(buf.subarray(2));
    process.stdout.write((p.answers ?? []).filter((a) => a.type === 'A').map((a) => a.data).join(','));
    c.destroy();
  }
});
setTimeout(() => { process.stdout.write('timeout'); process.exit(0); }, 3000).unref();
`;

describe.skipIf(!netnsAvailable())('cluster DNS behind the kube-dns service', () => {
  let topo: ServiceTopology;
  let compiled: Compiled;
  const dnsPods: IpcChild[] = [];
  let proxier: IptablesProxier;
  let state: ProxyState;

  beforeAll(async () => {
    [topo, compiled] = await Promise.all([createServiceTopology(), compileEntry('test/support/dns-child.ts')]);
    const [podA, podB, podC] = topo.pods as [ServiceTopology['pods'][number], ServiceTopology['pods'][number], ServiceTopology['pods'][number]];
    state = {
      services: [
        makeService('kube-system', 'kube-dns', {
          clusterIP: dnsIP,
          ports: [
            { name: 'dns', port: 53, protocol: 'UDP' },
            { name: 'dns-tcp', port: 53, protocol: 'TCP' },
          ],
        }),
        makeService('default', 'web', { clusterIP: webIP, ports: [{ name: 'http', port: 80, targetPort: 8080 }] }),
        makeService('default', 'web-headless', { clusterIP: 'None', ports: [{ name: 'http', port: 8080 }] }),
      ],
      endpointSlices: [
        makeEndpointSlice('kube-system', 'kube-dns', [podA, podB].map((p) => ({ ip: p.ip, nodeName: 'node-1' })), [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        ]),
        makeEndpointSlice('default', 'web', [podC].map((p) => ({ ip: p.ip, nodeName: 'node-1' })), [{ name: 'http', port: topo.podPort }]),
        makeEndpointSlice('default', 'web-headless', [podA, podC].map((p) => ({ ip: p.ip, hostname: p.name })), [{ name: 'http', port: topo.podPort }]),
      ],
    };
    for (const pod of [podA, podB]) {
      const { child } = await IpcChild.start(compiled.entry, pod.ns.path);
      await child.call({ type: 'state', state });
      dnsPods.push(child);
    }
    proxier = new IptablesProxier({ host: new ExecProxyHost({ netns: topo.node.name }), log: silentLogger(), nodeName: 'node-1', clusterCIDR: topo.clusterCIDR });
    proxier.setState(state);
    await proxier.sync();
  }, 120_000);

  afterAll(async () => {
    for (const c of dnsPods) c.kill();
    await topo?.destroy();
    await compiled?.remove();
  });

  it('resolves a service through the kube-dns service IP over UDP, and the name leads to the service', async () => {
    const out = String((await topo.client.run(['busybox', 'nslookup', 'web.default.svc.cluster.local', dnsIP])).stdout);
    expect(out).toMatch(new RegExp(`Address:\\s+${webIP.replace(/\./g, '\\.')}`));
    const r = await connectMany(topo.client, webIP, 80, 3);
    expect(r.answers).toEqual(['pod-c', 'pod-c', 'pod-c']);
  });

  it('resolves over TCP, and a pod resolves too', async () => {
    expect(await topo.client.node(tcpQuerySource, [dnsIP, 'web.default.svc.cluster.local'])).toBe(webIP);
    const fromPod = await topo.pods[2]!.ns.node(tcpQuerySource, [dnsIP, 'web-headless.default.svc.cluster.local']);
    expect(fromPod.split(',').sort()).toEqual([topo.pods[0]!.ip, topo.pods[2]!.ip]);
    expect(await topo.client.node(tcpQuerySource, [dnsIP, 'pod-a.web-headless.default.svc.cluster.local'])).toBe(topo.pods[0]!.ip);
  });

  it('keeps answering while one DNS pod is gone from the endpoints', async () => {
    dnsPods[0]!.kill();
    proxier.setState({
      services: state.services,
      endpointSlices: state.endpointSlices.map((s) =>
        s.metadata.name?.startsWith('kube-dns') ? { ...s, endpoints: s.endpoints.filter((e) => e.addresses[0] !== topo.pods[0]!.ip) } : s,
      ),
    });
    await proxier.sync();
    for (let i = 0; i < 5; i++) {
      const out = String((await topo.client.run(['busybox', 'nslookup', 'web.default.svc.cluster.local', dnsIP])).stdout);
      expect(out).toContain(webIP);
    }
  });
});
