/**
 * UserspaceProxier with a fake host (no iptables) and real listeners and backends on loopback
 * addresses: connections go straight to the proxy port, as the REDIRECT rule would send them.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../base/index.js';
import { FakeProxyHost } from '../fake-host.js';
import { makeEndpointSlice, makeService } from '../objects.js';
import { UserspaceProxier } from './proxier.js';
import { generateUserspaceRules, renderUserspaceRestore } from './rules.js';
import { buildServicePorts } from '../service-port.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A TCP server on 127.0.0.<n>:port answering every connection with its name. */
async function nameServer(ip: string, port: number, name: string): Promise<void> {
  const srv = net.createServer((s) => s.end(name));
  await new Promise<void>((r) => srv.listen(port, ip, () => r()));
  cleanups.push(() => new Promise<void>((r) => srv.close(() => r())));
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function ask(port: number, localAddress = '127.0.0.1'): Promise<string | null> {
  return new Promise((resolve) => {
    let buf = '';
    const s = net.connect({ host: '127.0.0.1', port, localAddress });
    s.on('data', (d) => (buf += d));
    s.on('error', () => resolve(null));
    s.on('close', () => resolve(buf || null));
    s.end();
  });
}

function newProxier(host = new FakeProxyHost(), now?: () => number) {
  const p = new UserspaceProxier({ host, log: silentLogger(), nodeName: 'node-1', listenAddress: '127.0.0.1', ...(now ? { now } : {}) });
  cleanups.push(() => p.cleanup());
  return { p, host };
}

const backends = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];

describe('UserspaceProxier', () => {
  it('relays connections to the backends in exact round-robin order', async () => {
    const port = await freePort();
    for (const [i, ip] of backends.entries()) await nameServer(ip, port, `pod-${'abc'[i]}`);
    const { p, host } = newProxier();
    p.setState({
      services: [makeService('ns1', 'web', { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80 }] })],
      endpointSlices: [makeEndpointSlice('ns1', 'web', backends.map((ip) => ({ ip })), [{ name: 'http', port }])],
    });
    await p.sync();
    const proxyPort = p.proxyPort('ns1/web:http')!;
    expect(proxyPort).toBeGreaterThan(0);
    expect(host.chainRules('nat', 'KUBE-PORTALS-CONTAINER')).toEqual([
      `-A KUBE-PORTALS-CONTAINER -m comment --comment ns1/web:http -m tcp -p tcp -d 10.96.0.10/32 --dport 80 -j REDIRECT --to-ports ${proxyPort}`,
    ]);
    const answers: (string | null)[] = [];
    for (let i = 0; i < 9; i++) answers.push(await ask(proxyPort));
    expect(answers).toEqual(['pod-a', 'pod-b', 'pod-c', 'pod-a', 'pod-b', 'pod-c', 'pod-a', 'pod-b', 'pod-c']);
  });

  it('pins clients with ClientIP affinity', async () => {
    const port = await freePort();
    for (const [i, ip] of backends.entries()) await nameServer(ip, port, `pod-${'abc'[i]}`);
    const { p } = newProxier();
    p.setState({
      services: [makeService('ns1', 'web', { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80 }], sessionAffinity: 'ClientIP', sessionAffinitySeconds: 60 })],
      endpointSlices: [makeEndpointSlice('ns1', 'web', backends.map((ip) => ({ ip })), [{ name: 'http', port }])],
    });
    await p.sync();
    const proxyPort = p.proxyPort('ns1/web:http')!;
    const one = await Promise.all([1, 2, 3, 4].map(() => ask(proxyPort, '127.0.0.1')));
    const other = await Promise.all([1, 2, 3, 4].map(() => ask(proxyPort, '127.0.0.9')));
    expect(new Set(one).size).toBe(1);
    expect(new Set(other).size).toBe(1);
    expect(one[0]).not.toBe(other[0]);
  });

  it('skips a dead backend, and closes connections at once without any backend', async () => {
    const port = await freePort();
    await nameServer('127.0.0.3', port, 'pod-b');
    const { p } = newProxier();
    const state = (ips: string[]) => ({
      services: [makeService('ns1', 'web', { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80 }] })],
      endpointSlices: [makeEndpointSlice('ns1', 'web', ips.map((ip) => ({ ip })), [{ name: 'http', port }])],
    });
    p.setState(state(['127.0.0.2', '127.0.0.3'])); // nothing listens on .2
    await p.sync();
    const proxyPort = p.proxyPort('ns1/web:http')!;
    expect([await ask(proxyPort), await ask(proxyPort)]).toEqual(['pod-b', 'pod-b']);
    p.setState(state([]));
    await p.sync();
    const t = Date.now();
    expect(await ask(proxyPort)).toBeNull();
    expect(Date.now() - t).toBeLessThan(500);
  });

  it('relays UDP per client flow', async () => {
    const port = await freePort();
    const servers: dgram.Socket[] = [];
    for (const [i, ip] of backends.slice(0, 2).entries()) {
      const s = dgram.createSocket('udp4');
      s.on('message', (m, r) => s.send(`${'ab'[i]}:${m}`, r.port, r.address));
      await new Promise<void>((res) => s.bind(port, ip, () => res()));
      servers.push(s);
    }
    cleanups.push(() => servers.forEach((s) => s.close()));
    const { p } = newProxier();
    p.setState({
      services: [makeService('kube-system', 'dns', { clusterIP: '10.96.0.53', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] })],
      endpointSlices: [makeEndpointSlice('kube-system', 'dns', backends.slice(0, 2).map((ip) => ({ ip })), [{ name: 'dns', port, protocol: 'UDP' }])],
    });
    await p.sync();
    const proxyPort = p.proxyPort('kube-system/dns:dns', 'UDP')!;
    const query = async (msg: string) => {
      const c = dgram.createSocket('udp4');
      const reply = new Promise<string>((res) => c.once('message', (m) => res(String(m))));
      c.send(msg, proxyPort, '127.0.0.1');
      const r = await reply;
      c.close();
      return r;
    };
    expect([await query('q1'), await query('q2'), await query('q3')]).toEqual(['a:q1', 'b:q2', 'a:q3']);
  });

  it('closes the listener of a removed service and drops its rules', async () => {
    const { p, host } = newProxier();
    p.setState({ services: [makeService('ns1', 'web', { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, nodePort: 30080 }], type: 'NodePort' })], endpointSlices: [] });
    await p.sync();
    const proxyPort = p.proxyPort('ns1/web:http')!;
    expect(host.chainRules('nat', 'KUBE-NODEPORT-HOST')).toHaveLength(1);
    p.setState({ services: [], endpointSlices: [] });
    await p.sync();
    expect(p.proxyPort('ns1/web:http')).toBeUndefined();
    expect(host.chainRules('nat', 'KUBE-PORTALS-CONTAINER')).toEqual([]);
    expect(await ask(proxyPort)).toBeNull();
  });

  it('removes iptables-mode leftovers and installs its jumps on the first sync; cleanup removes everything', async () => {
    const host = new FakeProxyHost();
    await host.restore(
      '*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]\n-A KUBE-SERVICES -j KUBE-SVC-AAAAAAAAAAAAAAAA\n-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\nCOMMIT\n*filter\n:KUBE-FORWARD - [0:0]\n-A FORWARD -j KUBE-FORWARD\nCOMMIT\n',
    );
    const { p } = newProxier(host);
    p.setState({ services: [], endpointSlices: [] });
    await p.sync();
    expect(host.chains('nat').filter((c) => c.startsWith('KUBE-')).sort()).toEqual(['KUBE-NODEPORT-CONTAINER', 'KUBE-NODEPORT-HOST', 'KUBE-PORTALS-CONTAINER', 'KUBE-PORTALS-HOST']);
    expect(host.chains('filter').filter((c) => c.startsWith('KUBE-'))).toEqual([]);
    expect(host.chainRules('nat', 'PREROUTING')).toEqual([
      '-A PREROUTING -m comment --comment "handle ClusterIPs; NOTE: this must be before the NodePort rules" -j KUBE-PORTALS-CONTAINER',
      '-A PREROUTING -m addrtype --dst-type LOCAL -m comment --comment "handle service NodePorts; NOTE: this must be the last rule in the chain" -j KUBE-NODEPORT-CONTAINER',
    ]);
    await p.cleanup();
    expect(host.chains('nat').filter((c) => c.startsWith('KUBE-'))).toEqual([]);
    expect(host.chainRules('nat', 'PREROUTING')).toEqual([]);
  });

  it('renders the portal rules for cluster IPs, external IPs and node ports', () => {
    const [info] = buildServicePorts([
      makeService('ns1', 'web', { clusterIP: '10.96.0.10', type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }], externalIPs: ['203.0.113.7'] }),
    ]);
    const payload = renderUserspaceRestore(generateUserspaceRules([{ info: info!, proxyPort: 40001 }]));
    expect(payload).toBe(
      [
        '*nat',
        ':KUBE-PORTALS-CONTAINER - [0:0]',
        ':KUBE-PORTALS-HOST - [0:0]',
        ':KUBE-NODEPORT-CONTAINER - [0:0]',
        ':KUBE-NODEPORT-HOST - [0:0]',
        '-A KUBE-PORTALS-CONTAINER -m comment --comment ns1/web:http -m tcp -p tcp -d 10.96.0.10/32 --dport 80 -j REDIRECT --to-ports 40001',
        '-A KUBE-PORTALS-CONTAINER -m comment --comment ns1/web:http -m tcp -p tcp -d 203.0.113.7/32 --dport 80 -j REDIRECT --to-ports 40001',
        '-A KUBE-PORTALS-HOST -m comment --comment ns1/web:http -m tcp -p tcp -d 10.96.0.10/32 --dport 80 -j REDIRECT --to-ports 40001',
        '-A KUBE-PORTALS-HOST -m comment --comment ns1/web:http -m tcp -p tcp -d 203.0.113.7/32 --dport 80 -j REDIRECT --to-ports 40001',
        '-A KUBE-NODEPORT-CONTAINER -m comment --comment ns1/web:http -m tcp -p tcp --dport 30080 -j REDIRECT --to-ports 40001',
        '-A KUBE-NODEPORT-HOST -m comment --comment ns1/web:http -m tcp -p tcp --dport 30080 -j REDIRECT --to-ports 40001',
        'COMMIT',
        '',
      ].join('\n'),
    );
  });
});
