/**
 * A small HTTP/2 client connection (RFC 9113) for unary gRPC calls: one request (HEADERS, then
 * DATA) and one reply (HEADERS, DATA, trailing HEADERS) per stream. It writes frames straight to
 * a socket, so a call costs a few buffer copies instead of a Node stream object per request, and
 * frames of calls made in the same tick go out in one write.
 *
 * What it implements of HTTP/2: the preface and SETTINGS exchange, HPACK (./hpack.ts), flow
 * control both ways (our receive windows are large and topped up as data is consumed; our sends
 * wait for the server's window), frames split at the server's maximum frame size, PING answers,
 * RST_STREAM, and GOAWAY (streams the server never took fail as not sent, so even a write may go
 * to another member). No server push (disabled in our SETTINGS), no priorities.
 */
import net from 'node:net';
import tls from 'node:tls';
import { encodeHeaders, HpackDecoder, type HeaderList } from './hpack.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

const DATA = 0x0;
const HEADERS = 0x1;
const RST_STREAM = 0x3;
const SETTINGS = 0x4;
const PUSH_PROMISE = 0x5;
const PING = 0x6;
const GOAWAY = 0x7;
const WINDOW_UPDATE = 0x8;
const CONTINUATION = 0x9;

const END_STREAM = 0x1;
const ACK = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;

const SETTINGS_HEADER_TABLE_SIZE = 0x1;
const SETTINGS_ENABLE_PUSH = 0x2;
const SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
const SETTINGS_MAX_FRAME_SIZE = 0x5;

/** RST_STREAM / GOAWAY error codes. */
const NO_ERROR = 0x0;
const PROTOCOL_ERROR = 0x1;
const FLOW_CONTROL_ERROR = 0x3;
const FRAME_SIZE_ERROR = 0x6;
const REFUSED_STREAM = 0x7;
const CANCEL = 0x8;
const COMPRESSION_ERROR = 0x9;

/** Our receive window per stream (announced in SETTINGS) and for the whole connection. */
const STREAM_WINDOW = 16 * 1024 * 1024;
const CONNECTION_WINDOW = 64 * 1024 * 1024;
/** The HPACK table size we announce for the server's header blocks (the default). */
const HEADER_TABLE_SIZE = 4096;
/** Largest frame we accept: what we announce (the default; we do not raise it). */
const MAX_FRAME_IN = 16_384;

export class H2Error extends Error {
  constructor(
    message: string,
    /** The request surely never reached the server (not connected, refused, or above GOAWAY's last stream). */
    readonly notSent: boolean,
    /** The reply was larger than the caller's limit (the connection is fine). */
    readonly tooLarge = false,
  ) {
    super(message);
    this.name = 'H2Error';
  }
}

export interface H2Reply {
  /** The first header block (:status and the rest) and, when the server sent them, the trailers. */
  headers: HeaderList;
  trailers: HeaderList;
  /** The DATA payloads in order (usually one). */
  data: Buffer[];
  dataBytes: number;
}

export interface H2ConnectOptions {
  host: string;
  port: number;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** Highest stream id to use (default 2^31-1, HTTP/2's limit); lower in tests. */
  maxStreamId?: number;
}

type Done = (err: H2Error | undefined, reply?: H2Reply) => void;

interface Stream {
  id: number;
  done: Done;
  reply: H2Reply;
  headersSeen: boolean;
  /** Request body not yet sent (waiting for send window); undefined once all is out. */
  pending?: Buffer;
  sendWindow: number;
  /** Bytes received and not yet given back with a WINDOW_UPDATE. */
  unacked: number;
  /** Largest reply body accepted. */
  limit: number;
  /** Whether the last of `pending` ends our side of the stream (a unary request) or more may follow. */
  endWhenSent: boolean;
  /** A stream of gRPC messages: each complete message goes here instead of into reply.data. */
  onMessage?: (message: Buffer) => void;
  /** Bytes of a message not yet complete. */
  partial?: Buffer;
}

/** Our side of an open stream: more messages to send, or giving up on it. */
export interface H2StreamHandle {
  send(body: Buffer): void;
  cancel(): void;
}

export class H2Connection {
  private readonly socket: net.Socket;
  private readonly decoder = new HpackDecoder(HEADER_TABLE_SIZE);
  private readonly streams = new Map<number, Stream>();
  /** Streams whose body waits for send window, in order. */
  private blocked: Stream[] = [];
  private nextId = 1;
  private connSendWindow = 65_535;
  private initialSendWindow = 65_535;
  private maxFrameOut = 16_384;
  private connUnacked = 0;
  private inbuf: Buffer = Buffer.alloc(0);
  /** A header block being continued with CONTINUATION frames. */
  private headerBlock?: { streamId: number; endStream: boolean; parts: Buffer[] };
  private out: Buffer[] = [];
  private flushScheduled = false;
  private headerCache = new Map<string, Buffer>();
  private failure?: H2Error;
  /** The TCP (and TLS) connection is up: a failure after this may follow a sent request. */
  connected = false;
  /** GOAWAY received or close() called: no new streams. */
  closing = false;
  closed = false;
  /** Called once when the connection is closed or fails, or when GOAWAY arrives. */
  onGone?: () => void;

  constructor(private readonly opts: H2ConnectOptions) {
    const t = opts.tls;
    if (t) {
      this.socket = tls.connect({
        host: opts.host,
        port: opts.port,
        ca: t.ca,
        cert: t.cert,
        key: t.key,
        ALPNProtocols: ['h2'],
        ...(net.isIP(opts.host) ? {} : { servername: opts.host }),
      });
      this.socket.once('secureConnect', () => (this.connected = true));
    } else {
      this.socket = net.connect({ host: opts.host, port: opts.port });
      this.socket.once('connect', () => (this.connected = true));
    }
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.fail(new H2Error(`${this.authority}: ${err.message}`, !this.connected)));
    this.socket.on('close', () => this.fail(new H2Error(`${this.authority}: connection closed`, !this.connected)));
    // Preface, our SETTINGS, and the connection window raised from its 65,535 default.
    const settings = Buffer.alloc(18);
    settings.writeUInt16BE(SETTINGS_ENABLE_PUSH, 0);
    settings.writeUInt32BE(0, 2);
    settings.writeUInt16BE(SETTINGS_INITIAL_WINDOW_SIZE, 6);
    settings.writeUInt32BE(STREAM_WINDOW, 8);
    settings.writeUInt16BE(SETTINGS_HEADER_TABLE_SIZE, 12);
    settings.writeUInt32BE(HEADER_TABLE_SIZE, 14);
    this.queue(PREFACE);
    this.frame(SETTINGS, 0, 0, settings);
    this.windowUpdate(0, CONNECTION_WINDOW - 65_535);
  }

  get authority(): string {
    return `${this.opts.tls ? 'https' : 'http'}://${this.opts.host}:${this.opts.port}`;
  }

  /**
   * Sends one POST and calls `done` once with the whole reply or an error. `extraHeaders` are
   * fixed per path (they are encoded once and reused).
   */
  request(path: string, extraHeaders: HeaderList, body: Buffer, limit: number, done: Done): number {
    const refused = this.refusal();
    if (refused) {
      done(refused);
      return 0;
    }
    const s = this.open(path, extraHeaders, limit, done, true);
    s.pending = body;
    this.sendData(s);
    if (s.pending) this.blocked.push(s);
    return s.id;
  }

  /**
   * Opens a stream of gRPC messages both ways (a watch): `onMessage` gets each message the
   * server sends, without its 5-byte prefix; `done` is called once when the stream ends (the
   * server's trailers, or an error). Messages sent with `send` must be framed already.
   */
  openStream(path: string, extraHeaders: HeaderList, onMessage: (message: Buffer) => void, done: Done): H2StreamHandle {
    const refused = this.refusal();
    if (refused) {
      done(refused);
      return { send: () => {}, cancel: () => {} };
    }
    const s = this.open(path, extraHeaders, Infinity, done, false);
    s.onMessage = onMessage;
    return {
      send: (body: Buffer) => {
        if (!this.streams.has(s.id)) return;
        const queued = s.pending !== undefined;
        s.pending = queued ? Buffer.concat([s.pending!, body]) : body;
        if (queued) return;
        this.sendData(s);
        if (s.pending) this.blocked.push(s);
      },
      cancel: () => this.cancel(s.id),
    };
  }

  /** Why a new stream cannot be opened here, if it cannot. */
  private refusal(): H2Error | undefined {
    if (this.failure) return this.failure;
    if (this.nextId > (this.opts.maxStreamId ?? 0x7fffffff)) {
      // Stream ids are spent (a busy API server gets there in days): this connection takes no
      // more requests; those open finish, and the caller opens a new one.
      this.close();
      this.onGone?.();
    }
    return this.closing ? new H2Error(`${this.authority}: connection is closing`, true) : undefined;
  }

  private open(path: string, extraHeaders: HeaderList, limit: number, done: Done, endWhenSent: boolean): Stream {
    const id = this.nextId;
    this.nextId += 2;
    let block = this.headerCache.get(path);
    if (!block) {
      block = encodeHeaders([
        [':method', 'POST'],
        [':scheme', this.opts.tls ? 'https' : 'http'],
        [':path', path],
        [':authority', `${this.opts.host}:${this.opts.port}`],
        ...extraHeaders,
      ]);
      this.headerCache.set(path, block);
    }
    const s: Stream = { id, done, reply: { headers: [], trailers: [], data: [], dataBytes: 0 }, headersSeen: false, sendWindow: this.initialSendWindow, unacked: 0, limit, endWhenSent };
    this.streams.set(id, s);
    this.headerFrames(id, block);
    return s;
  }

  /** Abandons a stream (deadline passed): RST_STREAM(CANCEL), its reply is dropped. */
  cancel(id: number): void {
    const s = this.streams.get(id);
    if (!s) return;
    this.endStream(s);
    const payload = Buffer.alloc(4);
    payload.writeUInt32BE(CANCEL, 0);
    this.frame(RST_STREAM, 0, id, payload);
  }

  ref(): void {
    this.socket.ref();
  }

  unref(): void {
    this.socket.unref();
  }

  /** Says goodbye (GOAWAY) and closes once the open streams are done. */
  close(): void {
    if (this.closed) return;
    this.closing = true;
    const payload = Buffer.alloc(8);
    payload.writeUInt32BE(0, 0);
    payload.writeUInt32BE(NO_ERROR, 4);
    this.frame(GOAWAY, 0, 0, payload);
    this.flush();
    if (this.streams.size === 0) this.socket.end();
  }

  /** Drops the connection at once; open streams fail. */
  destroy(): void {
    this.fail(new H2Error(`${this.authority}: connection dropped`, !this.connected));
  }

  // ---- sending ----

  private queue(buf: Buffer): void {
    this.out.push(buf);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.out.length === 0 || this.socket.destroyed) {
      this.out = [];
      return;
    }
    const bufs = this.out;
    this.out = [];
    this.socket.write(bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs));
  }

  private frame(type: number, flags: number, streamId: number, payload: Buffer): void {
    const head = Buffer.allocUnsafe(9);
    head.writeUIntBE(payload.length, 0, 3);
    head[3] = type;
    head[4] = flags;
    head.writeUInt32BE(streamId, 5);
    this.queue(head);
    if (payload.length) this.queue(payload);
  }

  private headerFrames(id: number, block: Buffer): void {
    let off = 0;
    let first = true;
    do {
      const part = block.subarray(off, off + this.maxFrameOut);
      off += part.length;
      this.frame(first ? HEADERS : CONTINUATION, off >= block.length ? END_HEADERS : 0, id, part);
      first = false;
    } while (off < block.length);
  }

  private windowUpdate(streamId: number, increment: number): void {
    const payload = Buffer.allocUnsafe(4);
    payload.writeUInt32BE(increment, 0);
    this.frame(WINDOW_UPDATE, 0, streamId, payload);
  }

  /** Sends as much of a stream's body as the windows allow; the last frame ends the stream. */
  private sendData(s: Stream): void {
    let body = s.pending!;
    for (;;) {
      const n = Math.min(body.length, this.maxFrameOut, this.connSendWindow, s.sendWindow);
      if (n <= 0 && (body.length > 0 || !s.endWhenSent)) break;
      const last = n === body.length;
      this.frame(DATA, last && s.endWhenSent ? END_STREAM : 0, s.id, body.subarray(0, n));
      this.connSendWindow -= n;
      s.sendWindow -= n;
      body = body.subarray(n);
      if (last) {
        s.pending = undefined;
        return;
      }
    }
    s.pending = body;
  }

  private unblock(): void {
    if (this.blocked.length === 0) return;
    const still: Stream[] = [];
    for (const s of this.blocked) {
      if (!s.pending || !this.streams.has(s.id)) continue;
      this.sendData(s);
      if (s.pending) still.push(s);
    }
    this.blocked = still;
  }

  // ---- receiving ----

  private onData(chunk: Buffer): void {
    let buf = this.inbuf.length ? Buffer.concat([this.inbuf, chunk]) : chunk;
    let off = 0;
    while (buf.length - off >= 9 && !this.failure) {
      const len = buf.readUIntBE(off, 3);
      if (len > MAX_FRAME_IN) return this.protocolError(FRAME_SIZE_ERROR, `frame of ${len} bytes above ${MAX_FRAME_IN}`);
      if (buf.length - off < 9 + len) break;
      const type = buf[off + 3]!;
      const flags = buf[off + 4]!;
      const streamId = buf.readUInt32BE(off + 5) & 0x7fffffff;
      const payload = buf.subarray(off + 9, off + 9 + len);
      off += 9 + len;
      try {
        this.onFrame(type, flags, streamId, payload);
      } catch (err) {
        return this.protocolError(COMPRESSION_ERROR, (err as Error).message);
      }
    }
    this.inbuf = off === buf.length ? Buffer.alloc(0) : buf.subarray(off);
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.headerBlock && type !== CONTINUATION) return this.protocolError(PROTOCOL_ERROR, 'header block not continued');
    switch (type) {
      case DATA:
        return this.onDataFrame(flags, streamId, payload);
      case HEADERS: {
        let p = payload;
        if (flags & PADDED) p = unpad(p);
        if (flags & PRIORITY) p = p.subarray(5);
        if (flags & END_HEADERS) return this.onHeaderBlock(streamId, p, (flags & END_STREAM) !== 0);
        this.headerBlock = { streamId, endStream: (flags & END_STREAM) !== 0, parts: [p] };
        return;
      }
      case CONTINUATION: {
        const hb = this.headerBlock;
        if (!hb || hb.streamId !== streamId) return this.protocolError(PROTOCOL_ERROR, 'unexpected CONTINUATION');
        hb.parts.push(payload);
        if (flags & END_HEADERS) {
          this.headerBlock = undefined;
          this.onHeaderBlock(streamId, Buffer.concat(hb.parts), hb.endStream);
        }
        return;
      }
      case RST_STREAM: {
        const s = this.streams.get(streamId);
        if (!s) return;
        const code = payload.length >= 4 ? payload.readUInt32BE(0) : PROTOCOL_ERROR;
        this.endStream(s);
        // REFUSED_STREAM: the server did no processing of the request.
        s.done(new H2Error(`${this.authority}: stream reset by the server (code ${code})`, code === REFUSED_STREAM));
        return;
      }
      case SETTINGS:
        if (flags & ACK) return;
        this.onSettings(payload);
        this.frame(SETTINGS, ACK, 0, Buffer.alloc(0));
        return;
      case PING:
        if (!(flags & ACK)) this.frame(PING, ACK, 0, Buffer.from(payload));
        return;
      case GOAWAY:
        return this.onGoaway(payload);
      case WINDOW_UPDATE: {
        const inc = payload.readUInt32BE(0) & 0x7fffffff;
        if (streamId === 0) this.connSendWindow += inc;
        else {
          const s = this.streams.get(streamId);
          if (s) s.sendWindow += inc;
        }
        this.unblock();
        return;
      }
      case PUSH_PROMISE:
        return this.protocolError(PROTOCOL_ERROR, 'push promise, though push is disabled');
      default:
        // PRIORITY and unknown frame types are ignored.
        return;
    }
  }

  private onDataFrame(flags: number, streamId: number, payload: Buffer): void {
    const len = payload.length;
    // Flow control counts the whole frame, padding included.
    this.connUnacked += len;
    if (this.connUnacked >= CONNECTION_WINDOW / 2) {
      this.windowUpdate(0, this.connUnacked);
      this.connUnacked = 0;
    }
    const s = this.streams.get(streamId);
    if (!s) return;
    const data = flags & PADDED ? unpad(payload) : payload;
    s.unacked += len;
    if (s.unacked >= STREAM_WINDOW / 2 && !(flags & END_STREAM)) {
      this.windowUpdate(streamId, s.unacked);
      s.unacked = 0;
    }
    if (data.length && s.onMessage) this.messages(s, data);
    else if (data.length) {
      s.reply.dataBytes += data.length;
      if (s.reply.dataBytes > s.limit) {
        this.cancel(streamId);
        s.done(new H2Error(`received message larger than max (${s.reply.dataBytes} vs. ${s.limit})`, false, true));
        return;
      }
      s.reply.data.push(data);
    }
    if (flags & END_STREAM) this.complete(s);
  }

  /** Splits a stream's data into gRPC messages (a flag byte, a 4-byte length, the message). */
  private messages(s: Stream, data: Buffer): void {
    let buf = s.partial ? Buffer.concat([s.partial, data]) : data;
    s.partial = undefined;
    while (buf.length >= 5) {
      const len = buf.readUInt32BE(1);
      if (buf.length < 5 + len) break;
      const message = buf.subarray(5, 5 + len);
      buf = buf.subarray(5 + len);
      s.onMessage!(message);
      if (!this.streams.has(s.id)) return;
    }
    if (buf.length) s.partial = Buffer.from(buf);
  }

  private onHeaderBlock(streamId: number, block: Buffer, endStream: boolean): void {
    // Decoded even for streams we gave up on: the HPACK table must see every block.
    const fields = this.decoder.decode(block);
    const s = this.streams.get(streamId);
    if (!s) return;
    if (!s.headersSeen) {
      s.reply.headers = fields;
      s.headersSeen = true;
    } else s.reply.trailers = fields;
    if (endStream) this.complete(s);
  }

  private onSettings(payload: Buffer): void {
    for (let i = 0; i + 6 <= payload.length; i += 6) {
      const id = payload.readUInt16BE(i);
      const value = payload.readUInt32BE(i + 2);
      if (id === SETTINGS_INITIAL_WINDOW_SIZE) {
        if (value > 0x7fffffff) return this.protocolError(FLOW_CONTROL_ERROR, 'initial window too large');
        const delta = value - this.initialSendWindow;
        this.initialSendWindow = value;
        for (const s of this.streams.values()) s.sendWindow += delta;
      } else if (id === SETTINGS_MAX_FRAME_SIZE) {
        if (value < 16_384 || value > 16_777_215) return this.protocolError(PROTOCOL_ERROR, `max frame size ${value}`);
        this.maxFrameOut = value;
      }
    }
    this.unblock();
  }

  private onGoaway(payload: Buffer): void {
    const last = payload.readUInt32BE(0) & 0x7fffffff;
    this.closing = true;
    // Streams above the last one the server processed were never acted on.
    for (const s of [...this.streams.values()]) {
      if (s.id > last) {
        this.endStream(s);
        s.done(new H2Error(`${this.authority}: the server went away before taking this request`, true));
      }
    }
    this.onGone?.();
    if (this.streams.size === 0) this.socket.end();
  }

  private complete(s: Stream): void {
    this.endStream(s);
    s.done(undefined, s.reply);
    if (this.closing && this.streams.size === 0) this.socket.end();
  }

  private endStream(s: Stream): void {
    this.streams.delete(s.id);
    s.pending = undefined;
  }

  private protocolError(code: number, message: string): void {
    const payload = Buffer.alloc(8);
    payload.writeUInt32BE(this.nextId - 2 > 0 ? this.nextId - 2 : 0, 0);
    payload.writeUInt32BE(code, 4);
    this.frame(GOAWAY, 0, 0, payload);
    this.flush();
    this.fail(new H2Error(`${this.authority}: protocol error: ${message}`, false));
  }

  private fail(err: H2Error): void {
    if (this.failure) return;
    this.failure = err;
    this.closed = true;
    this.closing = true;
    const open = [...this.streams.values()];
    this.streams.clear();
    this.blocked = [];
    for (const s of open) s.done(err);
    if (!this.socket.destroyed) this.socket.destroy();
    this.onGone?.();
  }
}

function unpad(p: Buffer): Buffer {
  const padLen = p[0] ?? 0;
  return p.subarray(1, p.length - padLen);
}
