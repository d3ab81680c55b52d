/**
 * The DNS server on a loopback port, queried with dns-packet over UDP and TCP; names outside the
 * cluster go to a fake upstream resolver, also on loopback.
 */
import dgram from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket, { type Answer, type DecodedPacket, type Packet, type RecordType } from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../base/index.js';
import { makeEndpointSlice, makeService } from '../proxy/index.js';
import { DnsServer } from './server.js';

// ---- a fake upstream resolver -------------------------------------------------------------
interface FakeUpstream {
  port: number;
  queries: string[];
  close(): Promise<void>;
}

/** Answers example.com (A), www.example.org (A), big.example.com (many A, truncated over UDP); NXDOMAIN otherwise. */
async function fakeUpstream(): Promise<FakeUpstream> {
  const queries: string[] = [];
  const answer = (raw: Buffer, transport: 'udp' | 'tcp'): Buffer => {
    const q = dnsPacket.decode(raw);
    const question = q.questions![0]!;
    queries.push(`${transport} ${question.name} ${question.type}`);
    const a = (name: string, ip: string): Answer => ({ name, type: 'A', ttl: 300, class: 'IN', data: ip });
    let answers: Answer[] = [];
    let rcode = 3;
    if (question.name === 'example.com' && question.type === 'A') [answers, rcode] = [[a('example.com', '192.0.2.10')], 0];
    if (question.name === 'www.example.org' && question.type === 'A') [answers, rcode] = [[a('www.example.org', '192.0.2.20')], 0];
    if (question.name === 'big.example.com') [answers, rcode] = [Array.from({ length: 60 }, (_, i) => a('big.example.com', `192.0.2.${i + 1}`)), 0];
    const reply = dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE | rcode, questions: q.questions, answers });
    if (transport === 'udp' && reply.length > 512) {
      const tc = dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE | dnsPacket.TRUNCATED_RESPONSE, questions: q.questions, answers: [] });
      return tc;
    }
    return reply;
  };
  const udp = dgram.createSocket('udp4');
  udp.on('message', (m, r) => udp.send(answer(m, 'udp'), r.port, r.address));
  await new Promise<void>((res) => udp.bind(0, '127.0.0.1', () => res()));
  const port = udp.address().port;
  const tcp = net.createServer((c) => {
    let buf = Buffer.alloc(0);
    c.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const reply = answer(buf.subarray(2, 2 + buf.readUInt16BE(0)), 'tcp');
        const len = Buffer.alloc(2);
        len.writeUInt16BE(reply.length);
        c.end(Buffer.concat([len, reply]));
      }
    });
  });
  await new Promise<void>((res) => tcp.listen(port, '127.0.0.1', () => res()));
  return {
    port,
    queries,
    close: async () => {
      udp.close();
      await new Promise<void>((r) => tcp.close(() => r()));
    },
  };
}

/** A UDP port with nothing behind it (bound then closed). */
async function deadPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

// ---- clients ------------------------------------------------------------------------------
let nextId = 1;
function queryPacket(name: string, type: RecordType, edns = false): Packet {
  return {
    type: 'query',
    id: nextId++,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type, class: 'IN' }],
    ...(edns ? { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] } : {}),
  };
}

function udpQuery(port: number, name: string, type: RecordType, edns = false): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      reject(new Error(`no UDP answer for ${name}`));
    }, 5000);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(dnsPacket.decode(m));
    });
    s.send(dnsPacket.encode(queryPacket(name, type, edns)), port, '127.0.0.1');
  });
}

function tcpQuery(port: number, name: string, type: RecordType): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const c = net.connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    c.on('connect', () => c.write(dnsPacket.streamEncode(queryPacket(name, type))));
    c.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        c.destroy();
        resolve(dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))));
      }
    });
    c.on('error', reject);
  });
}

const rcode = (p: DecodedPacket) => (p.flags ?? 0) & 0xf;
const data = (p: DecodedPacket, type?: string) => (p.answers ?? []).filter((a) => !type || a.type === type).map((a) => (a as { data: unknown }).data);

// ---- the state ----------------------------------------------------------------------------
const services = [
  makeService('ns1', 'web', { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80 }, { name: 'metrics', port: 9100 }, { port: 81 }] }),
  makeService('ns1', 'db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] }),
  makeService('ns1', 'empty', { clusterIP: 'None', ports: [{ name: 'x', port: 1 }] }),
  makeService('ns1', 'big', { clusterIP: 'None', ports: [{ port: 80 }] }),
  makeService('ns1', 'ext', { type: 'ExternalName', externalName: 'www.example.org' }),
  makeService('ns1', 'alias', { type: 'ExternalName', externalName: 'web.ns1.svc.cluster.local' }),
  makeService('kube-system', 'kube-dns', { clusterIP: '10.96.0.53', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53 }] }),
];
const endpointSlices = [
  makeEndpointSlice('ns1', 'web', [{ ip: '10.244.1.2' }, { ip: '10.244.1.3' }], [{ name: 'http', port: 8080 }]),
  makeEndpointSlice(
    'ns1',
    'db',
    [
      { ip: '10.244.1.10', hostname: 'db-0' },
      { ip: '10.244.2.11', hostname: 'db-1' },
      { ip: '10.244.3.12' },
      { ip: '10.244.3.13', hostname: 'db-3', ready: false },
    ],
    [{ name: 'pg', port: 5433 }],
  ),
  makeEndpointSlice('ns1', 'empty', [{ ip: '10.244.9.9', ready: false }], [{ name: 'x', port: 1 }]),
  makeEndpointSlice('ns1', 'big', Array.from({ length: 60 }, (_, i) => ({ ip: `10.245.0.${i + 1}` })), [{ port: 80 }]),
];

describe('DnsServer', () => {
  let server: DnsServer;
  let upstream: FakeUpstream;
  let port: number;

  beforeAll(async () => {
    upstream = await fakeUpstream();
    // The first upstream does not answer: the server must move on to the second.
    server = new DnsServer({
      log: silentLogger(),
      upstreams: [`127.0.0.1:${await deadPort()}`, `127.0.0.1:${upstream.port}`],
      forwardTimeoutMs: 300,
    });
    server.setState({ services, endpointSlices });
    ({ port } = await server.listen('127.0.0.1', 0));
  });

  afterAll(async () => {
    await server?.close();
    await upstream?.close();
  });

  it('answers A for a service with its cluster IP, TTL 30, authoritatively, over UDP and TCP', async () => {
    for (const r of [await udpQuery(port, 'web.ns1.svc.cluster.local', 'A'), await tcpQuery(port, 'web.ns1.svc.cluster.local', 'A')]) {
      expect(rcode(r)).toBe(0);
      expect(r.flag_aa).toBe(true);
      expect(r.flag_ra).toBe(true);
      expect(r.flag_rd).toBe(true);
      expect(r.answers).toEqual([{ name: 'web.ns1.svc.cluster.local', type: 'A', ttl: 30, class: 'IN', flush: false, data: '10.96.0.10' }]);
    }
  });

  it('compares names case-insensitively and answers with the name as asked', async () => {
    const r = await udpQuery(port, 'WEB.Ns1.SVC.cluster.LOCAL', 'A');
    expect(r.answers?.[0]?.name).toBe('WEB.Ns1.SVC.cluster.LOCAL');
    expect(data(r)).toEqual(['10.96.0.10']);
  });

  it('answers SRV for named ports, with the target address as additional', async () => {
    const r = await udpQuery(port, '_http._tcp.web.ns1.svc.cluster.local', 'SRV');
    expect(data(r, 'SRV')).toEqual([{ priority: 0, weight: 100, port: 80, target: 'web.ns1.svc.cluster.local' }]);
    expect(r.additionals?.filter((a) => a.type === 'A').map((a) => [a.name, (a as { data: string }).data])).toEqual([['web.ns1.svc.cluster.local', '10.96.0.10']]);
    // UDP port names do not match TCP.
    expect(rcode(await udpQuery(port, '_http._udp.web.ns1.svc.cluster.local', 'SRV'))).toBe(3);
    expect(data(await udpQuery(port, '_dns._udp.kube-dns.kube-system.svc.cluster.local', 'SRV'))).toEqual([
      { priority: 0, weight: 100, port: 53, target: 'kube-dns.kube-system.svc.cluster.local' },
    ]);
    // An SRV query for the service name lists every named port (the unnamed one has none).
    expect((data(await udpQuery(port, 'web.ns1.svc.cluster.local', 'SRV')) as { port: number }[]).map((d) => d.port)).toEqual([80, 9100]);
  });

  it('answers a headless service with its ready endpoints, and each hostname', async () => {
    const r = await udpQuery(port, 'db.ns1.svc.cluster.local', 'A');
    expect(data(r).sort()).toEqual(['10.244.1.10', '10.244.2.11', '10.244.3.12']);
    expect(data(await udpQuery(port, 'db-1.db.ns1.svc.cluster.local', 'A'))).toEqual(['10.244.2.11']);
    // An endpoint without a hostname is named after its IP.
    expect(data(await udpQuery(port, '10-244-3-12.db.ns1.svc.cluster.local', 'A'))).toEqual(['10.244.3.12']);
    // Not ready: no record.
    expect(rcode(await udpQuery(port, 'db-3.db.ns1.svc.cluster.local', 'A'))).toBe(3);
    // No ready endpoint at all: NXDOMAIN (spec 1.0.1).
    expect(rcode(await udpQuery(port, 'empty.ns1.svc.cluster.local', 'A'))).toBe(3);
  });

  it('answers SRV of a headless service per endpoint, with the endpoint port', async () => {
    const r = await tcpQuery(port, '_pg._tcp.db.ns1.svc.cluster.local', 'SRV');
    expect((data(r, 'SRV') as { target: string; port: number }[]).map((d) => `${d.target}:${d.port}`).sort()).toEqual([
      '10-244-3-12.db.ns1.svc.cluster.local:5433',
      'db-0.db.ns1.svc.cluster.local:5433',
      'db-1.db.ns1.svc.cluster.local:5433',
    ]);
    expect(r.additionals?.filter((a) => a.type === 'A')).toHaveLength(3);
  });

  it('answers PTR for cluster IPs and headless endpoints; other reverse names are forwarded', async () => {
    expect(data(await udpQuery(port, '10.0.96.10.in-addr.arpa', 'PTR'))).toEqual(['web.ns1.svc.cluster.local']);
    expect(data(await udpQuery(port, '10.1.244.10.in-addr.arpa', 'PTR'))).toEqual(['db-0.db.ns1.svc.cluster.local']);
    const other = await udpQuery(port, '1.2.0.192.in-addr.arpa', 'PTR');
    expect(rcode(other)).toBe(3);
    expect(upstream.queries).toContain('udp 1.2.0.192.in-addr.arpa PTR');
  });

  it('answers pod records', async () => {
    expect(data(await udpQuery(port, '10-244-1-2.ns1.pod.cluster.local', 'A'))).toEqual(['10.244.1.2']);
    expect(rcode(await udpQuery(port, '10-244-1-999.ns1.pod.cluster.local', 'A'))).toBe(3);
  });

  it('says NXDOMAIN with the SOA for missing names in the zone', async () => {
    for (const name of ['nope.ns1.svc.cluster.local', 'web.nope.svc.cluster.local', 'x.web.ns1.svc.cluster.local', 'what.cluster.local']) {
      const r = await udpQuery(port, name, 'A');
      expect(rcode(r), name).toBe(3);
      expect(r.answers).toEqual([]);
      expect(r.authorities?.[0]).toMatchObject({ type: 'SOA', name: 'cluster.local', ttl: 30, data: { mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', minimum: 30 } });
    }
  });

  it('answers NOERROR without records (and the SOA) for existing names lacking the type', async () => {
    for (const [name, type] of [
      ['web.ns1.svc.cluster.local', 'AAAA'],
      ['ns1.svc.cluster.local', 'A'],
      ['svc.cluster.local', 'A'],
    ] as const) {
      const r = await udpQuery(port, name, type);
      expect(rcode(r), name).toBe(0);
      expect(r.answers, name).toEqual([]);
      expect(r.authorities?.[0]?.type).toBe('SOA');
    }
  });

  it('publishes the schema version', async () => {
    const r = await udpQuery(port, 'dns-version.cluster.local', 'TXT');
    expect(data(r).map((d) => Buffer.concat(d as Buffer[]).toString())).toEqual(['1.0.1']);
  });

  it('answers ExternalName services with a CNAME, and the target resolved upstream or in the zone', async () => {
    const r = await udpQuery(port, 'ext.ns1.svc.cluster.local', 'A');
    expect(r.answers?.map((a) => [a.type, a.name, (a as { data: string }).data])).toEqual([
      ['CNAME', 'ext.ns1.svc.cluster.local', 'www.example.org'],
      ['A', 'www.example.org', '192.0.2.20'],
    ]);
    const inZone = await udpQuery(port, 'alias.ns1.svc.cluster.local', 'A');
    expect(inZone.answers?.map((a) => [a.type, (a as { data: string }).data])).toEqual([
      ['CNAME', 'web.ns1.svc.cluster.local'],
      ['A', '10.96.0.10'],
    ]);
  });

  it('forwards other names upstream, skipping an upstream that does not answer', async () => {
    const r = await udpQuery(port, 'example.com', 'A');
    expect(rcode(r)).toBe(0);
    expect(data(r)).toEqual(['192.0.2.10']);
    expect(r.flag_aa).toBe(false);
    expect(rcode(await udpQuery(port, 'missing.example.com', 'A'))).toBe(3);
    // The dead upstream went to the back of the list: no more timeouts.
    const t = Date.now();
    expect(data(await udpQuery(port, 'example.com', 'A'))).toEqual(['192.0.2.10']);
    expect(Date.now() - t).toBeLessThan(250);
  });

  it('relays truncation to UDP clients and retries over TCP for TCP clients', async () => {
    const overUdp = await udpQuery(port, 'big.example.com', 'A');
    expect(overUdp.flag_tc).toBe(true);
    const overTcp = await tcpQuery(port, 'big.example.com', 'A');
    expect(overTcp.flag_tc).toBe(false);
    expect(overTcp.answers).toHaveLength(60);
  });

  it('truncates its own large UDP answers unless EDNS allows them', async () => {
    const plain = await udpQuery(port, 'big.ns1.svc.cluster.local', 'A');
    expect(plain.flag_tc).toBe(true);
    expect(plain.answers).toEqual([]);
    const edns = await udpQuery(port, 'big.ns1.svc.cluster.local', 'A', true);
    expect(edns.flag_tc).toBe(false);
    expect(edns.answers).toHaveLength(60);
    expect((await tcpQuery(port, 'big.ns1.svc.cluster.local', 'A')).answers).toHaveLength(60);
  });

  it('follows state updates', async () => {
    server.setState({ services: services.filter((s) => s.metadata.name !== 'web'), endpointSlices });
    expect(rcode(await udpQuery(port, 'web.ns1.svc.cluster.local', 'A'))).toBe(3);
    server.setState({ services, endpointSlices });
    expect(data(await udpQuery(port, 'web.ns1.svc.cluster.local', 'A'))).toEqual(['10.96.0.10']);
  });

  it('answers FORMERR to garbage that still has an ID, and ignores shorter garbage', async () => {
    // A header announcing five questions, then one stray byte.
    const bad = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0xff]);
    const reply = await server.handle(bad, 'udp');
    expect(reply && dnsPacket.decode(reply)).toMatchObject({ id: 0x1234 });
    expect(reply!.readUInt16BE(2) & 0xf).toBe(1);
    expect(await server.handle(Buffer.from([1, 2, 3]), 'udp')).toBeUndefined();
  });

  it('counts requests and responses', () => {
    const text = server.metrics.render();
    expect(text).toMatch(/dns_requests_total\{proto="udp",type="A"\} \d+/);
    expect(text).toMatch(/dns_responses_total\{rcode="NXDOMAIN"\} \d+/);
    expect(text).toMatch(/dns_forward_requests_total\{result="ok"\} \d+/);
  });
});

describe('DnsServer forwarding failures and resolv.conf', () => {
  it('answers SERVFAIL when no upstream answers', async () => {
    const server = new DnsServer({ log: silentLogger(), upstreams: [`127.0.0.1:${await deadPort()}`], forwardTimeoutMs: 200 });
    server.setState({ services: [], endpointSlices: [] });
    const { port } = await server.listen('127.0.0.1', 0);
    try {
      const r = await udpQuery(port, 'example.com', 'A');
      expect(rcode(r)).toBe(2);
      // The cluster zone still answers.
      expect(rcode(await udpQuery(port, 'x.ns.svc.cluster.local', 'A'))).toBe(3);
    } finally {
      await server.close();
    }
  });

  it('reads its upstreams from a resolv.conf', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tkube-dns-'));
    try {
      await writeFile(join(dir, 'resolv.conf'), 'search svc.cluster.local\nnameserver 192.0.2.53 # primary\n; comment\nnameserver fd00::53\noptions ndots:5\n');
      const server = new DnsServer({ log: silentLogger(), resolvConf: join(dir, 'resolv.conf'), clusterDomain: 'tkube.test' });
      expect(await server.loadUpstreams()).toEqual([
        { host: '192.0.2.53', port: 53 },
        { host: 'fd00::53', port: 53 },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
