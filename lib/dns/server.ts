/**
 * The cluster DNS server: answers the cluster zone from ClusterDnsRecords and forwards every other
 * name upstream, over UDP and TCP on the same port. One instance serves one pod of the add-on
 * (behind the kube-dns service); state arrives through `setState` from informers.
 *
 *   query ─▶ parse ─▶ in the cluster zone (or a known PTR)? ─yes─▶ records ─▶ [chase ExternalName upstream]
 *                                                           └no──▶ forwarder ─▶ upstream answer, relayed as is
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket, type Packet, type RecordType } from 'dns-packet';
import { MetricsRegistry, type Counter, type Histogram, type Logger, type Runnable } from '../base/index.js';
import { Forwarder, parseUpstream, readResolvConf, type Upstream } from './forwarder.js';
import { ClusterDnsRecords, type ClusterDnsOptions, type DnsState } from './records.js';

export interface DnsServerOptions extends ClusterDnsOptions {
  log: Logger;
  /** Upstream resolvers (`ip`, `ip:port`). When omitted, the nameservers of `resolvConf`. */
  upstreams?: string[];
  /** resolv.conf to read upstreams from. Default /etc/resolv.conf. */
  resolvConf?: string;
  /** Per upstream attempt. Default 2000 ms. */
  forwardTimeoutMs?: number;
  /** Where `start` listens. Default 0.0.0.0:53. */
  listen?: { address?: string; port?: number };
  metrics?: MetricsRegistry;
}

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const rcodeNames = Object.fromEntries(Object.entries(RCODE).map(([k, v]) => [v, k])) as Record<number, string>;

export class DnsServer implements Runnable {
  readonly records: ClusterDnsRecords;
  readonly metrics: MetricsRegistry;
  private forwarder: Forwarder | undefined;
  private udp: dgram.Socket | undefined;
  private tcp: net.Server | undefined;
  private readonly tcpConns = new Set<net.Socket>();
  private readonly log: Logger;
  private readonly mRequests: Counter;
  private readonly mResponses: Counter;
  private readonly mForwards: Counter;
  private readonly mDuration: Histogram;

  constructor(private readonly opts: DnsServerOptions) {
    this.log = opts.log.child({ component: 'dns' });
    this.records = new ClusterDnsRecords(opts);
    this.metrics = opts.metrics ?? new MetricsRegistry();
    this.mRequests = this.metrics.counter('dns_requests_total', 'DNS requests by transport and query type');
    this.mResponses = this.metrics.counter('dns_responses_total', 'DNS responses by rcode');
    this.mForwards = this.metrics.counter('dns_forward_requests_total', 'Queries forwarded to upstream resolvers, by outcome');
    this.mDuration = this.metrics.histogram('dns_request_duration_seconds', 'Time to answer a DNS request', [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]);
  }

  /** Replaces the Services and EndpointSlices the records come from. */
  setState(state: DnsState): void {
    this.records.update(state);
  }

  /** Reads the upstreams (from the options or resolv.conf). Called by `listen`; again to reload. */
  async loadUpstreams(): Promise<Upstream[]> {
    const ups = this.opts.upstreams ? this.opts.upstreams.map(parseUpstream) : await readResolvConf(this.opts.resolvConf ?? '/etc/resolv.conf');
    if (this.forwarder) this.forwarder.upstreams = ups;
    else this.forwarder = new Forwarder({ upstreams: ups, log: this.log, ...(this.opts.forwardTimeoutMs ? { timeoutMs: this.opts.forwardTimeoutMs } : {}) });
    return ups;
  }

  /**
   * Binds UDP and TCP on the same port (port 0: one the kernel picks, the same for both).
   * Resolves with the address and port.
   */
  async listen(address = this.opts.listen?.address ?? '0.0.0.0', port = this.opts.listen?.port ?? 53): Promise<{ address: string; port: number }> {
    if (this.udp) throw new Error('DnsServer already listening');
    const ups = await this.loadUpstreams();
    if (ups.length === 0) this.log.warn('no upstream resolvers: names outside the cluster will get SERVFAIL');
    for (let attempt = 0; ; attempt++) {
      const udp = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(port, address, () => resolve());
      });
      const bound = udp.address().port;
      const tcp = net.createServer((c) => this.serveTcp(c));
      try {
        await new Promise<void>((resolve, reject) => {
          tcp.once('error', reject);
          tcp.listen(bound, address, () => resolve());
        });
      } catch (err) {
        udp.close();
        // The kernel's UDP port was taken for TCP: pick again (only when we let it pick).
        if (port === 0 && attempt < 10) continue;
        throw err;
      }
      udp.on('error', (err) => this.log.error({ err }, 'udp socket error'));
      udp.on('message', (msg, rinfo) => {
        void this.handle(msg, 'udp').then((reply) => {
          if (reply) udp.send(reply, rinfo.port, rinfo.address);
        });
      });
      this.udp = udp;
      this.tcp = tcp;
      this.log.info({ address, port: bound, upstreams: ups.map((u) => `${u.host}:${u.port}`) }, 'dns server listening');
      return { address, port: bound };
    }
  }

  private serveTcp(conn: net.Socket): void {
    this.tcpConns.add(conn);
    conn.setTimeout(10_000, () => conn.destroy());
    conn.on('close', () => this.tcpConns.delete(conn));
    conn.on('error', () => conn.destroy());
    let buf = Buffer.alloc(0);
    conn.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        void this.handle(Buffer.from(msg), 'tcp').then((reply) => {
          if (!reply || conn.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(reply.length);
          conn.write(Buffer.concat([len, reply]));
        });
      }
    });
  }

  /** Listens, then serves until `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    if (!this.udp) await this.listen();
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await this.close();
  }

  async close(): Promise<void> {
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    for (const c of this.tcpConns) c.destroy();
    await Promise.all([
      udp && new Promise<void>((r) => udp.close(() => r())),
      tcp && new Promise<void>((r) => tcp.close(() => r())),
    ]);
  }

  /**
   * Answers one raw DNS message. Undefined when it is not worth an answer (not a query, or too
   * broken to echo an ID).
   */
  async handle(raw: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    const t0 = performance.now();
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(raw);
    } catch {
      if (raw.length < 12) return undefined;
      return this.finish(t0, this.errorReply(raw.readUInt16BE(0), RCODE.FORMERR));
    }
    if (query.type !== 'query') return undefined;
    const q = query.questions?.[0];
    this.mRequests.inc({ proto: transport, type: q?.type ?? 'none' });
    const opcode = (query.flags ?? 0) >> 11 & 0xf;
    if (opcode !== 0) return this.finish(t0, this.encode(query, RCODE.NOTIMP, { answers: [] }));
    if (!q || (query.questions?.length ?? 0) !== 1) return this.finish(t0, this.encode(query, RCODE.FORMERR, { answers: [] }));

    const result = this.records.lookup(q.name, q.type as RecordType);
    if (result.kind === 'forward') {
      try {
        if (!this.forwarder) await this.loadUpstreams();
        const reply = await this.forwarder!.forward(raw, transport);
        this.mForwards.inc({ result: 'ok' });
        this.mResponses.inc({ rcode: rcodeNames[reply.readUInt16BE(2) & 0xf] ?? 'other' });
        this.mDuration.observe({}, (performance.now() - t0) / 1000);
        return reply;
      } catch (err) {
        this.mForwards.inc({ result: 'error' });
        this.log.warn({ err, name: q.name }, 'forwarding failed');
        return this.finish(t0, this.encode(query, RCODE.SERVFAIL, { answers: [] }));
      }
    }

    let answers = result.answers;
    if (result.chase && q.type !== 'CNAME') {
      try {
        const chased = await this.forwarder?.query(result.chase, q.type as RecordType);
        if (chased) answers = [...answers, ...(chased.answers ?? [])];
      } catch (err) {
        this.log.debug({ err, target: result.chase }, 'could not resolve ExternalName target');
      }
    }
    const rcode = result.kind === 'nxdomain' ? RCODE.NXDOMAIN : RCODE.NOERROR;
    const reply = this.encode(query, rcode, { answers, authorities: result.authorities, additionals: result.additionals }, true);
    return this.finish(t0, transport === 'udp' ? this.truncate(query, reply, rcode) : reply);
  }

  private finish(t0: number, reply: Buffer): Buffer {
    this.mResponses.inc({ rcode: rcodeNames[reply.readUInt16BE(2) & 0xf] ?? 'other' });
    this.mDuration.observe({}, (performance.now() - t0) / 1000);
    return reply;
  }

  private encode(query: DecodedPacket, rcode: number, sections: { answers: Answer[]; authorities?: Answer[]; additionals?: Answer[] }, authoritative = false): Buffer {
    const opt = (query.additionals ?? []).find((a) => a.type === 'OPT');
    const reply: Packet = {
      type: 'response',
      id: query.id ?? 0,
      flags:
        (authoritative ? dnsPacket.AUTHORITATIVE_ANSWER : 0) |
        dnsPacket.RECURSION_AVAILABLE |
        ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) |
        ((query.flags ?? 0) & dnsPacket.CHECKING_DISABLED) |
        rcode,
      questions: query.questions ?? [],
      answers: sections.answers,
      authorities: sections.authorities ?? [],
      additionals: [
        ...(sections.additionals ?? []),
        ...(opt ? [{ type: 'OPT' as const, name: '.', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : []),
      ],
    };
    return dnsPacket.encode(reply);
  }

  /** A UDP answer larger than the client accepts goes out empty with TC set: the client retries over TCP. */
  private truncate(query: DecodedPacket, reply: Buffer, rcode: number): Buffer {
    const opt = (query.additionals ?? []).find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
    const limit = Math.max(512, Math.min(opt?.udpPayloadSize ?? 512, 4096));
    if (reply.length <= limit) return reply;
    const empty = this.encode(query, rcode, { answers: [] }, true);
    empty.writeUInt16BE(empty.readUInt16BE(2) | dnsPacket.TRUNCATED_RESPONSE, 2);
    return empty;
  }

  private errorReply(id: number, rcode: number): Buffer {
    return dnsPacket.encode({ type: 'response', id, flags: dnsPacket.RECURSION_AVAILABLE | rcode, questions: [], answers: [] });
  }
}
