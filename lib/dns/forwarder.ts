/**
 * Forwarding of names outside the cluster zone to upstream resolvers (CoreDNS's `forward . /etc/resolv.conf`).
 * Upstreams are tried in order; one that fails or times out is skipped and moved to the end of the
 * list, so a dead resolver costs one timeout, not one per query. UDP first;
 * a truncated UDP answer is retried over TCP when the client itself asked over TCP (a UDP client
 * gets the TC bit and retries on its own).
 */
import dgram from 'node:dgram';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import dnsPacket, { type DecodedPacket, type RecordType } from 'dns-packet';
import type { Logger } from '../base/index.js';

export interface Upstream {
  host: string;
  port: number;
}

/** Parses `ip`, `ip:port`, `[v6]:port` or a bare IPv6 address. */
export function parseUpstream(s: string): Upstream {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (v6) return { host: v6[1]!, port: v6[2] ? Number(v6[2]) : 53 };
  if (s.split(':').length > 2) return { host: s, port: 53 };
  const [host, port] = s.split(':');
  return { host: host!, port: port ? Number(port) : 53 };
}

/** The `nameserver` lines of a resolv.conf. */
export function parseResolvConf(text: string): Upstream[] {
  const out: Upstream[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const m = /^nameserver\s+(\S+)/.exec(line);
    if (m) out.push({ host: m[1]!.replace(/%.*$/, ''), port: 53 });
  }
  return out;
}

export async function readResolvConf(path: string): Promise<Upstream[]> {
  return parseResolvConf(await readFile(path, 'utf8'));
}

export class ForwardError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ForwardError';
  }
}

export interface ForwarderOptions {
  upstreams: Upstream[];
  /** Per upstream and attempt. Default 2000 ms. */
  timeoutMs?: number;
  log: Logger;
}

export class Forwarder {
  upstreams: Upstream[];
  private readonly timeoutMs: number;

  constructor(private readonly opts: ForwarderOptions) {
    this.upstreams = opts.upstreams;
    this.timeoutMs = opts.timeoutMs ?? 2000;
  }

  /**
   * Sends a raw query (as received) upstream and returns the raw answer with the client's ID
   * restored. Rejects with ForwardError when no upstream answered.
   */
  async forward(query: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer> {
    if (this.upstreams.length === 0) throw new ForwardError('no upstream resolvers configured');
    const clientId = query.readUInt16BE(0);
    const errors: string[] = [];
    for (const up of [...this.upstreams]) {
      const id = randomInt(0, 65536);
      const q = Buffer.from(query);
      q.writeUInt16BE(id, 0);
      try {
        let reply = await this.udp(up, q, id);
        if (transport === 'tcp' && (reply.readUInt16BE(2) & dnsPacket.TRUNCATED_RESPONSE) !== 0) reply = await this.tcp(up, q, id);
        const out = Buffer.from(reply);
        out.writeUInt16BE(clientId, 0);
        return out;
      } catch (err) {
        errors.push(`${up.host}:${up.port}: ${err instanceof Error ? err.message : String(err)}`);
        this.opts.log.debug({ err, upstream: `${up.host}:${up.port}` }, 'upstream resolver failed');
        // Ask it last from now on, so that one dead resolver does not slow every query down.
        const i = this.upstreams.indexOf(up);
        if (i >= 0 && this.upstreams.length > 1) this.upstreams = [...this.upstreams.slice(0, i), ...this.upstreams.slice(i + 1), up];
      }
    }
    throw new ForwardError(`no upstream resolver answered (${errors.join('; ')})`);
  }

  /** Resolves one question upstream (for ExternalName targets). */
  async query(name: string, type: RecordType): Promise<DecodedPacket> {
    const q = dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type, class: 'IN' }] });
    return dnsPacket.decode(await this.forward(q, 'tcp'));
  }

  private udp(up: Upstream, q: Buffer, id: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const sock = dgram.createSocket(net.isIPv6(up.host) ? 'udp6' : 'udp4');
      const done = (err: Error | undefined, msg?: Buffer) => {
        clearTimeout(timer);
        sock.close();
        if (err) reject(err);
        else resolve(msg!);
      };
      const timer = setTimeout(() => done(new Error(`timeout after ${this.timeoutMs} ms`)), this.timeoutMs);
      sock.on('error', (err) => done(err));
      sock.on('message', (msg, rinfo) => {
        // Only the upstream's answer to this query counts (no spoofed or stale replies).
        if (msg.length < 12 || msg.readUInt16BE(0) !== id || rinfo.port !== up.port) return;
        done(undefined, msg);
      });
      sock.send(q, up.port, up.host);
    });
  }

  private tcp(up: Upstream, q: Buffer, id: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: up.host, port: up.port });
      let buf = Buffer.alloc(0);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`timeout after ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      sock.on('connect', () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(q.length);
        sock.write(Buffer.concat([len, q]));
      });
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          clearTimeout(timer);
          const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
          sock.destroy();
          if (msg.readUInt16BE(0) !== id) reject(new Error('answer with the wrong id'));
          else resolve(msg);
        }
      });
      sock.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }
}
