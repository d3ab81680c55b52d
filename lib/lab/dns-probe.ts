#!/usr/bin/env node
/**
 * Asks a DNS server for one A record over UDP and prints the addresses (exit 0), or why not
 * (exit 1). tkube-lab runs it inside a lab host's namespace, where the kube-dns Service's
 * clusterIP is programmed: `node dns-probe.js 10.96.0.10 kubernetes.default.svc.cluster.local`.
 */
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';

const [server = '10.96.0.10', name = 'kubernetes.default.svc.cluster.local', timeout = '2000'] = process.argv.slice(2);
const sock = dgram.createSocket('udp4');
const id = Math.floor(Math.random() * 65535);
const timer = setTimeout(() => {
  process.stderr.write(`no answer from ${server}:53 within ${timeout}ms\n`);
  sock.close();
  process.exitCode = 1;
}, Number(timeout));
sock.on('message', (msg) => {
  clearTimeout(timer);
  sock.close();
  const res = dnsPacket.decode(msg) as { rcode?: string; answers?: Array<{ type: string; data?: unknown }> };
  const addrs = (res.answers ?? []).filter((a) => a.type === 'A').map((a) => String(a.data));
  if ((res.rcode ?? 'NOERROR') !== 'NOERROR' || addrs.length === 0) {
    process.stderr.write(`${name}: ${res.rcode ?? 'NOERROR'}, ${addrs.length} addresses\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`${name} ${addrs.join(' ')}\n`);
});
sock.send(dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] }), 53, server);
