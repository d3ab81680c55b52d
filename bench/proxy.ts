/**
 * tkube-proxy figures: what a service costs on the data path, in iptables mode (the kernel DNATs,
 * the proxy is not on the path) and in userspace mode (every byte goes through the proxy
 * process), against connecting to the pod directly. Runs in network namespaces it creates (root).
 */
import { silentLogger } from '../lib/base/index.js';
import { ExecProxyHost, IptablesProxier, makeEndpointSlice, makeService, type ProxyState } from '../lib/proxy/index.js';
import { compileEntry } from '../test/support/compile.js';
import { IpcChild } from '../test/support/ipc-child.js';
import { connectMany, createServiceTopology, netnsAvailable, type Netns, type ServiceTopology } from '../test/support/netns.js';
import { progress, type Row } from './table.js';

const clusterIP = '10.96.0.10';
const bulkPort = 9000;

/** Sends `bytes` to every connection, then closes. */
const bulkServerSource = `
import net from 'node:net';
const [port, bytes] = process.argv.slice(1).map(Number);
const chunk = Buffer.alloc(1 << 16, 120);
net.createServer((s) => {
  let left = bytes;
  const pump = () => { while (left > 0) { const n = Math.min(left, chunk.length); left -= n; if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return s.once('drain', pump); } s.end(); };
  s.on('error', () => {});
  pump();
}).listen(port, '0.0.0.0');
`;

/** Downloads from host:port, prints the bytes and milliseconds. */
const downloadSource = `
import net from 'node:net';
const [host, port] = process.argv.slice(1);
const t = process.hrtime.bigint();
let n = 0;
const s = net.connect({ host, port: Number(port) });
s.on('data', (d) => (n += d.length));
s.on('close', () => process.stdout.write(JSON.stringify({ bytes: n, ms: Number(process.hrtime.bigint() - t) / 1e6 })));
`;

async function download(from: Netns, host: string, port: number): Promise<number> {
  const r = JSON.parse(await from.node(downloadSource, [host, String(port)], 300_000)) as { bytes: number; ms: number };
  return r.bytes / 2 ** 20 / (r.ms / 1000);
}

async function connectionRate(from: Netns, host: string, port: number, count: number): Promise<number> {
  const t = performance.now();
  const r = await connectMany(from, host, port, count);
  if (r.failures) throw new Error(`${r.failures} of ${count} connections to ${host}:${port} failed`);
  return count / ((performance.now() - t) / 1000);
}

export async function benchProxy(opts: { quick: boolean }): Promise<Row[]> {
  if (!netnsAvailable()) return [{ name: 'skipped: needs root, nsenter and iptables', measured: 0, unit: '' }];
  const bytes = (opts.quick ? 64 : 512) * 2 ** 20;
  const conns = opts.quick ? 200 : 1000;
  const topo: ServiceTopology = await createServiceTopology({ pods: ['pod-a'] });
  const pod = topo.pods[0]!;
  const rows: Row[] = [];
  try {
    pod.ns.spawn([process.execPath, '--input-type=module', '-e', bulkServerSource, '--', String(bulkPort), String(bytes)]);
    await new Promise((r) => setTimeout(r, 500));
    const state: ProxyState = {
      services: [makeService('default', 'bench', { clusterIP, ports: [{ name: 'echo', port: 80, targetPort: topo.podPort }, { name: 'bulk', port: 90, targetPort: bulkPort }] })],
      endpointSlices: [makeEndpointSlice('default', 'bench', [{ ip: pod.ip, nodeName: 'node-1' }], [{ name: 'echo', port: topo.podPort }, { name: 'bulk', port: bulkPort }])],
    };

    progress('proxy: direct to the pod');
    await connectionRate(topo.client, pod.ip, topo.podPort, 50); // warm-up
    const directRate = await connectionRate(topo.client, pod.ip, topo.podPort, conns);
    const directBulk = await download(topo.client, pod.ip, bulkPort);

    progress('proxy: iptables mode');
    const iptables = new IptablesProxier({ host: new ExecProxyHost({ netns: topo.node.name }), log: silentLogger(), nodeName: 'node-1', clusterCIDR: topo.clusterCIDR });
    iptables.setState(state);
    await iptables.sync();
    const ipRate = await connectionRate(topo.client, clusterIP, 80, conns);
    const ipBulk = await download(topo.client, clusterIP, 90);
    await iptables.cleanup();

    progress('proxy: userspace mode');
    const compiled = await compileEntry('test/support/userspace-child.ts');
    const { child } = await IpcChild.start(compiled.entry, topo.node.path);
    try {
      await child.call({ type: 'state', state });
      const usRate = await connectionRate(topo.client, clusterIP, 80, conns);
      const usBulk = await download(topo.client, clusterIP, 90);
      rows.push(
        { name: 'connections/s, iptables ClusterIP', measured: ipRate, unit: '/s', baseline: directRate, baselineName: 'pod IP', target: 'ratio >= 0.5', ok: ipRate >= 0.5 * directRate },
        { name: 'connections/s, userspace ClusterIP', measured: usRate, unit: '/s', baseline: directRate, baselineName: 'pod IP' },
        { name: 'download MiB/s, iptables ClusterIP', measured: ipBulk, unit: 'MiB/s', baseline: directBulk, baselineName: 'pod IP', target: 'ratio >= 0.5', ok: ipBulk >= 0.5 * directBulk },
        { name: 'download MiB/s, userspace ClusterIP', measured: usBulk, unit: 'MiB/s', baseline: directBulk, baselineName: 'pod IP' },
      );
      await child.call({ type: 'cleanup' }).catch(() => undefined);
    } finally {
      child.kill();
      await compiled.remove();
    }
  } finally {
    await topo.destroy();
  }
  return rows;
}
