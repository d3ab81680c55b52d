/**
 * Clients of the streaming protocols, for tests: a SPDY upgrade over a raw socket (what
 * client-go's SPDY round tripper does) and collection helpers.
 */
import net from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import { Duplex } from 'node:stream';
import { SpdySession } from './spdy/session.js';

export interface RawUpgradeResult {
  status: number;
  headers: Record<string, string>;
  /** Body of a refused upgrade. */
  body: string;
  socket: Duplex;
}

/**
 * Sends an upgrade request on a fresh connection and reads the response head. On 101 the socket
 * is left open for the new protocol; otherwise the body is read to the end.
 */
export async function rawUpgrade(opts: { host: string; port: number; tls?: boolean; method?: string; path: string; headers: Record<string, string | string[]> }): Promise<RawUpgradeResult> {
  const socket: Duplex = opts.tls ? tls.connect({ host: opts.host, port: opts.port, rejectUnauthorized: false }) : net.connect(opts.port, opts.host);
  await new Promise<void>((resolve, reject) => {
    socket.once(opts.tls ? 'secureConnect' : 'connect', () => resolve());
    socket.once('error', reject);
  });
  const lines = [`${opts.method ?? 'POST'} ${opts.path} HTTP/1.1`, `Host: ${opts.host}:${opts.port}`];
  for (const [k, v] of Object.entries(opts.headers)) for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
  socket.write(lines.join('\r\n') + '\r\n\r\n');
  let buf: Buffer = Buffer.alloc(0);
  const headEnd = await new Promise<number>((resolve, reject) => {
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const i = buf.indexOf('\r\n\r\n');
      if (i >= 0) {
        socket.off('data', onData);
        socket.pause();
        resolve(i);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('end', () => reject(new Error(`connection closed before a response: ${buf.toString()}`)));
  });
  const head = buf.subarray(0, headEnd).toString().split('\r\n');
  const status = Number(head[0]!.split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const l of head.slice(1)) {
    const i = l.indexOf(':');
    const k = l.slice(0, i).trim().toLowerCase();
    headers[k] = headers[k] !== undefined ? `${headers[k]}, ${l.slice(i + 1).trim()}` : l.slice(i + 1).trim();
  }
  const rest = buf.subarray(headEnd + 4);
  if (status === 101) {
    if (rest.length > 0) socket.unshift(rest);
    return { status, headers, body: '', socket };
  }
  const parts: Buffer[] = [rest];
  socket.resume();
  await new Promise<void>((resolve) => {
    socket.on('data', (d: Buffer) => parts.push(d));
    socket.once('close', () => resolve());
    socket.once('end', () => resolve());
  });
  socket.destroy();
  return { status, headers, body: Buffer.concat(parts).toString(), socket };
}

/** Upgrades to SPDY/3.1 offering `protocols`; returns the client session and the chosen protocol. */
export async function spdyClient(opts: { host: string; port: number; tls?: boolean; path: string; protocols: string[]; headers?: Record<string, string> }): Promise<{ session: SpdySession; protocol: string } | RawUpgradeResult> {
  const res = await rawUpgrade({ ...opts, headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': opts.protocols, ...(opts.headers ?? {}) } });
  if (res.status !== 101) return res;
  res.socket.resume();
  return { session: new SpdySession(res.socket, { role: 'client' }), protocol: res.headers['x-stream-protocol-version'] ?? '' };
}

/**
 * A minimal WebSocket client (RFC 6455) whose payloads, in order, form one byte stream: what
 * client-go's TunnelingConnection does for port-forward over WebSocket. It exists because the
 * ws client refuses subprotocols holding a "/" (SPDY/3.1+portforward.k8s.io). Writes become
 * masked binary messages; pings are answered; a close frame ends the stream.
 */
export async function webSocketByteStream(opts: { host: string; port: number; tls?: boolean; path: string; protocols: string[]; headers?: Record<string, string> }): Promise<{ protocol: string; stream: Duplex } | RawUpgradeResult> {
  const res = await rawUpgrade({
    ...opts,
    method: 'GET',
    headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64'), 'Sec-WebSocket-Protocol': opts.protocols.join(', '), ...(opts.headers ?? {}) },
  });
  if (res.status !== 101) return res;
  const socket = res.socket;
  const frame = (opcode: number, payload: Buffer) => {
    const mask = randomBytes(4);
    const len = payload.length;
    const head = len < 126 ? Buffer.from([0x80 | opcode, 0x80 | len]) : len < 65536 ? Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 0xff]) : Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | 127]), Buffer.from(BigInt(len).toString(16).padStart(16, '0'), 'hex')]);
    const masked = Buffer.from(payload);
    for (let i = 0; i < masked.length; i++) masked[i]! ^= mask[i % 4]!;
    return Buffer.concat([head, mask, masked]);
  };
  let closed = false;
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      socket.write(frame(2, chunk), () => cb());
    },
    final(cb) {
      if (!closed) socket.write(frame(8, Buffer.from([0x03, 0xe8])));
      cb();
    },
    destroy(err, cb) {
      socket.destroy();
      cb(err);
    },
  });
  let buf: Buffer = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      if (buf.length < 2) return;
      const opcode = buf[0]! & 0x0f;
      let len = buf[1]! & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(buf.readBigUInt64BE(2));
        off = 10;
      }
      if (buf.length < off + len) return;
      const payload = buf.subarray(off, off + len);
      buf = buf.subarray(off + len);
      if (opcode === 0 || opcode === 1 || opcode === 2) stream.push(Buffer.from(payload));
      else if (opcode === 9) socket.write(frame(10, payload));
      else if (opcode === 8) {
        closed = true;
        stream.push(null);
        socket.end(frame(8, payload.subarray(0, 2)));
      }
    }
  });
  socket.on('close', () => {
    if (!closed) stream.push(null);
    closed = true;
  });
  socket.resume();
  return { protocol: res.headers['sec-websocket-protocol'] ?? '', stream };
}

/** Reads a stream to its end. */
export async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(parts);
}
